"""`nitrogen-hf label` end to end on tiny videos: layout, provenance, report, re-runs, bad input,
and the round trip through `build-dataset` next to ground-truth chunks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nitrogen_hf.actions import ATARI_ACTIONS, ATARI_OBSERVED, AtariActionMap
from nitrogen_hf.cli import main
from nitrogen_hf.data.metadata import ChunkMetadata, OriginalVideo
from nitrogen_hf.data.nitrogen_reader import iter_chunks
from nitrogen_hf.data.nitrogen_writer import write_chunk
from nitrogen_hf.data.video_writer import write_mp4
from nitrogen_hf.labeling.config import LabelConfig
from nitrogen_hf.labeling.filters import FilterConfig
from nitrogen_hf.labeling.pipeline import find_videos, label_videos
from nitrogen_hf.labeling.provenance import file_sha256

from helpers import sprite_game

# Short chunks so 3-5 s test videos make several; the real default is 20 s.
SMALL = ["--chunk-seconds", "2", "--min-chunk-seconds", "0.5", "--no-progress"]


def run_label(model, videos, out, *extra) -> dict:
    assert (
        main(
            [
                "label",
                "--model",
                str(model),
                "--videos",
                str(videos),
                "--out",
                str(out),
                *SMALL,
                *extra,
            ]
        )
        == 0
    )
    return json.loads((Path(out) / "label_report.json").read_text())


@pytest.fixture(scope="module")
def labeled(tiny_idm, sprite_videos, tmp_path_factory):
    out = tmp_path_factory.mktemp("labeled")
    return run_label(tiny_idm, sprite_videos, out, "--game", "sprite"), out


def test_chunks_follow_the_nitrogen_layout_with_provenance(labeled, tiny_idm):
    report, out = labeled
    chunks = list(iter_chunks(out / "actions"))
    assert {c.video_id for c in chunks} == {"sprite-a", "sprite-b", "sprite-c"}
    a = sorted((c for c in chunks if c.video_id == "sprite-a"), key=lambda c: c.name)
    # 150 frames = 149 labels: chunks of 60 from the start, the 29-frame tail kept (>= 15).
    assert [c.num_frames for c in a] == [60, 60, 29]
    assert [c.metadata.original_video.start_time for c in a] == [0.0, 2.0, 4.0]
    assert a[1].metadata.original_video.start_frame == 60 and a[1].metadata.fps == 30.0
    meta = a[0].metadata
    assert meta.game == "sprite" and meta.original_video.resolution == (48, 48)
    assert meta.bbox_controller_overlay is None
    extra = meta.extra
    assert extra["label_source"] == "pseudo"
    assert extra["idm_sha256"] == file_sha256(tiny_idm / "model.safetensors")
    assert extra["label_thresholds"]["min_confidence"] == 0.2
    assert extra["label_thresholds"]["min_confidence_source"] == "calibrated"
    assert extra["labeler_version"].endswith("+labeler1") and extra["labeled_at"]
    assert extra["mean_confidence"] == pytest.approx(float(a[0].confidence.mean()), abs=1e-5)
    # Only the dims the IDM was trained on are written (and so observed).
    assert a[0].actions.observed.tolist() == ATARI_OBSERVED.tolist()
    assert a[0].confidence.dtype == np.float32 and len(a[0].confidence) == 60


def test_report_accounts_for_every_frame_once(labeled):
    report, out = labeled
    dropped = report["hours_dropped"]
    assert report["hours_in"] == pytest.approx(
        report["hours_kept"] + sum(dropped.values()), abs=1e-5
    )
    assert report["hours_in"] == pytest.approx((150 + 210 + 100) / 30 / 3600, abs=1e-5)
    # The 3 s still picture in sprite-b is dropped as static (give or take the smoothing).
    assert dropped["static"] * 3600 == pytest.approx(3.0, abs=0.35)
    assert dropped["end_of_video"] * 3600 == pytest.approx(3 / 30)
    assert report["drop_precedence"][:4] == ["end_of_video", "static", "idle", "low_confidence"]
    assert report["videos"] == {"total": 3, "labeled_now": 3, "already_done": 0, "failed": 0}
    assert report["chunks_written"] == len(list(iter_chunks(out / "actions")))
    marker = json.loads((out / "labeled" / "sprite-b.json").read_text())
    assert any(reason == "static" for _, _, reason in marker["spans"])
    assert marker["chunks"] and all((out / "actions" / c).is_dir() for c in marker["chunks"])


def test_a_rerun_skips_finished_videos_and_new_settings_relabel(
    labeled, tiny_idm, sprite_videos, tmp_path, read_chunks
):
    _, first = labeled
    out = tmp_path / "out"
    shutil.copytree(first, out)
    before = read_chunks(out)
    again = run_label(tiny_idm, sprite_videos, out, "--game", "sprite")
    assert again["videos"]["already_done"] == 3 and again["videos"]["labeled_now"] == 0
    assert again["hours_kept"] == pytest.approx(
        json.loads((first / "label_report.json").read_text())["hours_kept"]
    )
    assert read_chunks(out) == before
    # A stricter filter changes the settings key: everything is labeled again, chunks replaced.
    strict = run_label(
        tiny_idm, sprite_videos, out, "--game", "sprite", "--min-confidence", "0.999"
    )
    assert strict["videos"]["labeled_now"] == 3
    assert strict["hours_dropped"]["low_confidence"] > 0
    assert strict["chunks_written"] == len(list(iter_chunks(out / "actions")))
    assert not any(p.name.startswith(".") for p in (out / "actions").iterdir())


def test_corrupt_and_unreadable_videos_are_listed_and_the_rest_continues(
    tiny_idm, sprite_videos, tmp_path
):
    videos = tmp_path / "videos"
    shutil.copytree(sprite_videos, videos)
    (videos / "garbage.mp4").write_bytes(b"\x00not a video" * 500)
    full = (videos / "sprite-a.mp4").read_bytes()
    (videos / "truncated.mp4").write_bytes(full[: len(full) // 2])
    (videos / "notes.txt").write_text("not a video extension: ignored")
    report = run_label(tiny_idm, videos, tmp_path / "out")
    assert report["videos"] == {"total": 5, "labeled_now": 3, "already_done": 0, "failed": 2}
    failed = {v["video_id"]: v for v in report["per_video"] if v["status"] == "failed"}
    assert set(failed) == {"garbage", "truncated"}
    assert all(
        v["reason"] == "unreadable_video" and v["video_id"] in v["message"] for v in failed.values()
    )
    assert report["skipped"]["by_kind"] == {"unreadable_video": 2}
    assert not (tmp_path / "out" / "labeled" / "garbage.json").exists()  # retried next run


def test_find_videos_reads_folders_files_and_globs_once_per_id(sprite_videos, tmp_path):
    from nitrogen_hf.data.skips import SkipLog

    other = tmp_path / "more"
    other.mkdir()
    shutil.copy(sprite_videos / "sprite-a.mp4", other / "sprite-a.mkv")
    (other / ".partial.mp4").write_bytes(b"")
    skips = SkipLog(quiet=True)
    found = find_videos([sprite_videos, str(other / "*.mkv"), tmp_path / "missing"], skips)
    assert [p.name for p in found] == ["sprite-a.mp4", "sprite-b.mp4", "sprite-c.mp4"]
    assert skips.counts() == {"no_video_found": 1, "duplicate_video_id": 1}


def test_without_a_calibrated_threshold_the_fallback_is_used_and_recorded(
    make_tiny_idm, sprite_videos, tmp_path
):
    model = make_tiny_idm(tmp_path / "uncalibrated", confidence_threshold=None)
    report = label_videos(
        LabelConfig(
            model=str(model),
            videos=[sprite_videos / "sprite-c.mp4"],
            out=tmp_path / "out",
            progress=False,
        )
    )
    assert report["min_confidence_source"] == "fallback"
    assert report["settings"]["filters"]["min_confidence"] == 0.5


def _ground_truth_video(root: Path) -> None:
    """A sprite video with true labels in the recorder's ground_truth layout."""
    frames, env_actions = sprite_game(90, seed=9)
    write_mp4(root / "videos" / "truth.mp4", frames, fps=30)
    actions = AtariActionMap(ATARI_ACTIONS).to_gamepad(env_actions)
    video = OriginalVideo(
        "truth", 0.0, 3.0, source="ale", fps=30, resolution=(48, 48), start_frame=0
    )
    meta = ChunkMetadata(
        "truth_chunk_0000_actions",
        "0000",
        90,
        video,
        game="sprite",
        extra={"label_source": "ground_truth"},
    )
    write_chunk(root / "ground_truth", meta, actions)


