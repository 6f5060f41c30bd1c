"""`nitrogen-hf render`: a playable mp4 with one frame per source frame, dropped ones greyed."""

from __future__ import annotations

import numpy as np
import pytest

from nitrogen_hf.cli import main
from nitrogen_hf.data.video import open_video
from nitrogen_hf.labeling.render import (
    caption_of,
    draw_confidence_bar,
    grey_with_caption,
    load_frame_labels,
)


@pytest.fixture(scope="module")
def labeled_b(tiny_idm, sprite_videos, tmp_path_factory):
    out = tmp_path_factory.mktemp("render_labels")
    argv = ["label", "--model", str(tiny_idm), "--videos", str(sprite_videos / "sprite-b.mp4")]
    assert main([*argv, "--out", str(out), "--chunk-seconds", "2", "--no-progress"]) == 0
    return out


def _is_grey(frame: np.ndarray) -> bool:
    return bool(np.abs(frame.astype(int) - frame.mean(axis=2, keepdims=True)).max() <= 6)


def test_render_writes_every_frame_with_labels_or_the_drop_reason(
    labeled_b, sprite_videos, tmp_path
):
    video = sprite_videos / "sprite-b.mp4"
    out = tmp_path / "sprite-b_labeled.mp4"
    argv = ["render", "--video", str(video), "--labels", str(labeled_b), "--out", str(out)]
    assert main([*argv, "--scale", "2"]) == 0
    labels = load_frame_labels(labeled_b, "sprite-b", 210)
    with open_video(out) as rendered, open_video(video) as source:
        assert rendered.num_frames == source.num_frames == 210
        assert (rendered.height, rendered.width) == (96, 96)
        frames = rendered.get_frames(range(210)).permute(0, 2, 3, 1).numpy()
    kept = np.flatnonzero(labels.reasons == 0)
    static = np.flatnonzero(labels.reasons == 2)
    assert len(kept) and len(static) >= 80
    assert not _is_grey(frames[kept[10]])  # the overlay's coloured face buttons
    assert _is_grey(frames[static[40]][20:])  # below the caption's antialiased text
    assert not _is_grey(frames[-1]) or labels.reasons[-1] != 0


def test_drawing_helpers():
    frame = np.zeros((40, 100, 3), np.uint8)
    draw_confidence_bar(frame, 0.5, threshold=0.8)
    assert (frame[0, 10] == (255, 150, 30)).all() and (frame[0, 79] == 255).all()
    assert (frame[0, 60] == (30, 30, 30)).all() and (frame[5:] == 0).all()
    captioned = grey_with_caption(np.full((40, 100, 3), (200, 0, 0), np.uint8), "dropped: idle")
    assert captioned.shape == (40, 100, 3) and captioned[..., 0].max() > 200  # white text
    assert caption_of(3) == "dropped: idle"


def test_render_without_labels_names_the_missing_video(tmp_path, sprite_videos):
    with pytest.raises(FileNotFoundError, match="sprite-a"):
        load_frame_labels(tmp_path, "sprite-a", 10)
