"""`nitrogen-hf train-lam` and `train-world-model`: the latent action model from video alone,
and a world model conditioned on its latent codes, on gamepad labels, or on IDM pseudo-labels.

Both run through the shared trainer; each brings only its loss. The LAM's loss reads
`batch["frames"]` and nothing else, so its training never sees an action label.
Configurations and presets: `training/configs.py` (LAM_PRESETS, WORLD_MODEL_PRESETS).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import torch

from nitrogen_hf.actions import BUTTON_THRESHOLD
from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.training.configs import LAMTrainingConfig, WorldModelTrainingConfig
from nitrogen_hf.training.trainer import (
    TrainResult,
    is_main_process,
    model_fields,
    seed_everything,
    summed_over_ranks,
    train,
)

logger = logging.getLogger("nitrogen_hf")


# --- models and losses --------------------------------------------------------------------------
def build_lam(config: LAMTrainingConfig):
    """A fresh LAM: `config.model` over LatentActionConfig's defaults."""
    from nitrogen_hf.models.lam import LatentActionConfig, LatentActionModel

    return LatentActionModel(LatentActionConfig(**config.model))


def build_world_model(fields: dict):
    """A fresh world model from WorldModelConfig fields."""
    from nitrogen_hf.models.lam import WorldModel, WorldModelConfig

    return WorldModel(WorldModelConfig(**fields))


def lam_loss(model, batch: dict) -> dict[str, torch.Tensor]:
    """Loss function for the shared trainer: reconstruct frame t+1 (frames only, no labels)."""
    out = model(batch["frames"])
    return {
        "loss": out.loss,
        "reconstruction": out.reconstruction_loss.detach(),
        "commitment": out.commitment_loss.detach(),
        "copy_baseline": out.copy_loss.detach(),
        "perplexity": out.perplexity.detach(),
    }


def world_model_loss(lam=None, idm=None):
    """Loss function for the shared trainer. The action of each window's last transition comes
    from the frozen LAM (latent code), the frozen IDM (pseudo-label) or the batch's labels."""

    def loss_fn(model, batch: dict) -> dict[str, torch.Tensor]:
        frames = batch["frames"]
        actions = window_actions(batch, model.config.action_type, lam, idm)
        out = model(frames, actions)
        return {"loss": out.loss, "copy_baseline": out.copy_loss.detach()}

    return loss_fn


def window_actions(batch: dict, action_type: str, lam=None, idm=None) -> torch.Tensor:
    """The action that world model windows are conditioned on: (B,) codes or (B, 25) vectors."""
    frames = batch["frames"]
    if action_type == "latent":
        lam = lam.to(frames.device).eval()
        return lam.encode(frames[:, -lam.config.num_frames :]).codes
    if idm is not None:  # its window up to its width, so it sees what it was trained on
        idm = idm.to(frames.device).eval()
        vector = idm.predict(frames[:, -idm.config.num_frames :]).vector[:, -1]
        return (vector > BUTTON_THRESHOLD).float()
    return batch["actions"][:, -1] * batch["observed"].float()