def test_pseudo_labels_and_ground_truth_mix_in_one_dataset(labeled, sprite_videos, tmp_path):
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.data.windows import WindowConfig, WindowDataset

    _, out = labeled
    videos = tmp_path / "videos"
    shutil.copytree(sprite_videos, videos)
    _ground_truth_video(tmp_path)  # its video lands in the same folder
    argv = ["build-dataset", "--actions", str(out / "actions"), str(tmp_path / "ground_truth")]
    assert main([*argv, "--videos", str(videos), "--out", str(tmp_path / "ds")]) == 0
    rows = list(load_chunk_dataset(tmp_path / "ds", streaming=False))
    pseudo = {r["uuid"]: r for r in rows if r["label_source"] == "pseudo"}
    truth = [r for r in rows if r["label_source"] == "ground_truth"]
    written = {c.metadata.uuid: c for c in iter_chunks(out / "actions")}
    assert set(pseudo) == set(written) and len(truth) == 1
    for uuid, row in pseudo.items():
        np.testing.assert_allclose(row["confidence"], written[uuid].confidence, rtol=1e-6)
        assert row["buttons"] == written[uuid].actions.buttons.tolist()
        assert (
            json.loads(row["provenance"])["idm_sha256"]
            == written[uuid].metadata.extra["idm_sha256"]
        )
    assert truth[0]["confidence"] is None
    # Training windows carry the pseudo-labels' confidence as loss weights, 1 for ground truth.
    windows = WindowDataset(
        load_chunk_dataset(tmp_path / "ds"), WindowConfig.idm(4, frame_size=(24, 24), shuffle=False)
    )
    weights = {}
    for sample in windows:
        weights.setdefault(sample["label_source"], []).append(sample["confidence"])
    assert set(weights) == {"pseudo", "ground_truth"}
    assert all((w == 1).all() for w in weights["ground_truth"])
    assert any((w < 1).any() for w in weights["pseudo"])


def test_filter_config_from_the_cli_reaches_the_chunks(tiny_idm, sprite_videos, tmp_path):
    report = run_label(
        tiny_idm, sprite_videos / "sprite-a.mp4", tmp_path / "out",
        "--idle-seconds", "0", "--static-seconds", "0", "--min-active-fraction", "0", "--min-confidence", "0",
    )  # fmt: skip
    assert report["kept_fraction"] == pytest.approx(149 / 150)
    thresholds = next(iter_chunks(tmp_path / "out" / "actions")).metadata.extra["label_thresholds"]
    assert thresholds["idle_seconds"] == 0 and thresholds["min_confidence_source"] == "flag"
    assert FilterConfig().idle_seconds == 3.0  # the default stays
