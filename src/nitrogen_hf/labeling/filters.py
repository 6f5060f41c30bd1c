"""Which pseudo-labeled frames to keep: pure functions over per-frame arrays (no files, no model).

Each filter marks the frames it would drop for one reason. `frame_reasons` combines them
under one precedence (`REASONS`, root causes first), so a frame several filters reject is
counted once, under the first reason that applies: a menu is "static" even though the IDM
also predicts no input (idle) and is unsure (low_confidence) there.

Per-frame arrays have one entry per labeled transition t -> t+1 (frame t's action).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger("nitrogen_hf")

# Drop reasons in precedence order; code i + 1 in a reasons array means REASONS[i], 0 = kept.
REASONS: tuple[str, ...] = (
    "end_of_video",  # the last frame has no next frame, hence no action to infer
    "static",  # the picture barely changes (menu, pause, cut scene): nothing to infer from
    "idle",  # the IDM sees no input for a long stretch
    "low_confidence",  # the IDM is unsure for a stretch
    "short_segment",  # kept stretch (or its tail) too short for a chunk of min_chunk_seconds
    "inactive_chunk",  # chunk with too few active frames (NitroGen's rule)
)
KEPT = 0
REASON_CODE = {name: i + 1 for i, name in enumerate(REASONS)}

# A calibrated IDM carries its own threshold; without one, keep frames whose whole action is
# more likely right than wrong (and warn: this is not a precision guarantee).
FALLBACK_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class FilterConfig:
    """What to drop. Times are in seconds of video. `min_confidence=0`, `idle_seconds=0`,
    `static_seconds=0`, `min_active_fraction=0` and `min_chunk_seconds=0` disable their filter."""

    # Confidence below this drops a stretch; None = the IDM's calibrated `confidence_threshold`
    # (the per-frame threshold that reached the target precision on held-out labeled data).
    min_confidence: float | None = None
    # Optional moving mean of confidence before the comparison (0: off). Off by default: the
    # threshold is calibrated per frame, and an average of a flickering confidence is not
    # more precise (scripts/bench_label.py: smoothing kept fewer, no more accurate frames).
    confidence_window_seconds: float = 0.0
    # Only stretches unsure for this long go (the IDM does not understand the scene). Shorter
    # dips are kept, down-weighted in training by their `confidence` column: an IDM's
    # confident frames come in runs of a few frames, so dropping every unsure frame would cut
    # the video into pieces too short to chunk.
    min_low_confidence_seconds: float = 1.0
    # No button or stick for this long is idle (the player is away, or watching).
    idle_seconds: float = 3.0
    # Static: median frame change (mean |difference| in 0-255 levels) under this. x264 repeats
    # an unchanged frame exactly (0.0); Atari play, the stillest gameplay we have, has a median
    # around 0.06-0.1 per frame, so 0.02 separates the two with margin.
    static_max_change: float = 0.02
    # Median over this window: a blinking cursor or a keyframe's refresh does not count as motion.
    static_window_seconds: float = 0.5
    # ...and the picture must stay still this long to be dropped.
    static_seconds: float = 2.0
    # Output chunks need this fraction of frames with input (NitroGen kept chunks with >= 50%).
    min_active_fraction: float = 0.5
    # Chunks (a kept stretch's tail included) shorter than this are dropped.
    min_chunk_seconds: float = 2.0

    def __post_init__(self) -> None:
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be in [0, 1], got {self.min_confidence}")
        if not 0.0 <= self.min_active_fraction <= 1.0:
            raise ValueError(
                f"min_active_fraction must be in [0, 1], got {self.min_active_fraction}"
            )
        for name in (
            "confidence_window_seconds",
            "min_low_confidence_seconds",
            "idle_seconds",
            "static_max_change",
            "static_window_seconds",
            "static_seconds",
            "min_chunk_seconds",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def seconds_to_frames(seconds: float, fps: float) -> int:
    """Whole frames in `seconds` at `fps` (0 stays 0: a disabled filter)."""
    return int(round(seconds * fps))


def resolve_min_confidence(configured: float | None, calibrated: float | None) -> tuple[float, str]:
    """The confidence threshold to use and where it came from ('flag', 'calibrated', 'fallback')."""
    if configured is not None:
        return float(configured), "flag"
    if calibrated is not None:
        return float(calibrated), "calibrated"
    logger.warning(
        "the IDM has no calibrated confidence_threshold (train-idm calibrates on a validation "
        "split); falling back to %.2f, which promises no precision. Pass --min-confidence to choose.",
        FALLBACK_MIN_CONFIDENCE,
    )
    return FALLBACK_MIN_CONFIDENCE, "fallback"


# --- run helpers ---------------------------------------------------------------------------
def runs(mask: np.ndarray) -> np.ndarray:
    """(R, 2) [start, stop) of the runs of True in a (N,) bool array."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges.reshape(-1, 2)


