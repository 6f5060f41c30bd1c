"""`label`, `render`: pseudo-labels for gameplay video, and a look at them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nitrogen_hf.cli.common import given


def _add_label(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "label", help="pseudo-label gameplay videos with an IDM and write NitroGen chunks"
    )
    p.add_argument("--model", required=True, help="IDM folder (train-idm output) or Hub id")
    p.add_argument(
        "--videos", nargs="+", required=True, help="folders (recursive), video files or globs"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="labels folder (actions/, labeled/, report)"
    )
    p.add_argument("--game", help="game name written to every chunk")
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="this process, or a Ray cluster (see --ray-address)",
    )
    p.add_argument("--fps", type=float, help="action rate (default: the video's own)")
    f = p.add_argument_group(
        "filters", "defaults and their reasons: nitrogen_hf.labeling.filters.FilterConfig"
    )
    f.add_argument(
        "--min-confidence",
        type=float,
        help="drop stretches below this confidence (default: the IDM's calibrated threshold)",
    )
    f.add_argument("--confidence-window", type=float, help="seconds of confidence averaging")
    f.add_argument(
        "--min-low-confidence-seconds",
        type=float,
        help="shorter unsure stretches are kept (down-weighted by their confidence)",
    )
    f.add_argument("--idle-seconds", type=float, help="no input this long is idle")
    f.add_argument(
        "--static-max-change",
        type=float,
        help="median frame change (0-255 levels) below which the picture is still",
    )
    f.add_argument("--static-seconds", type=float, help="a still picture this long is dropped")
    f.add_argument(
        "--min-active-fraction", type=float, help="chunks need this fraction of frames with input"
    )
    f.add_argument("--min-chunk-seconds", type=float, help="shorter chunks are dropped")
    p.add_argument("--chunk-seconds", type=float, default=20.0, help="length of the written chunks")
    p.add_argument(
        "--resize-in-decoder",
        action="store_true",
        help="let torchcodec scale while decoding (can help on large videos; pixels differ "
        "slightly from training's prepare_frames)",
    )
    p.add_argument("--batch-size", type=int, default=64, help="IDM windows per forward pass")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N (auto: cuda if any)")
    r = p.add_argument_group("ray", "used with --engine ray; see labeling/ray_engine.py")
    r.add_argument("--ray-address", help="cluster address (default: $RAY_ADDRESS, else local)")
    r.add_argument("--workers", type=int, default=2, help="actors, each holding one IDM")
    r.add_argument("--cpus-per-worker", type=float, default=1.0, help="CPUs reserved per actor")
    r.add_argument(
        "--gpus-per-worker", type=float, help="default: 1 if the cluster has GPUs, else 0"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_run_label)


def _run_label(args: argparse.Namespace) -> int:
    from nitrogen_hf.labeling.config import LabelConfig, RayConfig
    from nitrogen_hf.labeling.filters import FilterConfig
    from nitrogen_hf.labeling.pipeline import label_videos

    filters = FilterConfig(
        **given(
            args,
            min_confidence="min_confidence",
            confidence_window_seconds="confidence_window",
            min_low_confidence_seconds="min_low_confidence_seconds",
            idle_seconds="idle_seconds",
            static_max_change="static_max_change",
            static_seconds="static_seconds",
            min_active_fraction="min_active_fraction",
            min_chunk_seconds="min_chunk_seconds",
        )
    )
    config = LabelConfig(
        model=args.model,
        videos=args.videos,
        out=args.out,
        game=args.game,
        filters=filters,
        fps=args.fps,
        chunk_seconds=args.chunk_seconds,
        resize_in_decoder=args.resize_in_decoder,
        batch_size=args.batch_size,
        device=args.device,
        engine=args.engine,
        ray=RayConfig(
            address=args.ray_address,
            workers=args.workers,
            cpus_per_worker=args.cpus_per_worker,
            gpus_per_worker=args.gpus_per_worker,
        ),
        progress=not args.no_progress,
    )
    report = label_videos(config)
    summary = {k: v for k, v in report.items() if k not in ("per_video", "settings")}
    print(json.dumps(summary, indent=2))
    return 0


def _add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="draw a video's pseudo-labels over it for a visual check")
    p.add_argument("--video", type=Path, required=True, help="the labeled video")
    p.add_argument("--labels", type=Path, required=True, help="the `label` job's --out folder")
    p.add_argument("--out", type=Path, required=True, help="e.g. V_labeled.mp4")
    p.add_argument("--scale", type=int, default=1, help="integer upscaling for small videos")
    p.set_defaults(func=_run_render)


def _run_render(args: argparse.Namespace) -> int:
    from nitrogen_hf.labeling.render import RenderConfig, render

    print(json.dumps(render(RenderConfig(args.video, args.labels, args.out, args.scale)), indent=2))
    return 0


COMMANDS = (
    _add_label,
    _add_render,
)
