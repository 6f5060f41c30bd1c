"""Cut a long video into IDM segments that give exactly the labels of one pass over it all.

A segment is one stretch of labels (e.g. 20 s) plus at least `window` frames of context on
each side. Its first frame sits on the grid of `predict_sequence`'s windows (every
`window // 2` frames from frame 0), so each kept label is read from the same window, with
the same neighbours, as when the whole video is labeled at once; only frames of one segment
are ever in memory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """Frames [start, stop) go to the IDM; labels of transitions [keep_start, keep_stop) are kept."""

    start: int
    stop: int
    keep_start: int
    keep_stop: int


def plan_segments(num_frames: int, segment_transitions: int, window: int) -> list[Segment]:
    """Segments covering the `num_frames - 1` transitions of a video, in order, without overlap
    of their kept parts. `window` is the IDM's `num_frames`."""
    if segment_transitions < 1 or window < 2:
        raise ValueError(
            f"segment_transitions ({segment_transitions}) must be >= 1 and window ({window}) >= 2"
        )
    transitions = num_frames - 1
    step = max(1, window // 2)  # as `window_starts` in the IDM
    segments = []
    for keep_start in range(0, transitions, segment_transitions):
        keep_stop = min(keep_start + segment_transitions, transitions)
        start = max(0, (keep_start - window) // step * step)
        stop = min(num_frames, keep_stop + window)
        segments.append(Segment(start, stop, keep_start, keep_stop))
    return segments