def long_runs(mask: np.ndarray, min_length: int) -> np.ndarray:
    """(N,) bool: the runs of True lasting at least `min_length` (min_length <= 0: none)."""
    out = np.zeros(len(mask), bool)
    if min_length <= 0:
        return out
    for start, stop in runs(mask):
        if stop - start >= min_length:
            out[start:stop] = True
    return out


def moving_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; near the ends, the mean of the part of the window inside."""
    values = np.asarray(values, np.float64)
    if window <= 1 or len(values) == 0:
        return values.copy()
    half = window // 2
    sums = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(len(values))
    low, high = np.maximum(index - half, 0), np.minimum(index - half + window, len(values))
    return (sums[high] - sums[low]) / (high - low)


def moving_median(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving median; the ends repeat the edge value."""
    values = np.asarray(values, np.float64)
    if window <= 1 or len(values) == 0:
        return values.copy()
    half = window // 2
    padded = np.pad(values, (half, window - 1 - half), mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, window), axis=1)


# --- the filters ---------------------------------------------------------------------------
def low_confidence_frames(
    confidence: np.ndarray, threshold: float, window: int, min_length: int
) -> np.ndarray:
    """(N,) bool: stretches of >= `min_length` frames whose smoothed confidence < threshold."""
    return long_runs(moving_mean(confidence, window) < threshold, min_length)


def idle_frames(active: np.ndarray, min_length: int) -> np.ndarray:
    """(N,) bool: stretches of >= `min_length` frames with no input at all."""
    return long_runs(~np.asarray(active, bool), min_length)


def static_frames(
    motion: np.ndarray, max_change: float, window: int, min_length: int
) -> np.ndarray:
    """(N,) bool: stretches of >= `min_length` frames whose median frame change < max_change.

    `motion[t]` is the mean absolute difference between frames t and t+1 (0-255 levels).
    """
    return long_runs(moving_median(motion, window) < max_change, min_length)


def frame_reasons(
    confidence: np.ndarray,
    active: np.ndarray,
    motion: np.ndarray,
    fps: float,
    config: FilterConfig,
    min_confidence: float,
) -> np.ndarray:
    """(N + 1,) int8 drop reason per video frame (0 = kept) for N labeled transitions.

    Frame N, the video's last, has no next frame and is dropped as 'end_of_video'.
    """
    n = len(confidence)
    masks = {
        "static": static_frames(
            motion,
            config.static_max_change,
            seconds_to_frames(config.static_window_seconds, fps),
            seconds_to_frames(config.static_seconds, fps),
        ),
        "idle": idle_frames(active, seconds_to_frames(config.idle_seconds, fps)),
        "low_confidence": low_confidence_frames(
            confidence,
            min_confidence,
            seconds_to_frames(config.confidence_window_seconds, fps),
            max(1, seconds_to_frames(config.min_low_confidence_seconds, fps)),
        ),
    }
    reasons = np.zeros(n + 1, np.int8)
    reasons[n] = REASON_CODE["end_of_video"]
    for name, mask in masks.items():  # in precedence order: first reason wins
        reasons[:n][mask & (reasons[:n] == KEPT)] = REASON_CODE[name]
    return reasons


# --- summaries -----------------------------------------------------------------------------
def count_reasons(reasons: np.ndarray) -> dict[str, int]:
    """Frames dropped per reason (every reason listed, zeros included)."""
    counts = np.bincount(np.asarray(reasons, np.int64), minlength=len(REASONS) + 1)
    return {name: int(counts[REASON_CODE[name]]) for name in REASONS}


def reason_spans(reasons: np.ndarray) -> list[list]:
    """Run-length form of dropped frames: [[start, stop, reason], ...] (kept frames omitted)."""
    reasons = np.asarray(reasons)
    spans = []
    for code in np.unique(reasons[reasons != KEPT]):
        spans += [[int(a), int(b), REASONS[code - 1]] for a, b in runs(reasons == code)]
    return sorted(spans)


def reasons_from_spans(spans: list[list], num_frames: int) -> np.ndarray:
    """Inverse of `reason_spans`."""
    reasons = np.zeros(num_frames, np.int8)
    for start, stop, name in spans:
        reasons[start:stop] = REASON_CODE[name]
    return reasons
