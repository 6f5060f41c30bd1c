"""Training windows: layouts, values, masking, skips, and sharding over ranks x workers."""

from __future__ import annotations

from collections import Counter

import datasets
import numpy as np
import pytest
import torch

from nitrogen_hf.data.build import BuildConfig, build_dataset
from nitrogen_hf.data.frames import prepare_frames
from nitrogen_hf.data.hub_dataset import load_chunk_dataset
from nitrogen_hf.data.nitrogen_writer import write_chunk
from nitrogen_hf.data.video import open_video
from nitrogen_hf.data.windows import (
    WindowConfig,
    WindowDataset,
    interleave,
    window_loader,
    window_starts,
)

SMALL = (24, 32)  # model-input size for tests: half the 48x64 videos


def _samples(out, split, config, **load):
    return list(WindowDataset(load_chunk_dataset(out, split=split, **load), config))


def _chunk_step(sample, corpus) -> int:
    """Chunk step of a sample's first frame, from its video frame."""
    meta = corpus.chunks[sample["uuid"]].metadata
    video_fps = 60 if meta.video_id == "vid_ok_b" else 30
    first = round(meta.original_video.start_time * video_fps)
    return round((sample["start_frame"] - first) * meta.fps / video_fps)


def _source_width(corpus, kit, uuid) -> int:
    area = corpus.chunks[uuid].metadata.bbox_game_area
    return kit.WIDTH if area is None else round(area["xbr"] * kit.WIDTH)


# --- pure helpers ---------------------------------------------------------------------------------
def test_window_starts_keep_frames_and_actions_inside_the_chunk():
    assert window_starts(30, WindowConfig.idm(2)) == range(0, 29)
    assert window_starts(30, WindowConfig.idm(4, stride=5)) == range(0, 27, 5)
    policy = WindowConfig.policy(context_frames=3, horizon=4)
    assert (policy.num_frames, policy.num_actions, policy.action_offset) == (3, 4, 2)
    assert window_starts(30, policy) == range(0, 25)  # actions 2..5 of the start, last at 29
    assert window_starts(3, WindowConfig.idm(4)) == range(0, 0)
    with pytest.raises(ValueError, match="num_actions"):
        WindowConfig.idm(1)


def test_interleave_mixes_groups_and_keeps_every_item():
    groups = [[(g, i) for i in range(20)] for g in range(6)]
    mixed = list(interleave(groups, 3, np.random.default_rng(0)))
    assert sorted(mixed) == sorted(item for group in groups for item in group)
    assert len({g for g, _ in mixed[:10]}) == 3  # the first items already come from 3 groups
    assert [i for g, i in mixed if g == 0] != list(range(20))  # a group's order is shuffled
    assert mixed == list(interleave(groups, 3, np.random.default_rng(0)))
    assert list(interleave([[], [1]], 4, np.random.default_rng(0))) == [1]


# --- values ---------------------------------------------------------------------------------------
def test_idm_t2_windows_hold_consecutive_frames_and_the_transition_action(
    hub_built, hub_corpus, hub_kit
):
    out, _ = hub_built
    samples = _samples(out, "validation", WindowConfig.idm(2, frame_size=SMALL, shuffle=False))
    assert Counter(s["uuid"] for s in samples) == {
        f"vid_ok_a_chunk_{i:04d}_actions": 29 for i in range(3)
    }
    for s in samples:
        spec, step = hub_corpus.chunks[s["uuid"]], _chunk_step(s, hub_corpus)
        assert s["frames"].shape == (2, 3, *SMALL) and s["frames"].dtype == torch.uint8
        assert hub_kit.frame_index_of(s["frames"]).tolist() == [
            s["start_frame"],
            s["start_frame"] + 1,
        ]
        np.testing.assert_array_equal(
            s["actions"].numpy(), spec.actions.to_vector()[step : step + 1]
        )
        assert s["actions"].dtype == torch.float32 and s["actions"].shape == (1, 25)
        assert torch.equal(s["observed"], torch.from_numpy(spec.actions.observed))
        assert torch.equal(s["confidence"], torch.ones(1))
        assert (s["game"], s["label_source"], s["video_id"]) == ("alpha", "overlay", "vid_ok_a")


def test_longer_windows_follow_the_chunk_rate_on_a_faster_video(hub_built, hub_corpus, hub_kit):
    out, _ = hub_built
    samples = _samples(out, "train", WindowConfig.idm(4, frame_size=SMALL, stride=3, shuffle=False))
    by_chunk = Counter(s["uuid"] for s in samples)
    assert by_chunk == {"vid_ok_b_chunk_0000_actions": 19, "vid_ok_b_chunk_0001_actions": 4}
    for s in samples:
        spec, step = hub_corpus.chunks[s["uuid"]], _chunk_step(s, hub_corpus)
        video_step = 60 // int(spec.metadata.fps)  # 1 for the 60 fps chunk, 2 for the 30 fps one
        expected = [s["start_frame"] + video_step * k for k in range(4)]
        assert (
            hub_kit.frame_index_of(
                s["frames"], _source_width(hub_corpus, hub_kit, s["uuid"])
            ).tolist()
            == expected
        )
        np.testing.assert_array_equal(
            s["actions"].numpy(), spec.actions.to_vector()[step : step + 3]
        )
        if spec.confidence is not None:
            assert s["label_source"] == "idm"
            np.testing.assert_array_equal(s["confidence"].numpy(), spec.confidence[step : step + 3])


