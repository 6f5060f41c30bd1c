"""`train-lam`, `train-world-model`, `eval-lam`: latent actions and world models from video alone."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nitrogen_hf.cli.common import add_train_options, given, train_overrides
from nitrogen_hf.training.configs import LAM_PRESETS, WORLD_MODEL_PRESETS


def _add_train_lam(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-lam", help="train the latent action model on video alone (no action labels)"
    )
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True, help="model folder (resumes from it)")
    p.add_argument("--context-frames", type=int, help="past frames the LAM sees")
    p.add_argument("--codebook-size", type=int, help="number of latent actions (Genie: 8)")
    p.add_argument("--frame-size", type=int, nargs=2, metavar=("H", "W"), help="model input size")
    add_train_options(p, LAM_PRESETS)
    p.set_defaults(func=_run_train_lam)


def _run_train_lam(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nitrogen_hf.training.configs import preset
    from nitrogen_hf.training.train_lam import train_lam

    config = preset(LAM_PRESETS, args.preset)
    overrides = given(
        args,
        context_frames="context_frames",
        codebook_size="codebook_size",
        frame_size="frame_size",
    )
    config = train_overrides(args, replace(config, model={**config.model, **overrides}))
    print(json.dumps(train_lam(config, args.data, args.out, args.videos), indent=2, default=str))
    return 0


def _add_train_world_model(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-world-model",
        help="train an action-conditioned world model (latent, pseudo-label or true actions)",
    )
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True, help="model folder (resumes from it)")
    p.add_argument(
        "--actions",
        choices=("latent", "gamepad"),
        default="latent",
        help="latent: codes of --lam (video only); gamepad: the labels, or --idm's pseudo-labels",
    )
    p.add_argument("--lam", help="LAM folder (train-lam output), needed for --actions latent")
    p.add_argument("--idm", help="IDM folder: condition on its pseudo-labels, not the data's")
    add_train_options(p, WORLD_MODEL_PRESETS)
    p.set_defaults(func=_run_train_world_model)


def _run_train_world_model(args: argparse.Namespace) -> int:
    from nitrogen_hf.training.configs import preset
    from nitrogen_hf.training.train_lam import train_world_model

    if (args.actions == "latent") != bool(args.lam):
        raise ValueError(
            "--actions latent needs the LAM (--lam, whose codes it is conditioned on); "
            "--actions gamepad goes without one"
        )
    config = train_overrides(args, preset(WORLD_MODEL_PRESETS, args.preset))
    summary = train_world_model(config, args.data, args.out, args.lam, args.idm, args.videos)
    print(json.dumps(summary, indent=2, default=str))
    return 0


def _add_eval_lam(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval-lam",
        help="probe latent actions with a small labeled budget; world model controllability",
    )
    p.add_argument("--lam", required=True, help="LAM folder (train-lam output)")
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument(
        "--out", type=Path, required=True, help="folder for the probe and world model report"
    )
    p.add_argument("--split", default="validation", help="split to score")
    p.add_argument(
        "--budget", type=float, default=0.05, help="fraction of train frames whose labels to use"
    )
    p.add_argument("--idm", help="an IDM to score next to the probes")
    p.add_argument("--world-model", help="world model folder: delta-PSNR and a rollout video")
    p.add_argument("--horizon", type=int, default=8, help="autoregressive rollout steps")
    p.add_argument("--max-chunks", type=int, help="score at most this many chunks")
    p.set_defaults(func=_run_eval_lam)


def _run_eval_lam(args: argparse.Namespace) -> int:
    from nitrogen_hf.evaluation.lam_report import evaluate_lam, lam_markdown

    metrics = evaluate_lam(
        args.lam,
        args.data,
        args.out,
        split=args.split,
        budget=args.budget,
        idm_dir=args.idm,
        world_model_dir=args.world_model,
        horizon=args.horizon,
        max_eval_chunks=args.max_chunks,
    )
    print(lam_markdown(metrics))
    return 0


COMMANDS = (
    _add_train_lam,
    _add_train_world_model,
    _add_eval_lam,
)
