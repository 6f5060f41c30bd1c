"""Action-label quality: per-button precision/recall/F1, macro-F1, exact match, stick error.

Pure functions over arrays, so the IDM evaluation, the labeler's benchmark and the demo
report score labels the same way. Only observed dims count; buttons without positive
examples (no support) are left out of macro-F1 rather than counted as perfect or zero.
"""

from __future__ import annotations

import numpy as np

from nitrogen_hf.actions import BUTTON_THRESHOLD, BUTTONS, NUM_BUTTONS, STICK_AXES


def button_scores(predicted: np.ndarray, target: np.ndarray, observed: np.ndarray) -> dict:
    """Per-button counts and P/R/F1. predicted/target: (N, 21) {0,1}; observed: (N, 21) bool."""
    scores = {}
    for i, name in enumerate(BUTTONS):
        seen = observed[:, i]
        if not seen.any():
            continue
        p, t = predicted[seen, i].astype(bool), target[seen, i].astype(bool)
        tp, fp, fn = int((p & t).sum()), int((p & ~t).sum()), int((~p & t).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[name] = {
            "support": int(t.sum()),
            "frames": int(seen.sum()),
            "predicted_positive": int(p.sum()),
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    return scores


def macro_f1(scores: dict, buttons: list[str] | None = None) -> float | None:
    """Mean F1 over buttons that have support (optionally restricted to `buttons`)."""
    values = [
        s["f1"]
        for name, s in scores.items()
        if s["support"] > 0 and (buttons is None or name in buttons)
    ]
    return float(np.mean(values)) if values else None


def exact_match(predicted: np.ndarray, target: np.ndarray, observed: np.ndarray) -> float | None:
    """Fraction of frames whose whole observed button state is right."""
    rows = observed.any(axis=1)
    if not rows.any():
        return None
    wrong = (predicted.astype(bool) != target.astype(bool)) & observed
    return float((~wrong.any(axis=1))[rows].mean())


def stick_scores(predicted: np.ndarray, target: np.ndarray, observed: np.ndarray) -> dict:
    """MAE and R^2 per observed stick axis; values in [-1, 1]. Arrays: (N, 4)."""
    scores = {}
    for i, name in enumerate(STICK_AXES):
        seen = observed[:, i]
        if not seen.any():
            continue
        p, t = predicted[seen, i], target[seen, i]
        variance = float(((t - t.mean()) ** 2).sum())
        r2 = 1.0 - float(((p - t) ** 2).sum()) / variance if variance > 0 else None
        scores[name] = {"mae": float(np.abs(p - t).mean()), "r2": r2, "frames": int(seen.sum())}
    return scores


def score_labels(
    predicted_vectors: np.ndarray,
    target_vectors: np.ndarray,
    observed: np.ndarray,
    threshold: float = BUTTON_THRESHOLD,
) -> dict:
    """All metrics for (N, 25) model-layout vectors (buttons as probabilities or {0,1})."""
    predicted_buttons = predicted_vectors[:, :NUM_BUTTONS] > threshold
    target_buttons = target_vectors[:, :NUM_BUTTONS] > BUTTON_THRESHOLD
    buttons = button_scores(predicted_buttons, target_buttons, observed[:, :NUM_BUTTONS])
    sticks = stick_scores(
        predicted_vectors[:, NUM_BUTTONS:] * 2 - 1,
        target_vectors[:, NUM_BUTTONS:] * 2 - 1,
        observed[:, NUM_BUTTONS:],
    )
    return {
        "frames": len(target_vectors),
        "macro_f1": macro_f1(buttons),
        "exact_match": exact_match(predicted_buttons, target_buttons, observed[:, :NUM_BUTTONS]),
        "buttons": buttons,
        "sticks": sticks,
    }


def score_by_group(
    predicted_vectors: np.ndarray,
    target_vectors: np.ndarray,
    observed: np.ndarray,
    groups: np.ndarray,
) -> dict:
    """`score_labels` overall and per group (e.g. per game)."""
    result = {"overall": score_labels(predicted_vectors, target_vectors, observed)}
    for group in sorted(set(groups.tolist())):
        rows = groups == group
        result[str(group)] = score_labels(
            predicted_vectors[rows], target_vectors[rows], observed[rows]
        )
    return result


def identifiable_observed(observed: np.ndarray, identifiable: np.ndarray) -> np.ndarray:
    """(N, 25) bool: observed dims that counterfactual probing found identifiable.

    identifiable: (N, 25) int8, 1/0 on probed frames, negative where not probed. Scoring
    with this mask in place of `observed` scores each dim only where the screen can show it:
    the ceiling no IDM can beat lies there.
    """
    return observed & (identifiable > 0)


def identifiable_shares(observed: np.ndarray, identifiable: np.ndarray) -> dict:
    """Per observed dim: how many probed frames there are and the share found identifiable."""
    probed = observed & (identifiable >= 0)
    out = {}
    for d, name in enumerate((*BUTTONS, *STICK_AXES)):
        if probed[:, d].any():
            share = float((identifiable[probed[:, d], d] > 0).mean())
            out[name] = {"probed_frames": int(probed[:, d].sum()), "share": share}
    return out


def majority_vector(target_vectors: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(25,) the majority-class baseline fitted on training labels: each button's more common
    state (almost always 'not pressed', i.e. the no-op) and each stick axis's median."""
    out = np.zeros(target_vectors.shape[1], np.float32)
    for d in range(target_vectors.shape[1]):
        values = target_vectors[observed[:, d], d]
        if len(values) == 0:
            out[d] = 0.5 if d >= NUM_BUTTONS else 0.0
        elif d < NUM_BUTTONS:
            out[d] = float(values.mean() > BUTTON_THRESHOLD)
        else:
            out[d] = float(np.median(values))
    return out
