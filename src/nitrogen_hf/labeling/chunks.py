"""Kept frames -> output chunks: every kept stretch is cut into NitroGen-sized chunks; a piece
shorter than the minimum, or with too little input, is dropped and its frames counted."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nitrogen_hf.labeling.filters import KEPT, REASON_CODE, runs


@dataclass
class ChunkPlan:
    """chunks: [start, stop) frames to write; reasons: (N + 1,) codes including the dropped
    pieces; dropped: how many pieces each chunk-level rule removed."""

    chunks: list[tuple[int, int]]
    reasons: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)


def plan_chunks(
    reasons: np.ndarray,
    active: np.ndarray,
    chunk_frames: int,
    min_chunk_frames: int,
    min_active_fraction: float,
) -> ChunkPlan:
    """Cut the kept stretches of `reasons` (from `frame_reasons`) into chunks; active: (N,) bool.

    Chunks start at the beginning of each kept stretch, so their timing is the video's own.
    """
    if chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
    plan = ChunkPlan([], np.array(reasons, np.int8), {"short_segment": 0, "inactive_chunk": 0})
    for start, stop in runs(plan.reasons == KEPT):
        for first in range(start, stop, chunk_frames):
            last = min(first + chunk_frames, stop)
            if last - first < max(1, min_chunk_frames):
                rule = "short_segment"
            elif np.mean(active[first:last]) < min_active_fraction:
                rule = "inactive_chunk"
            else:
                plan.chunks.append((int(first), int(last)))
                continue
            plan.reasons[first:last] = REASON_CODE[rule]
            plan.dropped[rule] += 1
    return plan
