"""Filters on constructed per-frame arrays: runs, smoothing, each rule, precedence."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from nitrogen_hf.labeling.filters import (
    FALLBACK_MIN_CONFIDENCE,
    REASON_CODE,
    FilterConfig,
    count_reasons,
    frame_reasons,
    idle_frames,
    long_runs,
    low_confidence_frames,
    moving_mean,
    moving_median,
    reason_spans,
    reasons_from_spans,
    resolve_min_confidence,
    runs,
    static_frames,
)


def test_runs_and_long_runs():
    mask = np.array([1, 1, 0, 1, 1, 1, 0, 0, 1], bool)
    assert runs(mask).tolist() == [[0, 2], [3, 6], [8, 9]]
    assert long_runs(mask, 3).tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 0]
    assert not long_runs(mask, 0).any()  # 0 disables
    assert runs(np.zeros(0, bool)).shape == (0, 2)


def test_moving_mean_and_median_are_centred_and_keep_the_edges():
    values = np.array([0.0, 0.0, 3.0, 0.0, 0.0])
    assert moving_mean(values, 3).tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert moving_mean(values, 1).tolist() == values.tolist()
    spikes = np.array([0.0, 0.0, 9.0, 0.0, 0.0, 5.0, 5.0, 5.0])
    assert moving_median(spikes, 3).tolist() == [0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 5.0, 5.0]


def test_low_confidence_drops_long_unsure_stretches_only():
    confidence = np.full(40, 0.9)
    confidence[5] = 0.0  # one unsure frame in a sure stretch: smoothed away
    confidence[20:30] = 0.1  # a long unsure stretch
    dropped = low_confidence_frames(confidence, threshold=0.5, window=3, min_length=4)
    assert not dropped[:15].any()
    assert dropped[21:29].all() and not dropped[32:].any()
    # Without smoothing and with a 1-frame minimum every unsure frame goes.
    assert low_confidence_frames(confidence, 0.5, window=1, min_length=1)[5]
    # min_confidence 0 disables the filter.
    assert not low_confidence_frames(confidence, 0.0, 3, 1).any()


def test_idle_needs_a_long_stretch_without_input():
    active = np.ones(100, bool)
    active[10:20] = False  # a short pause: kept
    active[40:100] = False  # 2 s without input at 30 fps
    idle = idle_frames(active, min_length=30)
    assert not idle[:40].any() and idle[40:].all()


def test_static_ignores_blinks_and_keyframe_pops():
    motion = np.full(120, 0.1)  # Atari-like: tiny but steady change
    motion[30:100] = 0.0  # a frozen menu...
    motion[45] = motion[70] = 1.5  # ...with a blinking cursor
    static = static_frames(motion, max_change=0.02, window=5, min_length=60)
    assert static[32:98].all() and not static[:28].any() and not static[102:].any()
    assert not static_frames(np.full(120, 0.1), 0.02, 5, 60).any()  # gameplay stays


def test_frame_reasons_counts_each_frame_once_in_precedence_order():
    n, fps = 300, 30.0
    confidence = np.full(n, 0.9)
    active = np.ones(n, bool)
    motion = np.full(n, 0.5)
    motion[0:100] = 0.0  # static...
    active[0:150] = False  # ...and idle, overlapping it
    confidence[0:200] = 0.1  # ...and unsure, overlapping both
    config = FilterConfig(idle_seconds=3.0, static_seconds=2.0, min_low_confidence_seconds=0.5)
    reasons = frame_reasons(confidence, active, motion, fps, config, min_confidence=0.5)
    assert len(reasons) == n + 1 and reasons[-1] == REASON_CODE["end_of_video"]
    counts = count_reasons(reasons)
    # Smoothing windows blur each edge by a few frames; totals add up exactly.
    assert counts["static"] >= 95 and counts["idle"] >= 45 and counts["low_confidence"] >= 45
    assert sum(counts.values()) + int((reasons == 0).sum()) == n + 1
    assert (reasons[:95] == REASON_CODE["static"]).all()
    assert (reasons[105:145] == REASON_CODE["idle"]).all()
    assert (reasons[155:195] == REASON_CODE["low_confidence"]).all()
    assert (reasons[210:n] == 0).all()


def test_disabled_filters_keep_everything_but_the_last_frame():
    n = 200
    off = FilterConfig(idle_seconds=0, static_seconds=0, min_confidence=0.0)
    reasons = frame_reasons(np.zeros(n), np.zeros(n, bool), np.zeros(n), 30.0, off, 0.0)
    assert (reasons[:n] == 0).all() and count_reasons(reasons)["end_of_video"] == 1


def test_reason_spans_round_trip():
    reasons = np.array([0, 2, 2, 0, 3, 3, 3, 1], np.int8)
    spans = reason_spans(reasons)
    assert spans == [[1, 3, "static"], [4, 7, "idle"], [7, 8, "end_of_video"]]
    assert reasons_from_spans(spans, len(reasons)).tolist() == reasons.tolist()


def test_min_confidence_comes_from_flag_then_calibration_then_fallback(caplog):
    assert resolve_min_confidence(0.7, 0.4) == (0.7, "flag")
    assert resolve_min_confidence(None, 0.4) == (0.4, "calibrated")
    with caplog.at_level(logging.WARNING, logger="nitrogen_hf"):
        assert resolve_min_confidence(None, None) == (FALLBACK_MIN_CONFIDENCE, "fallback")
    assert "no calibrated confidence_threshold" in caplog.text


@pytest.mark.parametrize(
    "field, value", [("min_confidence", 1.5), ("idle_seconds", -1.0), ("min_active_fraction", 2.0)]
)
def test_filter_config_rejects_impossible_values(field, value):
    with pytest.raises(ValueError, match=field):
        FilterConfig(**{field: value})
