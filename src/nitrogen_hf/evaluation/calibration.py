"""Confidence calibration: temperature scaling, reliability (ECE), and the confidence
threshold that reaches a target label precision on held-out data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

# Temperatures searched (log-spaced): wide enough for over- and under-confident models.
TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(8.0), 61))


def fit_temperature(confidence_at: Callable[[float], np.ndarray], correct: np.ndarray) -> float:
    """Temperature whose confidences best predict correctness (binary cross-entropy).

    `confidence_at(t)` gives the per-frame confidences with logits divided by `t`; the
    predictions themselves do not change with `t`, only how sure they claim to be. This
    calibrates the number the labeler filters on (the whole action's confidence) directly,
    rather than each button's probability on its own.
    """
    target = torch.from_numpy(np.asarray(correct, np.float64))
    losses = []
    for t in TEMPERATURES:
        confidence = torch.from_numpy(np.asarray(confidence_at(float(t)), np.float64)).clamp(
            1e-6, 1 - 1e-6
        )
        losses.append(float(F.binary_cross_entropy(confidence, target)))
    return float(TEMPERATURES[int(np.argmin(losses))])


def reliability(confidence: np.ndarray, correct: np.ndarray, num_bins: int = 10) -> dict:
    """Reliability table and expected calibration error (ECE) of per-frame confidences."""
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, num_bins - 1)
    bins, ece = [], 0.0
    for b in range(num_bins):
        rows = index == b
        if not rows.any():
            continue
        mean_conf, accuracy = float(confidence[rows].mean()), float(correct[rows].mean())
        ece += rows.mean() * abs(mean_conf - accuracy)
        bins.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": int(rows.sum()),
                "confidence": mean_conf,
                "accuracy": accuracy,
            }
        )
    return {"ece": float(ece), "bins": bins, "frames": int(len(confidence))}


def threshold_for_precision(confidence: np.ndarray, correct: np.ndarray, target: float) -> dict:
    """Lowest confidence threshold whose kept frames are right at least `target` of the time.

    Returns the threshold, the precision reached and the fraction of frames kept; threshold
    None when no threshold reaches the target (then nothing should be trusted blindly).
    """
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, len(order) + 1)
    ok = np.nonzero(precision >= target)[0]
    if len(ok) == 0:
        return {
            "threshold": None,
            "precision": None,
            "kept_fraction": 0.0,
            "target_precision": target,
        }
    last = int(ok[-1])
    return {
        "threshold": float(confidence[order[last]]),
        "precision": float(precision[last]),
        "kept_fraction": float((last + 1) / len(order)),
        "target_precision": target,
    }


def plot_reliability(
    table: dict, path: str | Path, title: str = "IDM confidence calibration"
) -> Path:
    """Reliability diagram (accuracy vs confidence per bin) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    centres = [(b["low"] + b["high"]) / 2 for b in table["bins"]]
    ax.bar(centres, [b["accuracy"] for b in table["bins"]], width=0.09, alpha=0.7, label="accuracy")
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect calibration")
    ax.plot(
        [b["confidence"] for b in table["bins"]],
        [b["accuracy"] for b in table["bins"]],
        "o-",
        color="C1",
    )
    ax.set(
        xlabel="confidence",
        ylabel="fraction of frames fully right",
        xlim=(0, 1),
        ylim=(0, 1),
        title=f"{title}\nECE = {table['ece']:.3f}",
    )
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
