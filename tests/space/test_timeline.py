from __future__ import annotations

import numpy as np
import pytest

from nitrogen_hf.actions import ATARI_OBSERVED, NUM_BUTTONS
from nitrogen_hf.labeling.filters import REASON_CODE
from nitrogen_hf.space.timeline import (
    chunk_rows,
    label_segments,
    plot_action_chunk,
    plot_timeline,
    reason_name,
)


def test_segments_are_the_runs_of_kept_and_dropped_frames():
    reasons = np.array([0, 0, 0, 3, 3, 0, 0, 1])  # 3 = idle, 1 = end_of_video
    assert REASON_CODE["idle"] == 3 and REASON_CODE["end_of_video"] == 1
    confidence = np.array([0.5, 0.7, 0.9, 0, 0, 0.2, 0.4, 0])
    assert label_segments(reasons, confidence, fps=2.0) == [
        [0.0, 1.5, 1.5, "kept", "", pytest.approx(0.7)],
        [1.5, 2.5, 1.0, "dropped", "idle", None],
        [2.5, 3.5, 1.0, "kept", "", pytest.approx(0.3)],
        [3.5, 4.0, 0.5, "dropped", "end_of_video", None],
    ]
    assert label_segments(np.array([], int), np.array([]), 30.0) == []


def test_codes_past_the_filter_reasons_read_as_not_labeled():
    assert reason_name(0) == "kept" and reason_name(REASON_CODE["static"]) == "static"
    assert reason_name(len(REASON_CODE) + 1) == "not labeled"


def test_timeline_plot_is_a_png(tmp_path):
    n = 90
    rng = np.random.default_rng(0)
    buttons = (rng.random((n, NUM_BUTTONS)) < 0.2).astype(np.uint8)
    reasons = np.zeros(n, np.int8)
    reasons[40:60] = REASON_CODE["low_confidence"]
    path = plot_timeline(
        buttons,
        np.zeros((n, 4)),
        rng.random(n),
        reasons,
        30.0,
        ATARI_OBSERVED,
        tmp_path / "t.png",
        0.5,
    )
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_chunk_rows_name_pressed_buttons_and_rescale_sticks(tmp_path):
    vector = np.zeros((2, 25))
    vector[0, 18] = 0.9  # south
    vector[:, 21:] = [1.0, 0.5, 0.0, 0.75]
    rows = chunk_rows(vector)
    assert rows[0] == [0, "south", 1.0, 0.0, -1.0, 0.5] and rows[1][1] == "-"
    assert plot_action_chunk(vector, tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
