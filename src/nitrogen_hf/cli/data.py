"""`record`, `inspect`, `build-dataset`: real gameplay in, NitroGen layout and datasets out."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _record_help() -> str:
    """The env ids `record` takes, read from the backends (no game library is imported)."""
    from nitrogen_hf.envs.catalog import SCENARIOS, VARIANTS

    lines = [
        "env ids:",
        "  ALE/<Game>-v5            any Gymnasium Atari game; experts: Pong, Breakout, Freeway",
    ]
    lines += [f"  vizdoom/{name:<17} {s.description}" for name, s in SCENARIOS.items()]
    lines += [f"  crafter/{name:<17} {v.description}" for name, v in VARIANTS.items()]
    lines += ["", "players: random, sticky (human-like holds), expert (scripted, plays to win)"]
    return "\n".join(lines)


def _add_record(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="play real games (Atari, ViZDoom, Crafter) and write the NitroGen layout",
        description=_record_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--env",
        default="ALE/Pong-v5",
        help="ALE/<Game>-v5, vizdoom/<scenario> or crafter/<variant> (listed above)",
    )
    p.add_argument("--episodes", type=int, default=1, help="episodes to record")
    p.add_argument(
        "--policy",
        choices=("random", "sticky", "expert"),
        default="sticky",
        help="who plays: uniform random, human-like sticky presses, or the scripted expert",
    )
    p.add_argument(
        "--overlay",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="draw a gamepad overlay (labeled data) or not (walkthrough, labels kept aside)",
    )
    p.add_argument(
        "--fps",
        type=int,
        help="video and action rate (default: the game's own; ALE: divides 60, ViZDoom: 35)",
    )
    p.add_argument("--max-seconds", type=float, default=120.0, help="cap on each episode's length")
    p.add_argument("--out", type=Path, required=True, help="recording folder (resumable)")
    p.add_argument("--seed", type=int, default=0, help="env and player seeds derive from it")
    p.add_argument(
        "--overlay-corner",
        choices=("bottom-right", "bottom-left", "top-right", "top-left"),
        default="bottom-right",
        help="where the controller overlay sits",
    )
    p.add_argument(
        "--probe-every",
        type=float,
        help="seconds between frames probed for identifiability (default: the game's; 0: off)",
    )
    p.set_defaults(func=_run_record)


def _run_record(args: argparse.Namespace) -> int:
    from nitrogen_hf.envs.overlay import OverlayConfig
    from nitrogen_hf.envs.recorder import RecordConfig, record

    config = RecordConfig(
        overlay_style=OverlayConfig(corner=args.overlay_corner),
        env_id=args.env,
        episodes=args.episodes,
        policy=args.policy,
        overlay=args.overlay,
        fps=args.fps,
        max_seconds=args.max_seconds,
        out=args.out,
        seed=args.seed,
        probe_every_s=args.probe_every,
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
    p.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    p.add_argument(
        "--validation-fraction",
        type=float,
        default=0.0,
        help="fraction of videos (by id hash) put in the validation split",
    )
    p.add_argument("--rows-per-shard", type=int, default=256, help="chunks per parquet shard")
    p.set_defaults(func=_run_build_dataset)


def _run_build_dataset(args: argparse.Namespace) -> int:
    from nitrogen_hf.data.build import BuildConfig, build_dataset

    config = BuildConfig(
        actions=list(args.actions),
        videos=args.videos,
        video_map=args.video_map,
        out=args.out,
        validation_fraction=args.validation_fraction,
        rows_per_shard=args.rows_per_shard,
    )
    summary = build_dataset(config)
    from nitrogen_hf.hub.dataset_card import write_dataset_card

    write_dataset_card(config.out)  # the full card replaces build_dataset's minimal one
    print(json.dumps(summary, indent=2))
    return 0


COMMANDS = (
    _add_record,
    _add_inspect,
    _add_build_dataset,
)
