"""Fixtures for the labeler: a tiny fixed-seed IDM and short sprite-game videos.

The IDM is random (no training) with its output layer scaled up so every button probability
sits far from 0.5: labels then do not flip with float noise between thread counts or batch
shapes, and tests can demand exact equality of labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nitrogen_hf.actions import ATARI_OBSERVED
from nitrogen_hf.data.video_writer import write_mp4
from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig

from helpers import sprite_game

TINY_IDM_THRESHOLD = 0.2  # stands in for a calibrated confidence_threshold


def save_tiny_idm(folder: Path, confidence_threshold: float | None = TINY_IDM_THRESHOLD) -> Path:
    torch.manual_seed(0)
    config = NitroGenIDMConfig(
        num_frames=4,
        frame_size=(24, 24),
        cnn_channels=(8, 16),
        stem_stride=4,  # the architecture these tests were written against
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        stick_bins=5,
        dropout=0.0,
        trained_dims=ATARI_OBSERVED.tolist(),
        confidence_threshold=confidence_threshold,
    )
    model = NitroGenIDM(config).eval()
    with torch.no_grad():
        model.head[-1].weight.mul_(30.0)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_idm(tmp_path_factory) -> Path:
    return save_tiny_idm(tmp_path_factory.mktemp("tiny_idm"))


@pytest.fixture(scope="session")
def make_tiny_idm():
    """`save_tiny_idm(folder, confidence_threshold=...)`, for tests that need a variant."""
    return save_tiny_idm


def chunk_contents(out: Path) -> dict[str, tuple]:
    """Chunk folder -> (actions table, metadata without the labeling time) of a label OUT."""
    import pyarrow.parquet as pq

    from nitrogen_hf.data.nitrogen_reader import iter_chunks

    contents = {}
    for chunk in iter_chunks(Path(out) / "actions"):
        table = pq.read_table(Path(out) / "actions" / chunk.name / "actions_processed.parquet")
        meta = chunk.metadata.to_json()
        meta.pop("labeled_at")
        contents[chunk.name] = (table.to_pydict(), meta)
    return contents


def assert_same_labels(out: Path, expected: Path) -> None:
    """Same chunk set, same actions and metadata; confidences equal up to float noise (other
    thread counts or batch shapes may change the last bits, never a thresholded label)."""
    got, want = chunk_contents(out), chunk_contents(expected)
    assert sorted(got) == sorted(want)
    for name, (table, meta) in want.items():
        got_table, got_meta = got[name]
        confidence = np.asarray(table.pop("confidence"))
        np.testing.assert_allclose(got_table.pop("confidence"), confidence, atol=1e-5)
        assert got_table == table, name
        mean = meta.pop("mean_confidence")
        assert got_meta.pop("mean_confidence") == pytest.approx(mean, abs=1e-5)
        assert got_meta == meta, name


@pytest.fixture(scope="session")
def read_chunks():
    """`chunk_contents(out)`: compare two labeling outputs exactly."""
    return chunk_contents


@pytest.fixture(scope="session")
def same_labels():
    """`assert_same_labels(out, expected)`."""
    return assert_same_labels


def sprite_with_pause(num_frames: int, pause: int, seed: int) -> np.ndarray:
    """Sprite-game frames with the picture frozen for `pause` frames in the middle (a menu)."""
    frames, _ = sprite_game(num_frames, seed=seed)
    middle = num_frames // 2
    return np.concatenate(
        [frames[:middle], np.repeat(frames[middle : middle + 1], pause, 0), frames[middle:]]
    )


@pytest.fixture(scope="session")
def sprite_videos(tmp_path_factory) -> Path:
    """Three 30 fps videos; the second holds a 3 s still picture."""
    folder = tmp_path_factory.mktemp("videos")
    write_mp4(folder / "sprite-a.mp4", sprite_game(150, seed=0)[0], fps=30)
    write_mp4(folder / "sprite-b.mp4", sprite_with_pause(120, 90, seed=1), fps=30)
    write_mp4(folder / "sprite-c.mp4", sprite_game(100, seed=2)[0], fps=30)
    return folder
