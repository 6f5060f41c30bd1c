"""Every trainer's configuration, and one table of named presets per trainer.

Configs are frozen: a preset is a constant, and a run changes fields with `dataclasses.replace`
(the command line's flags do just that). Data and output folders are not part of a config:
they are given to the trainer at run time. Architecture defaults live in the model configs
(`NitroGenIDMConfig`, ...); a preset names only the fields it changes. Light to import (no
torch), so the command line reads its choices from these tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nitrogen_hf.presets import preset  # noqa: F401 - the lookup of every table below


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and bookkeeping shared by every model's training.

    Budgets are optimizer steps (a run reproduces on any machine); `max_minutes` is only a
    safety stop. Mixed precision and gradient accumulation come from these fields when set,
    else from `accelerate launch` (its config or flags), else `default_mixed_precision`.
    """

    max_steps: int | None = 1000  # optimizer steps; None: no limit (then max_minutes must stop it)
    max_minutes: float | None = None  # wall-clock safety stop; stops cleanly and saves
    batch_size: int = 32  # per process and micro-batch
    learning_rate: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 50
    min_lr_rate: float = 0.1  # the cosine schedule ends at this fraction of the peak rate
    grad_clip: float = 1.0
    num_workers: int = 0
    log_every: int = 10
    checkpoint_every: int = 200  # resumable state (model, optimizer, scheduler, EMA, step)
    keep_checkpoints: int = 2
    seed: int = 0
    mixed_precision: str | None = None  # "no" | "fp16" | "bf16"; None: the launch config's
    default_mixed_precision: str = "no"  # the preset's choice when neither says
    gradient_accumulation_steps: int | None = None  # None: the launch config's, else 1
    report_to: tuple[str, ...] = ("tensorboard",)  # Accelerate trackers; () for none
    ema_decay: float | None = None  # EMA of the trainable weights, saved as the final model
    resume: bool = True  # continue from the newest checkpoint in the output folder

    def __post_init__(self) -> None:
        if self.max_steps is None and self.max_minutes is None:
            raise ValueError("max_steps=None (no step limit) needs max_minutes to stop training")
        if self.max_steps is not None and self.max_steps < 0:
            raise ValueError(f"max_steps must be >= 0 or None, got {self.max_steps}")


# Seconds of training for tests: every trainer's `debug` preset.
DEBUG_TRAIN = TrainConfig(
    max_steps=4, batch_size=4, warmup_steps=1, log_every=1, checkpoint_every=2
)


@dataclass(frozen=True)
class AugmentConfig:
    """IDM window augmentations (training/augment.py); `enabled=False` passes windows through."""

    enabled: bool = True
    mirror_prob: float = 0.5
    channel_shuffle_prob: float = 0.5
    grayscale_prob: float = 0.1
    brightness: float = 0.25  # multiplicative jitter range
    contrast: float = 0.25
    max_shift: float = 0.06  # fraction of the frame size
    cutout_prob: float = 0.5
    cutout_max_size: float = 0.35  # fraction of each side


# --- the IDM ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class IDMTrainingConfig:
    """What `train-idm` does besides the data and output folders."""

    model: dict = field(default_factory=dict)  # NitroGenIDMConfig fields over its defaults
    backbone: str | None = None  # HF vision model name or path: a pretrained trunk
    train: TrainConfig = TrainConfig()
    augment: AugmentConfig = AugmentConfig(enabled=False)
    train_split: str = "train"
    calibration_split: str | None = "validation"  # None: skip calibration
    calibration_chunks: int | None = 200  # bound the calibration pass
    target_precision: float = 0.9  # confidence threshold chosen to keep labels this precise
    # None: T-1, windows tile the transitions and each is trained on once per epoch. With
    # stride 1 a T=8 window repeats 6 of its neighbour's 7 transitions: 7x the compute per new
    # transition, and a batch drawn from fewer moments of play.
    window_stride: int | None = None
    backend: str = "auto"


IDM_PRESETS = {
    "debug": IDMTrainingConfig(
        model={
            "num_frames": 4,
            "frame_size": (32, 32),
            "cnn_channels": (16, 32),
            "hidden_size": 32,
            "stick_bins": 5,
        },
        train=DEBUG_TRAIN,
    ),
    # The architecture defaults: 84x64, frames t and t+1. Within 12 CPU minutes the 8-frame
    # window stalled at the no-op plateau where T=2 got past it (scripts/results/bench_idm.json).
    # Augmentation halves CPU throughput and, at CPU budgets, costs more than it gives.
    "cpu": IDMTrainingConfig(
        train=TrainConfig(max_steps=6000, batch_size=32, learning_rate=3e-3, warmup_steps=50)
    ),
    # With steps to spare, the gpu preset trains augmented windows for transfer.
    "gpu": IDMTrainingConfig(
        model={
            "num_frames": 16,
            "frame_size": (128, 128),
            "cnn_channels": (64, 128, 256),
            "hidden_size": 384,
            "num_layers": 4,
            "num_heads": 6,
        },
        train=TrainConfig(
            max_steps=50_000,
            batch_size=64,
            learning_rate=5e-4,
            warmup_steps=1000,
            num_workers=8,
            default_mixed_precision="bf16",
            checkpoint_every=2000,
        ),
        augment=AugmentConfig(enabled=True),
    ),
}


