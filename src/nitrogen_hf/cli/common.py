"""Options and overrides shared by the training commands."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_train_options(p: argparse.ArgumentParser, presets) -> None:
    """--preset (one of the trainer's table `presets`), --videos and the training-loop
    overrides every train-* command takes."""
    p.add_argument(
        "--preset",
        choices=sorted(presets),
        default="cpu",
        help="tested configuration: debug (seconds, tests), cpu (2-core default), gpu (larger)",
    )
    p.add_argument(
        "--videos", type=Path, help="folder of the user's videos (re-points video paths)"
    )
    p.add_argument(
        "--max-steps", type=int, help="optimizer steps to train for (default: the preset's)"
    )
    p.add_argument(
        "--max-minutes", type=float, help="wall-clock safety stop; saves and exits cleanly"
    )
    p.add_argument("--batch-size", type=int, help="samples per process and micro-batch")
    p.add_argument("--lr", type=float, help="peak learning rate (warmup, then cosine)")
    p.add_argument("--num-workers", type=int, help="DataLoader workers per process")
    p.add_argument("--seed", type=int, help="seed of weights, sampling and shuffling")
    p.add_argument(
        "--mixed-precision",
        choices=("no", "fp16", "bf16"),
        help="default: `accelerate launch`'s setting, else the preset's (bf16 for gpu)",
    )
    p.add_argument(
        "--gradient-accumulation-steps",
        type=int,
        help="micro-batches per optimizer step (default: the launch config's, else 1)",
    )
    p.add_argument(
        "--report-to",
        nargs="*",
        metavar="TRACKER",
        help="Accelerate trackers (tensorboard, wandb, ...); none for no tracker",
    )
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in --out")


def train_overrides(args: argparse.Namespace, config):
    """`config` (a trainer's config, frozen) with its `train` fields replaced by the flags."""
    from dataclasses import replace

    overrides = given(
        args,
        max_steps="max_steps",
        max_minutes="max_minutes",
        batch_size="batch_size",
        learning_rate="lr",
        num_workers="num_workers",
        seed="seed",
        mixed_precision="mixed_precision",
        gradient_accumulation_steps="gradient_accumulation_steps",
        report_to="report_to",
    )
    if overrides.get("report_to") in (("none",), ()):
        overrides["report_to"] = ()
    train = replace(config.train, **overrides, resume=not args.no_resume)
    return replace(config, train=train)


def given(args: argparse.Namespace, **names: str) -> dict:
    """{field: value} for the options the user actually gave (None = keep the preset's)."""
    values = {field: getattr(args, option) for field, option in names.items()}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}
