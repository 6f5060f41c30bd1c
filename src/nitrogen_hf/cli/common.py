"""Options and overrides shared by the training commands."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_train_options(p: argparse.ArgumentParser) -> None:
    """--preset, --videos and the training-loop overrides every train-* command takes."""
    p.add_argument("--preset", choices=("debug", "cpu", "gpu"), default="cpu")
    p.add_argument(
        "--videos", type=Path, help="folder of the user's videos (re-points video paths)"
    )
    p.add_argument("--max-steps", type=int)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--num-workers", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in --out")


def train_overrides(args: argparse.Namespace, train_config):
    from dataclasses import replace

    train_config = replace(
        train_config,
        **given(
            args,
            max_steps="max_steps",
            max_minutes="max_minutes",
            batch_size="batch_size",
            learning_rate="lr",
            num_workers="num_workers",
            seed="seed",
        ),
    )
    train_config.resume = not args.no_resume
    return train_config


def given(args: argparse.Namespace, **names: str) -> dict:
    """{field: value} for the options the user actually gave (None = keep the preset's)."""
    values = {field: getattr(args, option) for field, option in names.items()}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}
