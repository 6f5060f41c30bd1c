"""Score pseudo-labels against the hidden ground truth of the same videos.

Walkthrough recordings keep their true actions aside (NitroGen layout, same video ids and
frame timing), so each pseudo-labeled chunk can be lined up frame by frame with the truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nitrogen_hf.actions import BUTTON_THRESHOLD, NUM_BUTTONS, GamepadActions
from nitrogen_hf.data.nitrogen_reader import iter_chunks
from nitrogen_hf.data.skips import SkipLog
from nitrogen_hf.data.video import frame_index_at
from nitrogen_hf.evaluation.idm_metrics import score_labels


def load_truth(truth_root: str | Path) -> dict[str, GamepadActions]:
    """Whole-video true actions per video id, from ground-truth chunks (ordered by time)."""
    by_video: dict[str, list] = {}
    for chunk in iter_chunks(truth_root, SkipLog(quiet=True)):
        by_video.setdefault(chunk.video_id, []).append(chunk)
    truth = {}
    for video_id, chunks in by_video.items():
        chunks.sort(key=lambda c: c.metadata.original_video.start_time)
        truth[video_id] = GamepadActions.concatenate([c.actions for c in chunks])
    return truth


def aligned_labels(
    pseudo_root: str | Path, truth: dict[str, GamepadActions]
) -> dict[str, np.ndarray]:
    """Predicted vectors, true vectors, the joint observed mask and confidences of every
    pseudo-labeled frame whose video has ground truth."""
    predicted, target, observed, confidence = [], [], [], []
    for chunk in iter_chunks(pseudo_root, SkipLog(quiet=True)):
        if chunk.video_id not in truth:
            continue
        true = truth[chunk.video_id]
        start = frame_index_at(chunk.metadata.original_video.start_time, chunk.metadata.fps)
        stop = min(start + chunk.num_frames, len(true))
        n = stop - start
        if n <= 0:
            continue
        predicted.append(chunk.actions.to_vector()[:n])
        target.append(true[start:stop].to_vector())
        observed.append(np.tile(chunk.actions.observed & true.observed, (n, 1)))
        conf = (
            chunk.confidence
            if chunk.confidence is not None
            else np.ones(chunk.num_frames, np.float32)
        )
        confidence.append(conf[:n])
    if not predicted:
        return {}
    return {
        "predicted": np.concatenate(predicted),
        "target": np.concatenate(target),
        "observed": np.concatenate(observed),
        "confidence": np.concatenate(confidence),
    }


def score_pseudo_labels(pseudo_root: str | Path, truth: dict[str, GamepadActions]) -> dict:
    """Metrics (macro-F1, exact match, per button) of the pseudo-labels that have truth."""
    frames = aligned_labels(pseudo_root, truth)
    if not frames:
        return {"frames": 0, "macro_f1": None, "exact_match": None}
    scores = score_labels(frames["predicted"], frames["target"], frames["observed"])
    scores["mean_confidence"] = float(frames["confidence"].mean())
    scores["button_precision"] = _micro_precision(frames)
    return scores


def _micro_precision(frames: dict) -> float | None:
    """Of all button presses the labels claim, the share that really happened."""
    claimed = (frames["predicted"][:, :NUM_BUTTONS] > BUTTON_THRESHOLD) & frames["observed"][
        :, :NUM_BUTTONS
    ]
    if not claimed.any():
        return None
    return float((frames["target"][:, :NUM_BUTTONS][claimed] > BUTTON_THRESHOLD).mean())
