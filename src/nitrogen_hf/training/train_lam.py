"""`nitrogen-hf train-lam` and `train-world-model`: the latent action model from video alone,
and a world model conditioned on its latent codes, on gamepad labels, or on IDM pseudo-labels.

Both run through the shared trainer; each brings only its loss. The LAM's loss reads
`batch["frames"]` and nothing else, so its training never sees an action label.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.training.trainer import (
    TrainConfig,
    TrainResult,
    seed_everything,
    summed_over_ranks,
    train,
)

logger = logging.getLogger("nitrogen_hf")

PRESETS = ("debug", "cpu", "gpu")


@dataclass
class LAMModelOptions:
    """The LAM architecture fields a user picks (the rest are LatentActionConfig defaults)."""

    context_frames: int = 1
    frame_size: tuple[int, int] = (64, 64)
    patch_size: int = 4
    channels: tuple[int, ...] = (32, 64, 128)
    latent_dim: int = 32
    codebook_size: int = 8


@dataclass
class WorldModelOptions:
    """The world model fields a user picks; the frame size follows the LAM's when conditioned
    on its codes, and the context must be at least the LAM's."""

    action_type: str = "latent"  # latent | gamepad
    context_frames: int = 2
    frame_size: tuple[int, int] = (64, 64)
    patch_size: int = 4
    channels: tuple[int, ...] = (32, 64, 128)
    action_embed_dim: int = 32


@dataclass
class LAMTrainingConfig:
    """Everything `train-lam` needs; `lam_preset` names tested combinations."""

    data: str  # build-dataset folder or Hub repo id (only the video is used)
    output_dir: Path
    videos_dir: Path | None = None  # re-point video paths to the user's copies
    train_split: str = "train"
    window_stride: int = 1
    backend: str = "auto"
    model: LAMModelOptions = field(default_factory=LAMModelOptions)
    train: TrainConfig | None = None

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)
        if self.train is None:
            self.train = TrainConfig(output_dir=self.output_dir)


@dataclass
class WorldModelTrainingConfig:
    """Everything `train-world-model` needs. Latent actions come from the LAM at `lam`;
    gamepad actions from the labels, or from the IDM at `idm` (pseudo-labels) when given."""

    data: str
    output_dir: Path
    lam: str | None = None  # LAM folder: required for action_type="latent"
    idm: str | None = None  # IDM folder: gamepad actions from its labels instead of the data's
    videos_dir: Path | None = None
    train_split: str = "train"
    window_stride: int = 1
    backend: str = "auto"
    model: WorldModelOptions = field(default_factory=WorldModelOptions)
    train: TrainConfig | None = None

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)
        if self.train is None:
            self.train = TrainConfig(output_dir=self.output_dir)
        if self.model.action_type == "latent" and not self.lam:
            raise ValueError("a latent-action world model needs the LAM folder (lam=...)")


# --- presets ------------------------------------------------------------------------------------
def _train_preset(name: str, output_dir: Path) -> TrainConfig:
    """Optimisation of each preset, shared by the LAM and the world model."""
    presets = {
        "debug": TrainConfig(
            output_dir=output_dir,
            max_steps=4,
            batch_size=4,
            warmup_steps=1,
            log_every=1,
            checkpoint_every=2,
        ),
        "cpu": TrainConfig(
            output_dir=output_dir,
            max_steps=3000,
            batch_size=32,
            learning_rate=1e-3,
            warmup_steps=50,
        ),
        "gpu": TrainConfig(
            output_dir=output_dir,
            max_steps=50_000,
            batch_size=128,
            learning_rate=5e-4,
            warmup_steps=1000,
            num_workers=8,
            default_mixed_precision="bf16",
            checkpoint_every=2000,
        ),
    }
    if name not in presets:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(presets)}")
    return presets[name]


_ARCHITECTURES = {  # (frame_size, patch_size, channels) per preset
    "debug": ((32, 32), 2, (16, 32)),
    "cpu": ((64, 64), 4, (32, 64, 128)),
    "gpu": ((128, 128), 4, (64, 128, 256, 256)),
}


def lam_preset(name: str, data: str, output_dir: Path, **overrides) -> LAMTrainingConfig:
    """`debug` trains in seconds (tests); `cpu` is the 2-core default; `gpu` larger frames."""
    output_dir = Path(output_dir)
    train_config = _train_preset(name, output_dir)  # checks the name
    frame_size, patch, channels = _ARCHITECTURES[name]
    model = LAMModelOptions(
        frame_size=frame_size,
        patch_size=patch,
        channels=channels,
        latent_dim=16 if name == "debug" else 32,
    )
    config = LAMTrainingConfig(data=data, output_dir=output_dir, model=model, train=train_config)
    return replace(config, **overrides)


