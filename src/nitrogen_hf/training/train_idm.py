"""`nitrogen-hf train-idm`: train the inverse dynamics model on a built dataset, then
calibrate its confidence on the held-out split and save it with `save_pretrained`.
Configurations and their presets: `training/configs.py` (IDMTrainingConfig, IDM_PRESETS)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import torch

from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.training.augment import augment_window_batch
from nitrogen_hf.training.configs import AugmentConfig, IDMTrainingConfig
from nitrogen_hf.training.trainer import (
    TrainResult,
    is_main_process,
    model_fields,
    seed_everything,
    summed_over_ranks,
    train,
)

logger = logging.getLogger("nitrogen_hf")


def build_idm(config: IDMTrainingConfig, trained_dims: list[bool]):
    """A fresh IDM: `config.model` over NitroGenIDMConfig's defaults (random CNN trunk), or
    the pretrained backbone's weights."""
    from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig

    if config.backbone:
        return NitroGenIDM.from_backbone(config.backbone, trained_dims=trained_dims, **config.model)
    return NitroGenIDM(NitroGenIDMConfig(trained_dims=trained_dims, **config.model))


def idm_loss(augment: AugmentConfig):
    """Loss function for the shared trainer: augment the window batch, masked IDM loss."""

    def loss_fn(model, batch: dict) -> dict[str, torch.Tensor]:
        frames, actions = (
            augment_window_batch(batch["frames"], batch["actions"], augment)
            if model.training
            else (batch["frames"], batch["actions"])
        )
        out = model(frames, actions, batch["observed"], batch["confidence"])
        return {
            "loss": out.loss,
            "button_loss": out.button_loss.detach(),
            "stick_loss": out.stick_loss.detach(),
        }

    return loss_fn


def train_idm(
    config: IDMTrainingConfig, data: str, output_dir: Path, videos_dir: Path | None = None
) -> dict:
    """Train on `data` (a build-dataset folder or Hub id), calibrate, save into `output_dir`
    with its card; returns a summary (also written to `training_summary.json`)."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset, observed_dims
    from nitrogen_hf.data.windows import WindowConfig, WindowDataset, collate_windows

    output_dir = Path(output_dir)
    chunks = load_chunk_dataset(data, config.train_split, videos_dir=videos_dir)
    trained_dims = observed_dims(chunks.select_columns(["observed"]))
    seed_everything(config.train.seed)
    model = build_idm(config, trained_dims)
    num_frames = model.config.num_frames
    windows = WindowConfig.idm(
        num_frames,
        frame_size=tuple(model.config.frame_size),
        stride=config.window_stride or num_frames - 1,
        seed=config.train.seed,
        backend=config.backend,
    )
    dataset = WindowDataset(chunks, windows)
    run_config = {"data": data, "output_dir": str(output_dir), **asdict(config)}
    run_config["model"] = {
        k: v for k, v in model_fields(model.config).items() if k != "trained_dims"
    }
    result = train(
        model,
        dataset,
        config.train,
        idm_loss(config.augment),
        output_dir,
        collate_windows,
        run_config=run_config,
    )
    summary = _training_summary(data, result, model)
    summary["skipped_chunks"] = summed_over_ranks(dataset.skipped)  # first pass over the data
    if config.calibration_split and is_main_process():
        summary["calibration"] = calibrate_saved_idm(config, data, output_dir, videos_dir)
    if is_main_process():
        from nitrogen_hf.hub.cards import write_model_card

        write_json_atomic(output_dir / "training_summary.json", summary)
        write_model_card(output_dir)  # once, with every report of the folder
    return summary


def calibrate_saved_idm(
    config: IDMTrainingConfig, data: str, output_dir: Path, videos_dir: Path | None = None
) -> dict:
    """Reload the trained IDM, fit its calibration on held-out chunks, save it again."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.evaluation.idm_eval import calibrate, predict_chunks, save_calibration_plot
    from nitrogen_hf.models.idm import NitroGenIDM

    model = NitroGenIDM.from_pretrained(output_dir)
    try:
        rows = load_chunk_dataset(data, config.calibration_split, videos_dir=videos_dir)
        predictions = predict_chunks(model, rows, config.backend, config.calibration_chunks)
    except (ValueError, FileNotFoundError) as error:
        logger.warning(
            "cannot calibrate on the '%s' split (%s); confidence left uncalibrated",
            config.calibration_split,
            error,
        )
        return {"skipped": str(error)}
    report = calibrate(model, predictions, config.target_precision)
    save_calibration_plot(report, output_dir / "calibration.png")
    write_json_atomic(output_dir / "calibration.json", report)
    model.save_pretrained(output_dir)  # calibrated config; the card quotes calibration.json
    logger.info(
        "calibrated: ECE %.3f -> %.3f, threshold %s keeps %.0f%% at precision >= %.2f",
        report["ece_before"],
        report["ece_after"],
        report["threshold"]["threshold"],
        100 * report["threshold"]["kept_fraction"],
        config.target_precision,
    )
    return {k: v for k, v in report.items() if k != "reliability"}


def _training_summary(data: str, result: TrainResult, model) -> dict:
    config = model.config
    architecture = ("num_frames", "frame_size", "trunk", "cnn_channels", "hidden_size")
    return {
        "data": data,
        "model": {name: getattr(config, name) for name in architecture},
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": result.steps,
        "seconds": result.seconds,
        "samples_per_second": result.samples_per_second,
        "final_loss": result.final_loss,
        "resumed_from": result.resumed_from,
        "run": result.settings,
    }
