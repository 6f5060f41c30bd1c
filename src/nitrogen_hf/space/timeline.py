"""Views of labels over time for the Space: kept/dropped segments (a table) and a timeline plot
of buttons, sticks and confidence with the dropped stretches shaded by reason (a PNG); and the
plot of a policy's predicted action chunk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nitrogen_hf.actions import BUTTON_THRESHOLD, BUTTONS, NUM_BUTTONS, STICK_AXES
from nitrogen_hf.labeling.filters import KEPT, REASONS

SEGMENT_COLUMNS = ("start (s)", "end (s)", "seconds", "status", "reason", "mean confidence")
REASON_COLORS = {  # one shade per drop reason; "not labeled" is any code past REASONS
    "end_of_video": "#9e9e9e",
    "static": "#8d6e63",
    "idle": "#78909c",
    "low_confidence": "#ff9800",
    "short_segment": "#ba68c8",
    "inactive_chunk": "#4fc3f7",
    "not labeled": "#e0e0e0",
}


def reason_name(code: int) -> str:
    """'kept', a filter's reason, or 'not labeled' (render.UNLABELED and unknown codes)."""
    if code == KEPT:
        return "kept"
    return REASONS[code - 1] if code <= len(REASONS) else "not labeled"


def label_segments(reasons: np.ndarray, confidence: np.ndarray, fps: float) -> list[list]:
    """Rows of `SEGMENT_COLUMNS`: one per run of frames kept, or dropped for one reason."""
    reasons = np.asarray(reasons)
    if len(reasons) == 0:
        return []
    edges = np.flatnonzero(np.diff(reasons)) + 1
    rows = []
    for start, stop in zip(np.r_[0, edges], np.r_[edges, len(reasons)], strict=True):
        name = reason_name(int(reasons[start]))
        kept = name == "kept"
        mean = round(float(np.mean(confidence[start:stop])), 3) if kept else None
        rows.append(
            [
                round(float(start / fps), 2),
                round(float(stop / fps), 2),
                round(float((stop - start) / fps), 2),
                "kept" if kept else "dropped",
                "" if kept else name,
                mean,
            ]
        )
    return rows


def _shade_dropped(ax, reasons: np.ndarray, fps: float) -> set[str]:
    """Shade every dropped run by its reason; returns the reasons shaded."""
    shown = set()
    for start, stop, _, status, reason, _ in label_segments(reasons, np.zeros(len(reasons)), fps):
        if status == "dropped":
            ax.axvspan(start, stop, color=REASON_COLORS.get(reason, "#e0e0e0"), alpha=0.35, lw=0)
            shown.add(reason)
    return shown


def plot_timeline(
    buttons: np.ndarray,
    sticks: np.ndarray,
    confidence: np.ndarray,
    reasons: np.ndarray,
    fps: float,
    trained_dims: Sequence[bool],
    path: str | Path,
    threshold: float | None = None,
    title: str = "",
) -> Path:
    """PNG: pressed buttons (rows: the IDM's trained buttons), sticks (when trained) and the
    confidence with its threshold, over seconds; dropped stretches (whose labels the label job
    does not keep) shaded by reason.

    buttons (N, 21) 0/1; sticks (N, 4) in [-1, 1]; confidence (N,); reasons (N,) codes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    trained = np.asarray(trained_dims, bool)
    rows = [i for i in range(NUM_BUTTONS) if trained[i] or buttons[:, i].any()]
    show_sticks = bool(trained[NUM_BUTTONS:].any())
    panels = [max(1.2, 0.3 * len(rows))] + ([1.4] if show_sticks else []) + [1.4]
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(10, sum(panels) + 1.0), sharex=True, height_ratios=panels
    )
    seconds = np.arange(len(confidence)) / fps
    end = max(len(confidence), 1) / fps
    ax = axes[0]
    ax.imshow(
        buttons[:, rows].T,
        aspect="auto",
        interpolation="nearest",
        cmap="Greens",
        vmin=0,
        vmax=1,
        extent=(0, end, len(rows) - 0.5, -0.5),
    )
    ax.set_yticks(range(len(rows)), [BUTTONS[i] for i in rows], fontsize=8)
    ax.set_title(title or "predicted gamepad", fontsize=10)
    if show_sticks:
        ax = axes[1]
        for axis in range(len(STICK_AXES)):
            if trained[NUM_BUTTONS + axis]:
                ax.plot(seconds, sticks[:, axis], lw=1, label=STICK_AXES[axis])
        ax.set(ylim=(-1.1, 1.1), ylabel="sticks")
        ax.legend(fontsize=7, ncol=4, loc="upper right")
    ax = axes[-1]
    kept_confidence = np.where(np.asarray(reasons) == KEPT, confidence, np.nan)  # only kept
    ax.plot(seconds, kept_confidence, color="#2e7d32", lw=1, label="confidence (kept frames)")
    if threshold is not None:
        ax.axhline(threshold, color="black", ls="--", lw=1, label=f"threshold {threshold:.2f}")
    shaded = _shade_dropped(ax, reasons, fps)
    for other in axes[:-1]:
        _shade_dropped(other, reasons, fps)
    handles = ax.get_legend_handles_labels()[0]
    handles += [
        Patch(color=REASON_COLORS.get(r, "#e0e0e0"), alpha=0.35, label=f"dropped: {r}")
        for r in sorted(shaded)
    ]
    ax.legend(handles=handles, fontsize=7, ncol=3, loc="lower right")
    ax.set(ylim=(0, 1.02), ylabel="confidence", xlabel="seconds", xlim=(0, end))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


def chunk_rows(vector: np.ndarray, threshold: float = BUTTON_THRESHOLD) -> list[list]:
    """Rows (step, pressed buttons, j_left x/y, j_right x/y) of one (H, 25) action chunk."""
    rows = []
    for step, action in enumerate(np.asarray(vector, np.float64)):
        pressed = [BUTTONS[i] for i in range(NUM_BUTTONS) if action[i] > threshold]
        sticks = np.clip(action[NUM_BUTTONS:] * 2 - 1, -1, 1)
        rows.append([step, ", ".join(pressed) or "-", *(round(float(v), 2) for v in sticks)])
    return rows


CHUNK_COLUMNS = ("step", "pressed", *STICK_AXES)


def plot_action_chunk(
    vector: np.ndarray, path: str | Path, threshold: float = BUTTON_THRESHOLD
) -> Path:
    """PNG of one (H, 25) chunk: button outputs as a heat map (pressed above `threshold`,
    outlined) and the four stick axes over the horizon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    vector = np.asarray(vector, np.float64)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True, height_ratios=[4, 1.4])
    image = top.imshow(vector[:, :NUM_BUTTONS].T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    for step, button in zip(*np.nonzero(vector[:, :NUM_BUTTONS] > threshold), strict=True):
        top.add_patch(plt.Rectangle((step - 0.5, button - 0.5), 1, 1, fill=False, ec="red", lw=1.2))
    top.set_yticks(range(NUM_BUTTONS), BUTTONS, fontsize=7)
    top.set_title(f"predicted action chunk (red: output > {threshold})", fontsize=10)
    fig.colorbar(image, ax=top, fraction=0.03)
    for axis, name in enumerate(STICK_AXES):
        bottom.plot(np.clip(vector[:, NUM_BUTTONS + axis] * 2 - 1, -1, 1), lw=1, label=name)
    bottom.set(ylim=(-1.1, 1.1), ylabel="sticks", xlabel="step")
    bottom.legend(fontsize=7, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