def test_policy_windows_take_actions_from_the_last_context_frame(hub_built, hub_corpus, hub_kit):
    out, _ = hub_built
    config = WindowConfig.policy(context_frames=3, horizon=4, frame_size=SMALL, shuffle=False)
    samples = _samples(out, "validation", config)
    assert len(samples) == 3 * 25
    for s in samples:
        step = _chunk_step(s, hub_corpus)
        assert s["frames"].shape == (3, 3, *SMALL) and s["actions"].shape == (4, 25)
        assert hub_kit.frame_index_of(s["frames"]).tolist() == [
            s["start_frame"] + k for k in range(3)
        ]
        vectors = hub_corpus.chunks[s["uuid"]].actions.to_vector()
        np.testing.assert_array_equal(s["actions"].numpy(), vectors[step + 2 : step + 6])


def test_frames_are_the_prepared_decoded_frames(hub_built, hub_corpus):
    out, _ = hub_built
    config = WindowConfig.idm(3, frame_size=(20, 30), stride=7, shuffle=False)
    for split in ("train", "validation"):
        rows = {r["uuid"]: r for r in load_chunk_dataset(out, split=split)}
        for s in _samples(out, split, config):
            row = rows[s["uuid"]]
            with open_video(row["video_path"]) as reader:
                step = round(reader.fps / row["fps"])
                raw = reader.get_frames([s["start_frame"] + step * k for k in range(3)])
            expected = prepare_frames(
                raw, (20, 30), row["overlay_box"], row["resolution"], row["game_area"]
            )
            assert torch.equal(s["frames"], expected)


def test_overlay_content_cannot_reach_the_model_input(hub_built, hub_corpus, hub_kit, tmp_path):
    """Two copies of a video differing only inside the overlay box give identical inputs.

    Even lossless H.264 (yuv420p) bleeds the box's colours 2 px outside it through chroma
    filtering, so the margin must cover 2 px: 0.05 of these 48 px frames (the default 0.02
    covers it from 100 px up). Without any margin the inputs differ: the test can fail.
    """
    out, _ = hub_built
    zeros = tmp_path / "zeros"
    hub_kit.make_video(zeros / "vid_ok_a.mp4", 90, 30, overlay="zeros")
    noisy_raw = open_video(hub_corpus.videos / "vid_ok_a.mp4").get_frames(range(90))
    clean_raw = open_video(zeros / "vid_ok_a.mp4").get_frames(range(90))
    x, y, w, h = hub_kit.OVERLAY_BOX
    assert not torch.equal(
        noisy_raw[..., y : y + h, x : x + w], clean_raw[..., y : y + h, x : x + w]
    )
    for size in [SMALL, (48, 64), (37, 50)]:
        config = WindowConfig.idm(2, frame_size=size, mask_margin=0.05, shuffle=False)
        noisy = _samples(out, "validation", config)
        clean = _samples(out, "validation", config, videos_dir=zeros)
        assert len(noisy) == len(clean) == 87
        for a, b in zip(noisy, clean, strict=True):
            assert (a["uuid"], a["start_frame"]) == (b["uuid"], b["start_frame"])
            assert torch.equal(a["frames"], b["frames"])
    unmasked = WindowConfig.idm(2, frame_size=SMALL, mask_margin=0.0, shuffle=False, stride=10)
    noisy = _samples(out, "validation", unmasked)
    clean = _samples(out, "validation", unmasked, videos_dir=zeros)
    assert any(not torch.equal(a["frames"], b["frames"]) for a, b in zip(noisy, clean, strict=True))


def test_collate_batches_the_samples(hub_built):
    out, _ = hub_built
    dataset = WindowDataset(
        load_chunk_dataset(out, split="validation"), WindowConfig.idm(2, frame_size=SMALL)
    )
    batch = next(iter(window_loader(dataset, batch_size=4)))
    assert batch["frames"].shape == (4, 2, 3, *SMALL) and batch["frames"].dtype == torch.uint8
    assert batch["actions"].shape == (4, 1, 25) and batch["actions"].dtype == torch.float32
    assert batch["observed"].shape == (4, 25) and batch["observed"].dtype == torch.bool
    assert batch["confidence"].shape == (4, 1)
    assert batch["start_frame"].dtype == torch.int64 and batch["start_frame"].shape == (4,)
    assert batch["game"] == ["alpha"] * 4 and len(batch["video_id"]) == 4


