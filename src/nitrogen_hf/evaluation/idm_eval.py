"""Run an IDM over whole labeled chunks (the labeler's sliding windows), calibrate its
confidence, and score it against ground truth and baselines (`nitrogen-hf eval-idm`)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from nitrogen_hf.actions import ACTION_DIM, BUTTON_THRESHOLD, NUM_BUTTONS, GamepadActions
from nitrogen_hf.data.nitrogen_reader import NOT_PROBED, ChunkError, identifiable_masks
from nitrogen_hf.data.windows import ReaderCache, WindowConfig, load_chunk_frames
from nitrogen_hf.evaluation.calibration import fit_temperature, reliability, threshold_for_precision
from nitrogen_hf.models.idm.modeling_idm import NitroGenIDM, decode_logits

logger = logging.getLogger("nitrogen_hf")


@dataclass
class ChunkPredictions:
    """Per-transition predictions and ground truth over many chunks (M transitions)."""

    vectors: np.ndarray  # (M, 25) predicted, buttons as probabilities
    confidence: np.ndarray  # (M,)
    button_logits: torch.Tensor  # (M, 21) raw
    stick_logits: torch.Tensor  # (M, 4, bins) raw
    targets: np.ndarray  # (M, 25) true model vectors
    observed: np.ndarray  # (M, 25) bool
    games: np.ndarray  # (M,) str
    identifiable: np.ndarray  # (M, 25) int8 probe results, NOT_PROBED where not measured
    chunks: int
    skipped: dict

    def __len__(self) -> int:
        return len(self.targets)


def predict_chunks(
    model: NitroGenIDM,
    rows,
    backend: str = "auto",
    max_chunks: int | None = None,
    batch_size: int = 32,
) -> ChunkPredictions:
    """Label every transition of every chunk row and pair it with the truth."""
    config = WindowConfig(frame_size=tuple(model.config.frame_size), backend=backend, shuffle=False)
    readers, skipped = ReaderCache(backend), Counter()
    parts: dict[str, list] = {
        k: [] for k in ("vec", "conf", "bl", "sl", "tgt", "obs", "game", "ident")
    }
    count = 0
    model.eval()
    for row in tqdm(rows, desc="predict", total=max_chunks, leave=False):
        if max_chunks is not None and count >= max_chunks:
            break
        try:
            _, frames = load_chunk_frames(row, np.arange(row["num_frames"]), readers, config)
        except ChunkError as error:
            skipped[error.kind] += 1
            logger.warning("skipped chunk %s: %s", row["uuid"], error)
            continue
        prediction = model.predict_sequence(frames, batch_size=batch_size)
        truth = GamepadActions(
            np.asarray(row["buttons"]), np.asarray(row["sticks"]), np.asarray(row["observed"])
        )
        n = len(prediction.vector)
        parts["vec"].append(prediction.vector.numpy())
        parts["conf"].append(prediction.confidence.numpy())
        parts["bl"].append(prediction.button_logits)
        parts["sl"].append(prediction.stick_logits)
        parts["tgt"].append(truth.to_vector()[:n])
        parts["obs"].append(np.tile(truth.observed, (n, 1)))
        parts["game"].append(np.full(n, row["game"] or "unknown", dtype=object))
        parts["ident"].append(_identifiable(row.get("identifiable"), row["num_frames"])[:n])
        count += 1
    readers.close()
    if count == 0:
        raise ValueError(f"no chunk could be evaluated (skipped: {dict(skipped)})")
    return ChunkPredictions(
        np.concatenate(parts["vec"]),
        np.concatenate(parts["conf"]),
        torch.cat(parts["bl"]),
        torch.cat(parts["sl"]),
        np.concatenate(parts["tgt"]),
        np.concatenate(parts["obs"]),
        np.concatenate(parts["game"]),
        np.concatenate(parts["ident"]),
        count,
        dict(skipped),
    )


def _identifiable(rows: list | None, num_frames: int) -> np.ndarray:
    """(N, 25) int8 probe masks of a dataset row (all NOT_PROBED for chunks without them)."""
    if rows is None:
        return np.full((num_frames, ACTION_DIM), NOT_PROBED, np.int8)
    return identifiable_masks(rows)


def frames_correct(
    predictions: ChunkPredictions, trained_dims: np.ndarray, bins: int
) -> np.ndarray:
    """(M,) whether every observed, trained dim is right: buttons at 0.5, sticks in the true bin."""
    dims = predictions.observed & trained_dims[None, :]
    button_wrong = (predictions.vectors[:, :NUM_BUTTONS] > BUTTON_THRESHOLD) != (
        predictions.targets[:, :NUM_BUTTONS] > BUTTON_THRESHOLD
    )
    true_bins = np.rint(predictions.targets[:, NUM_BUTTONS:] * (bins - 1))
    stick_wrong = predictions.stick_logits.argmax(-1).numpy() != true_bins
    wrong = np.concatenate([button_wrong, stick_wrong], axis=1) & dims
    return ~wrong.any(axis=1)


def calibrate(model: NitroGenIDM, predictions: ChunkPredictions, target_precision: float) -> dict:
    """Temperature-scale the IDM so its per-frame confidence matches how often the whole action
    is right on held-out chunks, then pick the confidence threshold that keeps labels right
    `target_precision` of the time. Updates `model.config` in place."""
    trained = np.asarray(model.config.trained_dims, bool)
    correct = frames_correct(predictions, trained, model.config.stick_bins)  # does not depend on T
    before = reliability(predictions.confidence, correct)

    def confidence_at(temperature: float) -> np.ndarray:
        config = replace_temperatures(model.config, temperature)
        return decode_logits(
            predictions.button_logits, predictions.stick_logits, config
        ).confidence.numpy()

    temperature = fit_temperature(confidence_at, correct)
    model.config.button_temperature = model.config.stick_temperature = temperature
    decoded = decode_logits(predictions.button_logits, predictions.stick_logits, model.config)
    predictions.vectors, predictions.confidence = decoded.vector.numpy(), decoded.confidence.numpy()
    after = reliability(predictions.confidence, correct)
    threshold = threshold_for_precision(predictions.confidence, correct, target_precision)
    model.config.confidence_threshold = threshold["threshold"]
    return {
        "temperature": temperature,
        "ece_before": before["ece"],
        "ece_after": after["ece"],
        "frame_accuracy": float(correct.mean()),
        "reliability": after,
        "threshold": threshold,
        "frames": len(predictions),
    }


def replace_temperatures(config, temperature: float):
    """A copy of an IDM config with both heads' temperatures set."""
    import copy

    config = copy.copy(config)
    config.button_temperature = config.stick_temperature = temperature
    return config


def save_calibration_plot(report: dict, path: Path) -> Path:
    from nitrogen_hf.evaluation.calibration import plot_reliability

    return plot_reliability(report["reliability"], path)
