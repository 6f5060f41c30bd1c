"""`nitrogen-hf train-idm`: train the inverse dynamics model on a built dataset, then
calibrate its confidence on the held-out split and save it with `save_pretrained`."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.training.augment import AugmentConfig, augment_window_batch
from nitrogen_hf.training.trainer import (
    TrainConfig,
    TrainResult,
    seed_everything,
    summed_over_ranks,
    train,
)

logger = logging.getLogger("nitrogen_hf")


@dataclass
class IDMModelOptions:
    """The IDM architecture fields a user picks (the rest are NitroGenIDMConfig defaults).

    The trunk defaults are the `cpu` preset's: small and fast, because on 2 CPU cores the number
    of steps decides more than the width (a 4x wider model learned less in the same minutes).
    84x64 keeps the 210x160 Atari aspect; use a landscape size for 16:9 video. The default
    window is 8 frames; the `cpu` preset uses 2 (see `idm_preset`).
    """

    num_frames: int = 8
    frame_size: tuple[int, int] = (84, 64)
    cnn_channels: tuple[int, ...] = (16, 32, 64)
    stem_stride: int = 2
    hidden_size: int = 64
    num_layers: int = 1
    num_heads: int = 2
    stick_bins: int = 21
    backbone: str | None = None  # HF vision model name or path: pretrained trunk instead of the CNN


@dataclass
class IDMTrainingConfig:
    """Everything `train-idm` needs; presets below name tested combinations."""

    data: str  # build-dataset folder or Hub repo id
    output_dir: Path
    videos_dir: Path | None = None  # re-point video paths to the user's copies
    train_split: str = "train"
    calibration_split: str | None = "validation"  # None: skip calibration
    calibration_chunks: int | None = 200  # bound the calibration pass
    target_precision: float = 0.9  # confidence threshold chosen to keep labels this precise
    # None: T-1, windows tile the transitions and each is trained on once per epoch. With
    # stride 1 a T=8 window repeats 6 of its neighbour's 7 transitions: 7x the compute per new
    # transition, and a batch drawn from fewer moments of play.
    window_stride: int | None = None
    backend: str = "auto"
    model: IDMModelOptions = field(default_factory=IDMModelOptions)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train: TrainConfig | None = None

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)
        if self.train is None:
            self.train = TrainConfig(output_dir=self.output_dir)


def idm_preset(name: str, data: str, output_dir: Path, **overrides) -> IDMTrainingConfig:
    """`debug` trains in seconds (tests); `cpu` is the 2-core default; `gpu` a larger model."""
    output_dir = Path(output_dir)
    presets = {
        "debug": (
            IDMModelOptions(
                num_frames=4,
                frame_size=(32, 32),
                cnn_channels=(16, 32),
                stem_stride=2,
                hidden_size=32,
                num_layers=1,
                num_heads=2,
                stick_bins=5,
            ),
            TrainConfig(
                output_dir=output_dir,
                max_steps=4,
                batch_size=4,
                warmup_steps=1,
                log_every=1,
                checkpoint_every=2,
            ),
        ),
        "cpu": (
            # T=2: within 12 CPU minutes the 8-frame window stalled at the no-op plateau on the
            # small-sprite games while T=2 got past it (scripts/results/bench_idm.json).
            IDMModelOptions(num_frames=2),
            TrainConfig(
                output_dir=output_dir,
                max_steps=6000,
                batch_size=32,
                learning_rate=3e-3,
                warmup_steps=50,
            ),
        ),
        "gpu": (
            IDMModelOptions(
                num_frames=16,
                frame_size=(128, 128),
                cnn_channels=(64, 128, 256),
                stem_stride=2,
                hidden_size=384,
                num_layers=4,
                num_heads=6,
            ),
            TrainConfig(
                output_dir=output_dir,
                max_steps=50_000,
                batch_size=64,
                learning_rate=5e-4,
                warmup_steps=1000,
                num_workers=8,
                default_mixed_precision="bf16",
                checkpoint_every=2000,
            ),
        ),
    }
    if name not in presets:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(presets)}")
    model, train_config = presets[name]
    # Augmentation halves CPU throughput and, at CPU budgets, costs more than it gives;
    # the gpu preset, with steps to spare, trains on augmented windows for transfer.
    augment = AugmentConfig(enabled=name == "gpu")
    config = IDMTrainingConfig(
        data=data, output_dir=output_dir, model=model, train=train_config, augment=augment
    )
    return replace(config, **overrides)


def build_idm(options: IDMModelOptions, trained_dims: list[bool]):
    """A fresh IDM (random CNN trunk, or the pretrained backbone's weights)."""
    from nitrogen_hf.models.idm import NitroGenIDM, NitroGenIDMConfig

    fields = {k: v for k, v in asdict(options).items() if k != "backbone"}
    if options.backbone:
        return NitroGenIDM.from_backbone(options.backbone, trained_dims=trained_dims, **fields)
    return NitroGenIDM(NitroGenIDMConfig(trained_dims=trained_dims, **fields))


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


def train_idm(config: IDMTrainingConfig) -> dict:
    """Train, calibrate, save; returns a summary (also written to `training_summary.json`)."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.data.windows import WindowConfig, WindowDataset, collate_windows
    from nitrogen_hf.evaluation.idm_eval import trained_dims_of

    chunks = load_chunk_dataset(config.data, config.train_split, videos_dir=config.videos_dir)
    trained_dims = trained_dims_of(chunks.select_columns(["observed"]))
    seed_everything(config.train.seed)
    model = build_idm(config.model, trained_dims)
    windows = WindowConfig.idm(
        config.model.num_frames,
        frame_size=tuple(config.model.frame_size),
        stride=config.window_stride or config.model.num_frames - 1,
        seed=config.train.seed,
        backend=config.backend,
    )
    dataset = WindowDataset(chunks, windows)
    result = train(
        model,
        dataset,
        config.train,
        idm_loss(config.augment),
        collate_windows,
        run_config=asdict(config),
    )
    summary = _training_summary(config, result, model)
    summary["skipped_chunks"] = summed_over_ranks(dataset.skipped)  # first pass over the data
    if config.calibration_split and _is_main_process():
        summary["calibration"] = calibrate_saved_idm(config)
    if _is_main_process():
        write_json_atomic(config.output_dir / "training_summary.json", summary)
        _refresh_card(config.output_dir)
    return summary


def _refresh_card(folder: Path) -> None:
    """Re-render the model card now that the training summary exists."""
    from nitrogen_hf.hub.cards import write_model_card

    write_model_card(folder)


def calibrate_saved_idm(config: IDMTrainingConfig) -> dict:
    """Reload the trained IDM, fit its calibration on held-out chunks, save it again."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.evaluation.idm_eval import calibrate, predict_chunks, save_calibration_plot
    from nitrogen_hf.models.idm import NitroGenIDM

    model = NitroGenIDM.from_pretrained(config.output_dir)
    try:
        rows = load_chunk_dataset(
            config.data, config.calibration_split, videos_dir=config.videos_dir
        )
        predictions = predict_chunks(model, rows, config.backend, config.calibration_chunks)
    except (ValueError, FileNotFoundError) as error:
        logger.warning(
            "cannot calibrate on the '%s' split (%s); confidence left uncalibrated",
            config.calibration_split,
            error,
        )
        return {"skipped": str(error)}
    report = calibrate(model, predictions, config.target_precision)
    save_calibration_plot(report, config.output_dir / "calibration.png")
    write_json_atomic(config.output_dir / "calibration.json", report)
    model.save_pretrained(config.output_dir)  # calibrated config; the card quotes calibration.json
    logger.info(
        "calibrated: ECE %.3f -> %.3f, threshold %s keeps %.0f%% at precision >= %.2f",
        report["ece_before"],
        report["ece_after"],
        report["threshold"]["threshold"],
        100 * report["threshold"]["kept_fraction"],
        config.target_precision,
    )
    return {k: v for k, v in report.items() if k != "reliability"}


def _training_summary(config: IDMTrainingConfig, result: TrainResult, model) -> dict:
    return {
        "data": config.data,
        "model": asdict(config.model),
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": result.steps,
        "seconds": result.seconds,
        "samples_per_second": result.samples_per_second,
        "final_loss": result.final_loss,
        "resumed_from": result.resumed_from,
        "run": result.settings,
    }


def _is_main_process() -> bool:
    return not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0