# --- failures at read time ------------------------------------------------------------------------
def test_chunks_whose_video_fails_are_skipped_and_counted(
    hub_built, hub_corpus, hub_kit, tmp_path, caplog
):
    out, _ = hub_built
    mine = tmp_path / "mine"
    hub_kit.make_video(mine / "vid_ok_a.mp4", 40, 30)  # only chunk 0 (frames 0..29) fits
    (mine / "vid_ok_b.mp4").write_bytes((hub_corpus.videos / "vid_ok_b.mp4").read_bytes()[:2000])
    config = WindowConfig.idm(2, frame_size=SMALL, shuffle=False)
    short = WindowDataset(load_chunk_dataset(out, split="validation", videos_dir=mine), config)
    assert {s["uuid"] for s in short} == {"vid_ok_a_chunk_0000_actions"}
    assert short.skipped == {"video_too_short": 2}
    broken = WindowDataset(load_chunk_dataset(out, split="train", videos_dir=mine), config)
    assert list(broken) == [] and broken.skipped == {"unreadable_video": 2}
    (tmp_path / "empty").mkdir()
    missing = WindowDataset(
        load_chunk_dataset(out, split="train", videos_dir=tmp_path / "empty"), config
    )
    assert list(missing) == [] and missing.skipped == {"missing_video": 2}
    assert "skipped chunk vid_ok_b_chunk_0000_actions: missing_video" in caplog.text


# --- sharding -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def eight_chunks(tmp_path_factory, hub_kit):
    """One 30 fps video cut into 8 chunks of 10 steps, as actions roots + videos."""
    root = tmp_path_factory.mktemp("eight")
    hub_kit.make_video(root / "videos" / "vid_ok_s.mp4", 80, 30)
    for i in range(8):
        meta = hub_kit.chunk_metadata("vid_ok_s", i, i / 3, (i + 1) / 3, 10)
        write_chunk(root / "actions", meta, hub_kit.random_actions(10, 100 + i))
    return root


@pytest.mark.parametrize("rows_per_shard", [2, 3])  # 4 files: split by file; 3 files: by row
def test_two_ranks_two_workers_see_every_window_exactly_once(
    eight_chunks, tmp_path, rows_per_shard
):
    config = BuildConfig(
        [eight_chunks / "actions"],
        eight_chunks / "videos",
        tmp_path,
        rows_per_shard=rows_per_shard,
        progress=False,
    )
    build_dataset(config)
    chunks = load_chunk_dataset(tmp_path)
    windows = WindowConfig.idm(
        2, frame_size=(12, 16), stride=2, shuffle_buffer=4, chunks_in_flight=2
    )
    expected = [
        (s["uuid"], s["start_frame"]) for s in WindowDataset(chunks, windows, rank=0, world_size=1)
    ]
    assert len(expected) == len(set(expected)) == 8 * 5

    per_rank = []
    for rank in range(2):
        dataset = WindowDataset(chunks, windows, rank=rank, world_size=2)
        dataset.set_epoch(3)
        loader = window_loader(dataset, batch_size=3, num_workers=2, persistent_workers=False)
        per_rank.append(
            [
                key
                for batch in loader
                for key in zip(batch["uuid"], batch["start_frame"].tolist(), strict=True)
            ]
        )
    seen = per_rank[0] + per_rank[1]
    assert len(seen) == len(set(seen)) == len(expected), "a window was seen twice or lost"
    assert set(seen) == set(expected)
    assert all(per_rank) and not set(per_rank[0]) & set(per_rank[1])
    chunks_per_rank = [{uuid for uuid, _ in keys} for keys in per_rank]
    assert not chunks_per_rank[0] & chunks_per_rank[1], "a chunk was split across ranks"


def test_set_epoch_reshuffles_the_same_windows(eight_chunks, tmp_path):
    build_dataset(
        BuildConfig(
            [eight_chunks / "actions"],
            eight_chunks / "videos",
            tmp_path,
            rows_per_shard=2,
            progress=False,
        )
    )
    dataset = WindowDataset(
        load_chunk_dataset(tmp_path),
        WindowConfig.idm(2, frame_size=(12, 16), stride=2, chunks_in_flight=3),
    )
    orders = []
    for epoch in (0, 1, 0):
        dataset.set_epoch(epoch)
        orders.append([(s["uuid"], s["start_frame"]) for s in dataset])
    assert orders[0] == orders[2] != orders[1]
    assert sorted(orders[0]) == sorted(orders[1])


def test_rank_defaults_and_validation():
    dataset = WindowDataset(datasets.Dataset.from_dict({"a": [1]}))
    assert dataset.stream_index() == (0, 1)
    with pytest.raises(ValueError, match="rank"):
        WindowDataset(dataset.chunks, rank=2, world_size=2)


def test_a_process_group_started_after_construction_still_splits_by_rank(eight_chunks, tmp_path):
    import json

    import torch.multiprocessing as mp

    from helpers import iterate_in_process_group

    build_dataset(
        BuildConfig(
            [eight_chunks / "actions"], eight_chunks / "videos", tmp_path / "ds", progress=False
        )
    )
    mp.spawn(iterate_in_process_group, args=(str(tmp_path / "ds"), str(tmp_path)), nprocs=2)
    per_rank = [
        {tuple(k) for k in json.loads((tmp_path / f"rank{r}.json").read_text())} for r in range(2)
    ]
    assert per_rank[0] and per_rank[1] and not per_rank[0] & per_rank[1]
    assert len(per_rank[0] | per_rank[1]) == 8 * 5
