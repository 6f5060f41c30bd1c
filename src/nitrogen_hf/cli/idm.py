"""`train-idm`, `eval-idm`: the inverse dynamics model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nitrogen_hf.cli.common import add_train_options, given, train_overrides
from nitrogen_hf.training.configs import IDM_PRESETS


def _add_train_idm(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-idm", help="train the inverse dynamics model (Accelerate; calibrates at the end)"
    )
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True, help="model folder (resumes from it)")
    p.add_argument("--num-frames", type=int, help="window T (2 = the seed's frame t, t+1 model)")
    p.add_argument("--frame-size", type=int, nargs=2, metavar=("H", "W"), help="model input size")
    p.add_argument("--backbone", help="HF vision model name/path as the trunk instead of the CNN")
    p.add_argument(
        "--augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="augmented training windows (default: the preset's; on for gpu)",
    )
    p.add_argument(
        "--target-precision", type=float, help="label precision the confidence threshold must reach"
    )
    add_train_options(p, IDM_PRESETS)
    p.set_defaults(func=_run_train_idm)


def _run_train_idm(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nitrogen_hf.training.configs import preset
    from nitrogen_hf.training.train_idm import train_idm

    config = preset(IDM_PRESETS, args.preset)
    model = {**config.model, **given(args, num_frames="num_frames", frame_size="frame_size")}
    config = replace(config, model=model, **given(args, backbone="backbone"))
    if args.augment is not None:
        config = replace(config, augment=replace(config.augment, enabled=args.augment))
    if args.target_precision is not None:
        config = replace(config, target_precision=args.target_precision)
    config = train_overrides(args, config)
    print(json.dumps(train_idm(config, args.data, args.out, args.videos), indent=2, default=str))
    return 0


def _add_eval_idm(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-idm", help="score an IDM against ground truth and baselines")
    p.add_argument("--model", required=True, help="IDM folder or Hub id")
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument(
        "--out", type=Path, required=True, help="folder for metrics.json, metrics.md, plots"
    )
    p.add_argument(
        "--split",
        help="split to score (default: validation, or the only split when there is one)",
    )
    p.add_argument("--train-split", default="train", help="fits the majority baseline ('' to skip)")
    p.add_argument("--baseline-model", help="a second IDM to compare, e.g. the T=2 model")
    p.add_argument("--videos", type=Path, help="folder of the user's videos (re-points paths)")
    p.add_argument("--max-chunks", type=int, help="score at most this many chunks")
    p.set_defaults(func=_run_eval_idm)


def _run_eval_idm(args: argparse.Namespace) -> int:
    from nitrogen_hf.evaluation.idm_report import IDMEvalConfig, evaluate_idm

    metrics = evaluate_idm(
        IDMEvalConfig(
            model=args.model,
            data=args.data,
            out=args.out,
            split=args.split,
            train_split=args.train_split or None,
            baseline_model=args.baseline_model,
            videos_dir=args.videos,
            max_chunks=args.max_chunks,
        )
    )
    print((args.out / "metrics.md").read_text())
    print(f"split {metrics['split']}; macro_f1 {metrics['macro_f1']}")
    return 0


COMMANDS = (
    _add_train_idm,
    _add_eval_idm,
)
