"""`nitrogen-hf eval-idm`: score an IDM against ground truth and baselines, per game and
overall, and write metrics.json, a markdown table and plots."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nitrogen_hf.actions import BUTTONS
from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.evaluation.calibration import plot_reliability, reliability
from nitrogen_hf.evaluation.formatting import fmt
from nitrogen_hf.evaluation.idm_eval import ChunkPredictions, frames_correct, predict_chunks
from nitrogen_hf.evaluation.idm_metrics import (
    identifiable_observed,
    identifiable_shares,
    majority_vector,
    score_by_group,
)

logger = logging.getLogger("nitrogen_hf")


@dataclass
class IDMEvalConfig:
    model: str  # IDM folder or Hub id
    data: str  # build-dataset folder or Hub id
    out: Path
    split: str | None = None  # None: "validation", or the dataset's only split
    train_split: str | None = "train"  # fits the majority baseline; None to skip it
    baseline_model: str | None = None  # e.g. the T=2 IDM
    videos_dir: Path | None = None
    max_chunks: int | None = None
    backend: str = "auto"


def evaluate_idm(config: IDMEvalConfig) -> dict:
    """Run the evaluation; returns the metrics dict also written to `out/metrics.json`."""
    from nitrogen_hf.data.hub_dataset import available_splits, load_chunk_dataset, resolve_split
    from nitrogen_hf.models.idm import NitroGenIDM

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    split = resolve_split(config.data, config.split, "validation")
    if config.split is None and split != "validation":
        logger.info(
            "%s has no 'validation' split: evaluating its only split, '%s'", config.data, split
        )
    model = NitroGenIDM.from_pretrained(config.model)
    rows = load_chunk_dataset(config.data, split, videos_dir=config.videos_dir)
    # the majority baseline is fitted on the train split, else on the scored one (said in the JSON)
    train_split = (
        config.train_split if config.train_split in available_splits(config.data) else split
    )
    predictions = predict_chunks(model, rows, config.backend, config.max_chunks)
    vectors = {"idm": predictions.vectors}
    if train_split:
        train_rows = load_chunk_dataset(config.data, train_split).select_columns(
            ["buttons", "sticks", "observed"]
        )
        vectors["majority"] = np.tile(_majority(train_rows), (len(predictions), 1))
    scores = {name: _scores(predictions, v) for name, v in vectors.items()}
    if config.baseline_model:
        baseline = NitroGenIDM.from_pretrained(config.baseline_model)
        baseline_predictions = predict_chunks(baseline, rows, config.backend, config.max_chunks)
        scores["baseline"] = _scores(baseline_predictions, baseline_predictions.vectors)
    correct = frames_correct(
        predictions, np.asarray(model.config.trained_dims, bool), model.config.stick_bins
    )
    calibration = reliability(predictions.confidence, correct)
    identifiable = identifiable_scores(predictions, vectors)
    metrics = {
        "macro_f1": scores["idm"]["overall"]["macro_f1"],
        "exact_match": scores["idm"]["overall"]["exact_match"],
        "ece": calibration["ece"],
        "model": str(config.model),
        "model_num_frames": model.config.num_frames,
        "baseline_model": config.baseline_model,
        "data": str(config.data),
        "split": split,
        "majority_fitted_on": train_split,
        "chunks": predictions.chunks,
        "frames": len(predictions),
        "skipped": predictions.skipped,
        "models": scores,
        "identifiable": identifiable,
        "calibration": calibration,
    }
    write_json_atomic(out / "metrics.json", metrics)
    (out / "metrics.md").write_text(format_markdown(metrics))
    plot_reliability(calibration, out / "reliability.png")
    plot_button_f1(scores, out / "per_button_f1.png")
    return metrics


def _scores(predictions: ChunkPredictions, vectors: np.ndarray) -> dict:
    return score_by_group(vectors, predictions.targets, predictions.observed, predictions.games)


def identifiable_scores(
    predictions: ChunkPredictions, vectors: dict[str, np.ndarray]
) -> dict | None:
    """Scores of each model on the dims and frames probing found identifiable (recorded games
    carry per-frame probes); None when no evaluated chunk was probed."""
    probed = (predictions.identifiable >= 0).all(axis=1)
    if not probed.any():
        return None
    mask = identifiable_observed(predictions.observed, predictions.identifiable)
    return {
        "probed_frames": int(probed.sum()),
        "dims": identifiable_shares(predictions.observed, predictions.identifiable),
        "models": {
            name: score_by_group(v, predictions.targets, mask, predictions.games)
            for name, v in vectors.items()
        },
    }


def _majority(rows) -> np.ndarray:
    from nitrogen_hf.actions import GamepadActions

    vectors, masks = [], []
    for row in rows:
        actions = GamepadActions(
            np.asarray(row["buttons"]), np.asarray(row["sticks"]), np.asarray(row["observed"])
        )
        vectors.append(actions.to_vector())
        masks.append(np.tile(actions.observed, (len(actions), 1)))
    return majority_vector(np.concatenate(vectors), np.concatenate(masks))


def format_markdown(metrics: dict) -> str:
    """Tables: macro-F1 / exact match per model and game, then per-button F1 of the IDM."""
    models = metrics["models"]
    groups = list(models["idm"].keys())
    lines = [
        f"# IDM evaluation: {metrics['split']} split of {metrics['data']}",
        "",
        f"{metrics['chunks']} chunks, {metrics['frames']} transitions; ECE of confidence {metrics['ece']:.3f}.",
        "",
        "| model | " + " | ".join(f"{g} macro-F1 | {g} exact" for g in groups) + " |",
        "|---|" + "---|---|" * len(groups),
    ]
    for name, result in models.items():
        cells = [f"{fmt(result[g]['macro_f1'])} | {fmt(result[g]['exact_match'])}" for g in groups]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| button | support | precision | recall | F1 |", "|---|---|---|---|---|"]
    for button, s in models["idm"]["overall"]["buttons"].items():
        lines.append(
            f"| {button} | {s['support']} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |"
        )
    sticks = models["idm"]["overall"]["sticks"]
    if sticks:
        lines += ["", "| stick axis | MAE | R2 |", "|---|---|---|"]
        lines += [f"| {axis} | {s['mae']:.3f} | {fmt(s['r2'])} |" for axis, s in sticks.items()]
    if metrics.get("identifiable"):
        lines += _identifiable_markdown(metrics["identifiable"])
    return "\n".join(lines) + "\n"


def _identifiable_markdown(identifiable: dict) -> list[str]:
    """Scores on identifiable frames only, and how often each dim was identifiable."""
    idm = identifiable["models"]["idm"]["overall"]
    lines = [
        "",
        f"## On identifiable frames ({identifiable['probed_frames']} probed transitions)",
        "",
        "| model | macro-F1 | exact |",
        "|---|---|---|",
    ]
    for name, result in identifiable["models"].items():
        overall = result["overall"]
        lines.append(f"| {name} | {fmt(overall['macro_f1'])} | {fmt(overall['exact_match'])} |")
    lines += ["", "| dim | identifiable share | IDM F1 or R2 |", "|---|---|---|"]
    for dim, share in identifiable["dims"].items():
        score = idm["buttons"].get(dim, {}).get("f1", idm["sticks"].get(dim, {}).get("r2"))
        lines.append(f"| {dim} | {share['share']:.3f} | {fmt(score)} |")
    return lines


def plot_button_f1(scores: dict, path: Path) -> Path:
    """Grouped bars: F1 per supported button, one bar per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buttons = [
        b for b in BUTTONS if scores["idm"]["overall"]["buttons"].get(b, {}).get("support", 0) > 0
    ]
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(buttons) + 2), 3.5))
    width = 0.8 / max(1, len(scores))
    for k, (name, result) in enumerate(scores.items()):
        values = [result["overall"]["buttons"].get(b, {}).get("f1", 0.0) for b in buttons]
        ax.bar(np.arange(len(buttons)) + k * width, values, width, label=name)
    ax.set_xticks(np.arange(len(buttons)) + 0.4 - width / 2, buttons, rotation=30, ha="right")
    ax.set(ylabel="F1", ylim=(0, 1), title="IDM per-button F1")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
