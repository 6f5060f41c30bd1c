"""build-dataset: chunk rows joined with local videos, splits, skips, re-runs, loading."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import numpy as np
import pytest

from nitrogen_hf.data.build import BuildConfig, build_dataset, overlay_box, split_of
from nitrogen_hf.data.hub_dataset import CHUNK_FEATURES, data_files, load_chunk_dataset
from nitrogen_hf.data.metadata import MetadataError
from nitrogen_hf.data.video import video_frame_indices

# Video frame of each usable chunk's first step (start_time x video fps).
EXPECTED_START_FRAME = {
    "vid_ok_a_chunk_0000_actions": 0,
    "vid_ok_a_chunk_0001_actions": 30,
    "vid_ok_a_chunk_0002_actions": 60,
    "vid_ok_b_chunk_0000_actions": 30,  # 0.5 s at 60 fps
    "vid_ok_b_chunk_0001_actions": 90,  # 1.5 s at 60 fps, a 30 fps pseudo-labelled chunk
}


def _all_rows(out: Path) -> dict[str, tuple[str, dict]]:
    loaded = datasets.load_dataset(str(out), streaming=True)
    return {row["uuid"]: (split, row) for split, rows in loaded.items() for row in rows}


def test_streaming_load_reads_every_usable_chunk_with_its_values(hub_corpus, hub_built, hub_kit):
    out, _ = hub_built
    rows = _all_rows(out)
    assert set(rows) == set(hub_corpus.usable()) == set(EXPECTED_START_FRAME)
    for uuid, (_, row) in rows.items():
        spec = hub_corpus.chunks[uuid]
        meta = spec.metadata
        assert row["video_id"] == meta.video_id
        assert Path(row["video_path"]) == (hub_corpus.videos / spec.video).resolve()
        assert (row["start_time"], row["end_time"]) == (
            meta.original_video.start_time,
            meta.original_video.end_time,
        )
        assert row["fps"] == meta.fps
        assert row["video_fps"] == (60.0 if meta.video_id == "vid_ok_b" else 30.0)
        assert row["start_frame"] == EXPECTED_START_FRAME[uuid]
        assert row["num_frames"] == meta.chunk_size
        assert (row["game"], row["controller_type"], row["source"]) == (
            meta.game,
            "xboxone",
            "youtube",
        )
        assert row["overlay_box"] == (
            list(hub_kit.OVERLAY_BOX) if meta.bbox_controller_overlay else None
        )
        assert row["resolution"] == [hub_kit.HEIGHT, hub_kit.WIDTH]
        assert row["game_area"] == meta.bbox_game_area
        np.testing.assert_array_equal(np.asarray(row["buttons"], np.uint8), spec.actions.buttons)
        np.testing.assert_allclose(np.asarray(row["sticks"], np.float32), spec.actions.sticks)
        np.testing.assert_array_equal(row["observed"], spec.actions.observed)
        if spec.confidence is None:
            assert row["label_source"] == "overlay" and row["confidence"] is None
            assert json.loads(row["provenance"]) == {}
        else:
            assert row["label_source"] == "idm"
            assert json.loads(row["provenance"]) == {"idm_checkpoint": "ckpt-7", "filter": "idle"}
            np.testing.assert_allclose(row["confidence"], spec.confidence)
        if spec.identifiable is None:
            assert row["identifiable"] is None
        else:  # probed frames as 25 bools, the others null
            for frame, mask in zip(row["identifiable"], spec.identifiable, strict=True):
                assert (frame is None) == (mask[0] < 0)
                assert frame is None or frame == (mask > 0).tolist()


def test_parquet_data_files_load_with_the_declared_features(hub_built):
    out, summary = hub_built
    files = data_files(out)
    assert set(files) == {"train", "validation"}
    loaded = datasets.load_dataset("parquet", data_files=files, streaming=True)
    for split, rows in loaded.items():
        assert rows.features == CHUNK_FEATURES
        assert sum(1 for _ in rows) == summary["splits"][split]["chunks"]
    names = sorted(Path(f).name for f in files["train"])
    assert names == [f"train-{i:05d}-of-{len(names):05d}.parquet" for i in range(len(names))]


def test_validation_split_is_by_video(hub_built):
    out, summary = hub_built
    splits_of_video: dict[str, set[str]] = {}
    for split, row in _all_rows(out).values():
        splits_of_video.setdefault(row["video_id"], set()).add(split)
    assert splits_of_video == {v: {split_of(v, 0.25)} for v in splits_of_video}
    assert {split for (split,) in splits_of_video.values()} == {"train", "validation"}
    assert (
        summary["splits"]["validation"]["chunks"] == 3 and summary["splits"]["train"]["chunks"] == 2
    )


def test_broken_videos_are_skipped_and_counted_by_kind(hub_built):
    out, summary = hub_built
    assert summary["skipped"]["by_kind"] == {
        "missing_video": 1,
        "unreadable_video": 1,
        "video_too_short": 1,
    }
    items = {item["kind"]: item for item in summary["skipped"]["items"]}
    assert "vid_missing/vid_missing_chunk_0000" in items["missing_video"]["path"]
    assert "vid_bad.mp4" in items["unreadable_video"]["message"]
    assert "has 20" in items["video_too_short"]["message"]
    assert summary["chunks"] == 5 and summary["games"] == {"alpha": 3, "beta": 2}
    assert summary["hours"] == pytest.approx(4.5 / 3600, abs=1e-6)  # 3 x 1 s + 1 s + 0.5 s
    assert json.loads((out / "build_summary.json").read_text()) == summary


def test_rebuild_replaces_the_previous_output(hub_corpus, tmp_path):
    first = BuildConfig(
        hub_corpus.actions,
        hub_corpus.videos,
        tmp_path,
        validation_fraction=0.25,
        rows_per_shard=1,
        progress=False,
    )
    build_dataset(first)
    assert len(list((tmp_path / "data").glob("*.parquet"))) == 5
    second = BuildConfig(
        hub_corpus.actions, hub_corpus.videos, tmp_path, rows_per_shard=10, progress=False
    )
    summary = build_dataset(second)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["train-00000-of-00001.parquet"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert "validation" not in (tmp_path / "README.md").read_text()
    assert summary["splits"]["train"]["chunks"] == 5
    assert sum(1 for _ in load_chunk_dataset(tmp_path)) == 5


def test_load_chunk_dataset_repoints_video_paths(hub_corpus, hub_built, tmp_path):
    out, _ = hub_built
    mine = tmp_path / "my_videos" / "nested"
    mine.mkdir(parents=True)
    shutil.copy(hub_corpus.videos / "vid_ok_a.mp4", mine / "vid_ok_a.mp4")
    rows = list(load_chunk_dataset(out, split="validation", videos_dir=tmp_path / "my_videos"))
    assert {row["video_path"] for row in rows} == {str((mine / "vid_ok_a.mp4").resolve())}
    rows = list(load_chunk_dataset(out, split="train", videos_dir=tmp_path / "my_videos"))
    assert [row["video_path"] for row in rows] == [None, None]  # vid_ok_b not downloaded here
    assert rows[0]["buttons"]  # other columns untouched


def test_cli_build_dataset(hub_corpus, tmp_path, capsys, hub_kit):
    from nitrogen_hf.cli import main

    videos = tmp_path / "videos"
    hub_kit.make_video(videos / "vid_ok_a.mp4", 90, 30)
    code = main(
        [
            "build-dataset",
            "--actions",
            str(hub_corpus.actions[0]),
            "--videos",
            str(videos),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["splits"]["train"]["chunks"] == 3
    assert summary["skipped"]["by_kind"] == {"missing_video": 4}


def test_split_of_is_stable_and_proportional():
    ids = [f"video_{i}" for i in range(2000)]
    assert all(split_of(v, 0.0) == "train" for v in ids)
    validation = [v for v in ids if split_of(v, 0.2) == "validation"]
    assert 0.15 < len(validation) / len(ids) < 0.25
    assert validation == [v for v in ids if split_of(v, 0.2) == "validation"]
    assert set(validation) <= {v for v in ids if split_of(v, 0.3) == "validation"}  # nested


def test_video_frame_indices_and_overlay_box(hub_kit):
    np.testing.assert_array_equal(video_frame_indices(1.5, [0, 1, 14], 30.0, 60.0), [90, 92, 118])
    np.testing.assert_array_equal(video_frame_indices(5 / 30, [0, 1, 2], 30.0, 30.0), [5, 6, 7])
    meta = hub_kit.chunk_metadata("v", 0, 0.0, 1.0, 30, overlay=(60.5, -4, 10, 10))
    assert overlay_box(meta, (48, 64)) == [60, 0, 4, 6]
    # Nothing left inside a 60 px wide frame: a wrong box or resolution, said (issue 14).
    with pytest.raises(MetadataError, match="lies outside the"):
        overlay_box(meta, (48, 60))


def test_build_config_rejects_bad_fraction(tmp_path):
    with pytest.raises(ValueError, match="validation_fraction"):
        BuildConfig([tmp_path], tmp_path, tmp_path, validation_fraction=1.0)


def test_build_from_the_public_layout_shard(nitrogen_fixture, tmp_path):
    """The hand-written shard with the released format's flaws: bad chunks and videos skipped."""
    config = BuildConfig(
        [nitrogen_fixture.shard], nitrogen_fixture.videos, tmp_path, progress=False
    )
    summary = build_dataset(config)
    expected = {**nitrogen_fixture.expected_errors, **nitrogen_fixture.expected_video_errors}
    assert summary["skipped"]["by_kind"] == expected
    rows = {row["uuid"]: row for row in load_chunk_dataset(tmp_path)}
    assert set(rows) == {
        "vid30_chunk_0000_actions",
        "vid30_chunk_0001_actions",
        "vid60_chunk_0000_actions",
    }
    assert rows["vid30_chunk_0001_actions"]["overlay_box"] == [40, 30, 24, 18]  # clipped to 64x48
    assert rows["vid30_chunk_0001_actions"]["start_frame"] == 30
    assert (
        rows["vid60_chunk_0000_actions"]["fps"],
        rows["vid60_chunk_0000_actions"]["overlay_box"],
    ) == (60.0, None)
