"""The `nitrogen-hf` command: parses arguments and calls the library (heavy imports inside)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def _add_record(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="play real Atari games (ALE) and write the NitroGen layout")
    p.add_argument("--env", default="ALE/Pong-v5", help="any Gymnasium ALE/<Game>-v5 id")
    p.add_argument("--episodes", type=int, default=1)
    p.add_argument("--policy", choices=("random", "sticky", "expert"), default="sticky")
    p.add_argument(
        "--overlay",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="draw a gamepad overlay (labeled data) or not (walkthrough, labels kept aside)",
    )
    p.add_argument("--fps", type=int, default=30, help="video and action rate; must divide 60")
    p.add_argument("--max-seconds", type=float, default=120.0, help="cap on each episode's length")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run_record)


def _run_record(args: argparse.Namespace) -> int:
    from nitrogen_hf.envs.recorder import RecordConfig, record

    config = RecordConfig(
        env_id=args.env,
        episodes=args.episodes,
        policy=args.policy,
        overlay=args.overlay,
        fps=args.fps,
        max_seconds=args.max_seconds,
        out=args.out,
        seed=args.seed,
    )
    summary = record(config)
    print(json.dumps(summary, indent=2))
    return 0


def _add_inspect(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="summarise NitroGen shards or folders (and their videos)")
    p.add_argument(
        "path", type=Path, help="a .tar.gz shard, an extracted shard, or a folder of either"
    )
    p.add_argument("--videos", type=Path, help="folder of <video_id>.<ext> files to join")
    p.add_argument("--video-map", type=Path, help="CSV or JSON mapping video_id -> file path")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_run_inspect)


def _run_inspect(args: argparse.Namespace) -> int:
    from nitrogen_hf.data.summary import format_summary, summarize

    summary = summarize(args.path, videos_dir=args.videos, video_map=args.video_map)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


def _add_build_dataset(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build-dataset", help="NitroGen chunks + local videos -> streamable parquet dataset"
    )
    p.add_argument(
        "--actions",
        type=Path,
        nargs="+",
        required=True,
        help="shards or folders of chunks (ground truth and pseudo-labels alike)",
    )
    p.add_argument("--videos", type=Path, required=True, help="folder of <video_id>.<ext> files")
    p.add_argument("--video-map", type=Path, help="CSV or JSON mapping video_id -> file path")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--validation-fraction",
        type=float,
        default=0.0,
        help="fraction of videos (by id hash) put in the validation split",
    )
    p.add_argument("--rows-per-shard", type=int, default=256, help="chunks per parquet shard")
    p.set_defaults(func=_run_build_dataset)


def _run_build_dataset(args: argparse.Namespace) -> int:
    from nitrogen_hf.data.hub_dataset import BuildConfig, build_dataset

    config = BuildConfig(
        actions=list(args.actions),
        videos=args.videos,
        video_map=args.video_map,
        out=args.out,
        validation_fraction=args.validation_fraction,
        rows_per_shard=args.rows_per_shard,
    )
    summary = build_dataset(config)
    print(json.dumps(summary, indent=2))
    return 0


def _add_train_idm(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-idm", help="train the inverse dynamics model (Accelerate; calibrates at the end)"
    )
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--preset", choices=("debug", "cpu", "gpu"), default="cpu")
    p.add_argument(
        "--videos", type=Path, help="folder of the user's videos (re-points video paths)"
    )
    p.add_argument("--num-frames", type=int, help="window T (2 = the seed's frame t, t+1 model)")
    p.add_argument("--frame-size", type=int, nargs=2, metavar=("H", "W"))
    p.add_argument("--backbone", help="HF vision model name/path as the trunk instead of the CNN")
    p.add_argument("--max-steps", type=int)
    p.add_argument("--max-minutes", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--num-workers", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--no-resume", action="store_true", help="ignore checkpoints in --out")
    p.add_argument(
        "--target-precision", type=float, help="label precision the confidence threshold must reach"
    )
    p.set_defaults(func=_run_train_idm)


def _run_train_idm(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from nitrogen_hf.training.train_idm import idm_preset, train_idm

    config = idm_preset(args.preset, args.data, args.out, videos_dir=args.videos)
    config.model = replace(
        config.model,
        **_given(args, num_frames="num_frames", frame_size="frame_size", backbone="backbone"),
    )
    config.train = replace(
        config.train,
        **_given(
            args,
            max_steps="max_steps",
            max_minutes="max_minutes",
            batch_size="batch_size",
            learning_rate="lr",
            num_workers="num_workers",
            seed="seed",
        ),
    )
    config.train.resume = not args.no_resume
    config.augment.enabled = not args.no_augment
    if args.target_precision is not None:
        config.target_precision = args.target_precision
    print(json.dumps(train_idm(config), indent=2, default=str))
    return 0


def _add_eval_idm(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-idm", help="score an IDM against ground truth and baselines")
    p.add_argument("--model", required=True, help="IDM folder or Hub id")
    p.add_argument("--data", required=True, help="build-dataset folder or Hub dataset id")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--split", default="validation")
    p.add_argument("--train-split", default="train", help="fits the majority baseline ('' to skip)")
    p.add_argument("--baseline-model", help="a second IDM to compare, e.g. the T=2 model")
    p.add_argument("--videos", type=Path)
    p.add_argument("--max-chunks", type=int)
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
    print(f"macro_f1 {metrics['macro_f1']}")
    return 0


def _given(args: argparse.Namespace, **names: str) -> dict:
    """{field: value} for the options the user actually gave (None = keep the preset's)."""
    values = {field: getattr(args, option) for field, option in names.items()}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nitrogen-hf",
        description="NitroGen data, inverse dynamics pseudo-labeling and vision-action policies.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_record, _add_inspect, _add_build_dataset, _add_train_idm, _add_eval_idm):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:  # per-checkpoint chatter from Accelerate
        logging.getLogger("accelerate").setLevel(logging.WARNING)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