def world_model_preset(
    name: str, data: str, output_dir: Path, action_type: str = "latent", **overrides
) -> WorldModelTrainingConfig:
    """Same sizes as `lam_preset`, so a latent world model matches the LAM it follows."""
    output_dir = Path(output_dir)
    train_config = _train_preset(name, output_dir)  # checks the name
    frame_size, patch, channels = _ARCHITECTURES[name]
    model = WorldModelOptions(
        action_type=action_type, frame_size=frame_size, patch_size=patch, channels=channels
    )
    fields = {"data": data, "output_dir": output_dir, "model": model, "train": train_config}
    return WorldModelTrainingConfig(**{**fields, **overrides})


# --- models and losses --------------------------------------------------------------------------
def build_lam(options: LAMModelOptions):
    from nitrogen_hf.models.lam import LatentActionConfig, LatentActionModel

    return LatentActionModel(LatentActionConfig(**asdict(options)))


def build_world_model(options: WorldModelOptions, num_latent_actions: int = 8):
    from nitrogen_hf.models.lam import WorldModel, WorldModelConfig

    return WorldModel(WorldModelConfig(num_latent_actions=num_latent_actions, **asdict(options)))


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
        return (vector > 0.5).float()
    return batch["actions"][:, -1] * batch["observed"].float()


# --- training -----------------------------------------------------------------------------------
def _window_dataset(data, split, videos_dir, num_frames, frame_size, stride, seed, backend):
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.data.windows import WindowConfig, WindowDataset

    chunks = load_chunk_dataset(data, split, videos_dir=videos_dir)
    windows = WindowConfig.idm(
        num_frames, frame_size=tuple(frame_size), stride=stride, seed=seed, backend=backend
    )
    return WindowDataset(chunks, windows)


def train_lam(config: LAMTrainingConfig) -> dict:
    """Train the LAM on the video of `config.data`, save it; returns a summary (also written to
    `training_summary.json`) with the codebook's use over the last logged steps."""
    from nitrogen_hf.data.windows import collate_windows

    seed_everything(config.train.seed)
    model = build_lam(config.model)
    dataset = _window_dataset(
        config.data,
        config.train_split,
        config.videos_dir,
        config.model.context_frames + 1,
        config.model.frame_size,
        config.window_stride,
        config.train.seed,
        config.backend,
    )
    result = train(
        model, dataset, config.train, lam_loss, collate_windows, run_config=asdict(config)
    )
    summary = _summary(config.data, asdict(config.model), result, model)
    summary["skipped_chunks"] = summed_over_ranks(dataset.skipped)
    summary["perplexity"] = _last_logged(result, "perplexity")
    summary["copy_baseline"] = _last_logged(result, "copy_baseline")
    summary["reconstruction"] = _last_logged(result, "reconstruction")
    if _is_main_process():
        write_json_atomic(config.output_dir / "training_summary.json", summary)
    return summary


def train_world_model(config: WorldModelTrainingConfig) -> dict:
    """Train the world model on windows of `config.data`, conditioned as configured."""
    from nitrogen_hf.data.windows import collate_windows
    from nitrogen_hf.models.idm import NitroGenIDM
    from nitrogen_hf.models.lam import LatentActionModel

    lam = LatentActionModel.from_pretrained(config.lam) if config.lam else None
    idm = NitroGenIDM.from_pretrained(config.idm) if config.idm else None
    options = config.model
    if lam is not None and options.action_type == "latent":
        options = replace(
            options,
            context_frames=max(options.context_frames, lam.config.context_frames),
            frame_size=tuple(lam.config.frame_size),
        )
    codes = lam.config.codebook_size if lam is not None else 8
    seed_everything(config.train.seed)
    model = build_world_model(options, num_latent_actions=codes)
    dataset = _window_dataset(
        config.data,
        config.train_split,
        config.videos_dir,
        options.context_frames + 1,
        options.frame_size,
        config.window_stride,
        config.train.seed,
        config.backend,
    )
    loss_fn = world_model_loss(lam, idm)
    result = train(
        model, dataset, config.train, loss_fn, collate_windows, run_config=asdict(config)
    )
    summary = _summary(config.data, asdict(options), result, model)
    summary["skipped_chunks"] = summed_over_ranks(dataset.skipped)
    summary["action_source"] = (
        "latent" if options.action_type == "latent" else ("idm" if idm is not None else "labels")
    )
    summary["copy_baseline"] = _last_logged(result, "copy_baseline")
    if _is_main_process():
        write_json_atomic(config.output_dir / "training_summary.json", summary)
    return summary


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


def _is_main_process() -> bool:
    return not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0