# --- the policy --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PolicyTrainingConfig:
    """What `train-policy` does besides the data sources and the output folder."""

    architecture: str = "tiny"  # NitroGenPolicyConfig preset (ignored with base_model)
    policy_overrides: dict = field(default_factory=dict)  # e.g. {"action_horizon": 8}
    base_model: str | None = None  # fine-tune (or adapt) this policy instead of a fresh one
    vision_pretrained: str | None = None  # fresh policy whose tower starts from these weights
    game_conditioning: bool = False  # a game-id token learned from the data's game names
    lora_rank: int | None = None  # LoRA adapter on base_model; saves only the adapter
    lora_alpha: float | None = None  # defaults to 2 x rank
    # Modules trained in full beside the adapter (peft's modules_to_save), e.g. the action
    # encoder/decoder for a new controller; game_embedding is added when new games get rows.
    lora_modules_to_save: tuple[str, ...] = ()
    split: str = "train"
    backend: str = "auto"
    train: TrainConfig = TrainConfig()

    def __post_init__(self) -> None:
        if self.lora_rank is not None and self.base_model is None:
            raise ValueError("--lora-rank adapts an existing policy: give --base-model too")


POLICY_PRESETS = {
    "debug": PolicyTrainingConfig(policy_overrides={"action_horizon": 4}, train=DEBUG_TRAIN),
    "cpu": PolicyTrainingConfig(
        policy_overrides={"action_horizon": 8},
        train=TrainConfig(
            max_steps=4000, batch_size=32, learning_rate=3e-4, warmup_steps=100, ema_decay=0.999
        ),
    ),
    "gpu": PolicyTrainingConfig(
        architecture="base",
        train=TrainConfig(
            max_steps=100_000,
            batch_size=64,
            learning_rate=1e-4,
            warmup_steps=2000,
            num_workers=8,
            default_mixed_precision="bf16",
            ema_decay=0.9999,
            checkpoint_every=5000,
        ),
    ),
}


# --- latent actions and world models -----------------------------------------------------------
@dataclass(frozen=True)
class LAMTrainingConfig:
    """What `train-lam` does besides the data and output folders (only the video is used)."""

    model: dict = field(default_factory=dict)  # LatentActionConfig fields over its defaults
    train_split: str = "train"
    window_stride: int = 1
    backend: str = "auto"
    train: TrainConfig = TrainConfig()


@dataclass(frozen=True)
class WorldModelTrainingConfig:
    """What `train-world-model` does besides the folders. Latent actions come from a LAM,
    gamepad actions from the labels or from an IDM's pseudo-labels."""

    model: dict = field(default_factory=dict)  # WorldModelConfig fields over its defaults
    train_split: str = "train"
    window_stride: int = 1
    backend: str = "auto"
    train: TrainConfig = TrainConfig()


_LAM_TRAIN = {
    "debug": DEBUG_TRAIN,
    "cpu": TrainConfig(max_steps=3000, batch_size=32, learning_rate=1e-3, warmup_steps=50),
    "gpu": TrainConfig(
        max_steps=50_000,
        batch_size=128,
        learning_rate=5e-4,
        warmup_steps=1000,
        num_workers=8,
        default_mixed_precision="bf16",
        checkpoint_every=2000,
    ),
}
# Frame size, patch and widths: a latent world model matches the LAM it follows.
_LAM_SIZES = {
    "debug": {"frame_size": (32, 32), "patch_size": 2, "channels": (16, 32)},
    "cpu": {},  # the model configs' defaults: 64x64, patch 4, widths (32, 64, 128)
    "gpu": {"frame_size": (128, 128), "channels": (64, 128, 256, 256)},
}
LAM_PRESETS = {
    name: LAMTrainingConfig(
        model={**sizes, **({"latent_dim": 16} if name == "debug" else {})}, train=_LAM_TRAIN[name]
    )
    for name, sizes in _LAM_SIZES.items()
}
WORLD_MODEL_PRESETS = {
    name: WorldModelTrainingConfig(model=dict(sizes), train=_LAM_TRAIN[name])
    for name, sizes in _LAM_SIZES.items()
}