# --- training -----------------------------------------------------------------------------------
def _window_dataset(config, data: str, videos_dir, model_config):
    """Windows of the model's context plus the predicted frame, at its frame size."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.data.windows import WindowConfig, WindowDataset

    chunks = load_chunk_dataset(data, config.train_split, videos_dir=videos_dir)
    windows = WindowConfig.idm(
        model_config.context_frames + 1,
        frame_size=tuple(model_config.frame_size),
        stride=config.window_stride,
        seed=config.train.seed,
        backend=config.backend,
    )
    return WindowDataset(chunks, windows)


def train_lam(
    config: LAMTrainingConfig, data: str, output_dir: Path, videos_dir: Path | None = None
) -> dict:
    """Train the LAM on the video of `data`, save it into `output_dir`; returns a summary (also
    written to `training_summary.json`) with the codebook's use over the last logged steps."""
    from nitrogen_hf.data.windows import collate_windows

    output_dir = Path(output_dir)
    seed_everything(config.train.seed)
    model = build_lam(config)
    dataset = _window_dataset(config, data, videos_dir, model.config)
    run_config = {"data": data, "output_dir": str(output_dir), **asdict(config)}
    run_config["model"] = model_fields(model.config)
    result = train(
        model, dataset, config.train, lam_loss, output_dir, collate_windows, run_config=run_config
    )
    summary = _summary(
        data, _fields(model.config, "context_frames", "frame_size", "codebook_size"), result, model
    )
    summary["skipped_chunks"] = summed_over_ranks(dataset.skipped)
    summary["perplexity"] = _last_logged(result, "perplexity")
    summary["copy_baseline"] = _last_logged(result, "copy_baseline")
    summary["reconstruction"] = _last_logged(result, "reconstruction")
    if is_main_process():
        write_json_atomic(output_dir / "training_summary.json", summary)
    return summary


def train_world_model(
    config: WorldModelTrainingConfig,
    data: str,
    output_dir: Path,
    lam: str | None = None,
    idm: str | None = None,
    videos_dir: Path | None = None,
) -> dict:
    """Train the world model on windows of `data` into `output_dir`. With `lam` (a LAM folder)
    it is conditioned on the LAM's latent codes, at the LAM's frame size and at least its
    context; otherwise on gamepad actions: the labels, or the pseudo-labels of `idm`."""
    from nitrogen_hf.data.windows import collate_windows
    from nitrogen_hf.models.idm import NitroGenIDM
    from nitrogen_hf.models.lam import LatentActionModel

    output_dir = Path(output_dir)
    lam_model = LatentActionModel.from_pretrained(lam) if lam else None
    idm_model = NitroGenIDM.from_pretrained(idm) if idm else None
    fields = dict(config.model)
    if lam_model is not None:
        lam_config = lam_model.config
        fields.update(
            action_type="latent",
            num_latent_actions=lam_config.codebook_size,
            context_frames=max(fields.get("context_frames", 2), lam_config.context_frames),
            frame_size=tuple(lam_config.frame_size),
        )
    else:
        fields["action_type"] = "gamepad"
    seed_everything(config.train.seed)
    model = build_world_model(fields)
    dataset = _window_dataset(config, data, videos_dir, model.config)
    run_config = {"data": data, "output_dir": str(output_dir), "lam": lam, "idm": idm,
                  **asdict(config), "model": model_fields(model.config)}  # fmt: skip
    loss_fn = world_model_loss(lam_model, idm_model)
    result = train(
        model, dataset, config.train, loss_fn, output_dir, collate_windows, run_config=run_config
    )
    summary = _summary(
        data, _fields(model.config, "action_type", "context_frames", "frame_size"), result, model
    )
    summary["skipped_chunks"] = summed_over_ranks(dataset.skipped)
    source = "latent" if lam_model is not None else ("idm" if idm_model is not None else "labels")
    summary["action_source"] = source
    summary["copy_baseline"] = _last_logged(result, "copy_baseline")
    if is_main_process():
        write_json_atomic(output_dir / "training_summary.json", summary)
    return summary


def _fields(config, *names: str) -> dict:
    return {name: getattr(config, name) for name in names}


def _summary(data: str, model_fields: dict, result: TrainResult, model) -> dict:
    return {
        "data": data,
        "model": model_fields,
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": result.steps,
        "seconds": result.seconds,
        "samples_per_second": result.samples_per_second,
        "final_loss": result.final_loss,
        "resumed_from": result.resumed_from,
        "run": result.settings,
    }


def _last_logged(result: TrainResult, key: str, last: int = 10) -> float | None:
    """Mean of the last `last` logged values of `key` (one batch alone is noisy)."""
    values = [h[key] for h in result.history if key in h][-last:]
    return sum(values) / len(values) if values else None
