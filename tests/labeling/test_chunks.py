"""Kept frames -> chunks: fixed-size cuts, short tails and inactive chunks dropped and counted."""

from __future__ import annotations

import numpy as np
import pytest

from nitrogen_hf.labeling.chunks import plan_chunks
from nitrogen_hf.labeling.filters import REASON_CODE, count_reasons


def test_kept_stretches_are_cut_into_chunks_from_their_start():
    reasons = np.zeros(101, np.int8)
    reasons[100] = REASON_CODE["end_of_video"]
    reasons[45:50] = REASON_CODE["idle"]
    active = np.ones(100, bool)
    plan = plan_chunks(
        reasons, active, chunk_frames=20, min_chunk_frames=4, min_active_fraction=0.5
    )
    # [0, 45): 20 + 20 + a 5-frame tail; [50, 100): 20 + 20 + 10.
    assert plan.chunks == [(0, 20), (20, 40), (40, 45), (50, 70), (70, 90), (90, 100)]
    assert plan.dropped == {"short_segment": 0, "inactive_chunk": 0}


def test_short_pieces_and_inactive_chunks_are_dropped_with_their_reason():
    reasons = np.zeros(61, np.int8)
    reasons[60] = REASON_CODE["end_of_video"]
    reasons[20:22] = REASON_CODE["static"]
    active = np.ones(60, bool)
    active[22:40] = False  # the chunk [22, 42) has 2 of 20 active frames
    plan = plan_chunks(
        reasons, active, chunk_frames=20, min_chunk_frames=5, min_active_fraction=0.5
    )
    assert plan.chunks == [(0, 20), (42, 60)]
    assert plan.dropped == {"short_segment": 0, "inactive_chunk": 1}
    assert (plan.reasons[22:42] == REASON_CODE["inactive_chunk"]).all()
    tail = plan_chunks(reasons, np.ones(60, bool), 20, 19, 0.5)
    assert tail.chunks == [(0, 20), (22, 42)]  # [42, 60) has 18 < 19 frames
    assert tail.dropped["short_segment"] == 1
    counts = count_reasons(tail.reasons)
    assert counts["short_segment"] == 18 and counts["static"] == 2


def test_chunk_frames_must_be_positive():
    with pytest.raises(ValueError, match="chunk_frames"):
        plan_chunks(np.zeros(3, np.int8), np.ones(2, bool), 0, 1, 0.5)
