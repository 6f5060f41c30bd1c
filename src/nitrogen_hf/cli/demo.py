"""`demo`: the main job, the VPT-style experiment end to end, with a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="the VPT-style experiment on real Atari games, end to end, with a report"
    )
    p.add_argument(
        "--out", type=Path, default=Path("demo_out"), help="output folder (resumes from it)"
    )
    p.add_argument(
        "--scale",
        choices=("tiny", "small", "full"),
        default="small",
        help="tiny: minutes (tests); small: ~25 min on 2 CPU cores; full: a GPU",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of every stage")
    p.add_argument("--with-lam", action="store_true", help="add the latent-action section")
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from nitrogen_hf.demo.experiment import run_demo
    from nitrogen_hf.demo.runner import StageFailed

    try:
        run_demo(args.out, args.scale, args.seed, args.with_lam)
    except StageFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print((args.out / "report.md").read_text())
    return 0


COMMANDS = (_add_demo,)
