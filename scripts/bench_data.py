"""Benchmark the data path: decode frames/s (torchcodec vs PyAV; sequential and random T-frame
windows) and WindowDataset samples/s with 0, 1 and 2 DataLoader workers. Writes JSON.

The videos are synthesised (a scrolling texture, moving squares and an overlay box, H.264 at
the chosen size), chunked with `write_chunk` and built with `build_dataset`, so the numbers
cover the same code a training run uses.

    python scripts/bench_data.py --out bench_data.json
    python scripts/bench_data.py --out bench_720p.json --height 720 --width 1280
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class BenchConfig:
    out: Path
    videos: int = 2
    seconds: float = 20.0  # per video
    chunk_seconds: float = 10.0  # NitroGen chunks are ~20 s; shorter gives more chunks to split
    fps: int = 30
    height: int = 360
    width: int = 640
    window: int = 8  # T of the random-window decode benchmark
    random_windows: int = 40
    frame_size: tuple[int, int] = (256, 256)  # loader output, NitroGen's input size
    batch_size: int = 32
    workers: tuple[int, ...] = (0, 1, 2)
    seed: int = 0


# --- synthetic data -----------------------------------------------------------------------------
def synth_video(path: Path, config: BenchConfig, seed: int) -> Path:
    """A panning textured scene with moving squares and a controller overlay box."""
    from nitrogen_hf.data.video_writer import Mp4Writer

    rng = np.random.default_rng(seed)
    h, w = config.height, config.width
    coarse = rng.integers(0, 256, (h // 8 + 1, (2 * w) // 8 + 1, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:h]
    with Mp4Writer(path, config.fps, w, h) as writer:
        for i in range(round(config.seconds * config.fps)):
            shift = (2 * i) % w
            frame = np.ascontiguousarray(texture[:, shift : shift + w])
            for k in range(3):
                x = (5 * i + 97 * k) % (w - 32)
                y = (3 * i + 61 * k) % (h - 32)
                frame[y : y + 32, x : x + 32] = (255, 80 * k, 40)
            frame[h - h // 5 :, w - w // 4 :] = 30 + 200 * (rng.random((h // 5, w // 4, 1)) < 0.1)
            writer.write(frame)
    return path


def synth_corpus(root: Path, config: BenchConfig) -> tuple[Path, Path]:
    """(actions folder, videos folder) of `config.videos` videos cut into chunks."""
    from nitrogen_hf.actions import GamepadActions
    from nitrogen_hf.data.metadata import ChunkMetadata, OriginalVideo
    from nitrogen_hf.data.nitrogen_writer import write_chunk

    actions_dir, videos_dir = root / "actions", root / "videos"
    rng = np.random.default_rng(config.seed)
    rows = round(config.chunk_seconds * config.fps)
    box = [
        config.width - config.width // 4,
        config.height - config.height // 5,
        config.width // 4,
        config.height // 5,
    ]
    for v in range(config.videos):
        video_id = f"bench_{v:03d}"
        synth_video(videos_dir / f"{video_id}.mp4", config, seed=v)
        for c in range(int(config.seconds // config.chunk_seconds)):
            start = c * config.chunk_seconds
            original = OriginalVideo(
                video_id,
                start,
                start + config.chunk_seconds,
                resolution=(config.height, config.width),
                fps=config.fps,
            )
            meta = ChunkMetadata(
                f"{video_id}_chunk_{c:04d}_actions",
                f"{c:04d}",
                rows,
                original,
                game="bench",
                bbox_controller_overlay=tuple(box),
            )
            actions = GamepadActions(
                rng.integers(0, 2, (rows, 21)), rng.uniform(-1, 1, (rows, 4)), np.ones(25, bool)
            )
            write_chunk(actions_dir, meta, actions)
    return actions_dir, videos_dir


# --- benchmarks ---------------------------------------------------------------------------------
def warm_up(path: Path) -> None:
    """Load each backend's FFmpeg libraries once (torchcodec's first open costs seconds)."""
    from nitrogen_hf.data.video import open_video

    for backend in ("torchcodec", "pyav"):
        with open_video(path, backend) as reader:
            reader.get_frames([0])


def bench_sequential(path: Path, backend: str, batch: int = 64) -> dict:
    """Decode every frame in order, in batches."""
    from nitrogen_hf.data.video import open_video

    start = time.perf_counter()
    with open_video(path, backend) as reader:
        opened = time.perf_counter() - start
        frames = sum(len(f) for _, f in reader.iter_batches(batch))
    seconds = time.perf_counter() - start
    return {
        "frames": frames,
        "seconds": round(seconds, 3),
        "open_seconds": round(opened, 3),
        "frames_per_s": round(frames / seconds, 1),
    }


def bench_random_windows(path: Path, backend: str, config: BenchConfig) -> dict:
    """Decode `random_windows` windows of T consecutive frames at random positions."""
    from nitrogen_hf.data.video import open_video

    rng = np.random.default_rng(config.seed)
    with open_video(path, backend) as reader:
        starts = rng.integers(0, reader.num_frames - config.window, config.random_windows)
        begin = time.perf_counter()
        for s in starts:
            reader.get_frames(range(int(s), int(s) + config.window))
        seconds = time.perf_counter() - begin
    frames = config.random_windows * config.window
    return {
        "windows": config.random_windows,
        "T": config.window,
        "seconds": round(seconds, 3),
        "windows_per_s": round(config.random_windows / seconds, 2),
        "frames_per_s": round(frames / seconds, 1),
    }


def bench_loader(dataset_dir: Path, config: BenchConfig, workers: int) -> dict:
    """One epoch of IDM (T=2) samples through a DataLoader with `workers` workers."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.data.windows import WindowConfig, WindowDataset, window_loader

    windows = WindowConfig.idm(
        2, frame_size=config.frame_size, seed=config.seed, chunks_in_flight=2
    )
    dataset = WindowDataset(load_chunk_dataset(dataset_dir), windows)
    loader = window_loader(
        dataset, config.batch_size, num_workers=workers, persistent_workers=False
    )
    begin = time.perf_counter()
    first, samples = None, 0
    for batch in loader:
        samples += len(batch["uuid"])
        first = first or time.perf_counter() - begin
    seconds = time.perf_counter() - begin
    return {
        "workers": workers,
        "samples": samples,
        "seconds": round(seconds, 3),
        "first_batch_seconds": round(first or 0.0, 3),
        "samples_per_s": round(samples / seconds, 1),
    }


def machine() -> dict:
    import av
    import torch
    import torchcodec

    return {
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torchcodec": torchcodec.__version__,
        "av": av.__version__,
    }


def run(config: BenchConfig) -> dict:
    from nitrogen_hf.data.build import BuildConfig, build_dataset

    with tempfile.TemporaryDirectory(prefix="bench_data_") as tmp:
        root = Path(tmp)
        begin = time.perf_counter()
        actions_dir, videos_dir = synth_corpus(root, config)
        synth_seconds = time.perf_counter() - begin
        video = sorted(videos_dir.glob("*.mp4"))[0]
        warm_up(video)
        decode = {
            backend: {
                "sequential": bench_sequential(video, backend),
                "random_windows": bench_random_windows(video, backend, config),
            }
            for backend in ("torchcodec", "pyav")
        }
        begin = time.perf_counter()
        summary = build_dataset(
            BuildConfig(
                [actions_dir], videos_dir, root / "dataset", rows_per_shard=1, progress=False
            )
        )
        build_seconds = time.perf_counter() - begin
        loader = [bench_loader(root / "dataset", config, workers) for workers in config.workers]
    return {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
        "machine": machine(),
        "synthesis_seconds": round(synth_seconds, 2),
        "build": {"chunks": summary["chunks"], "seconds": round(build_seconds, 3)},
        "decode": decode,
        "loader": loader,
    }


def parse_args(argv: list[str] | None = None) -> BenchConfig:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="JSON file to write")
    p.add_argument("--videos", type=int, default=BenchConfig.videos)
    p.add_argument("--seconds", type=float, default=BenchConfig.seconds)
    p.add_argument("--chunk-seconds", type=float, default=BenchConfig.chunk_seconds)
    p.add_argument("--fps", type=int, default=BenchConfig.fps)
    p.add_argument("--height", type=int, default=BenchConfig.height)
    p.add_argument("--width", type=int, default=BenchConfig.width)
    p.add_argument("--window", type=int, default=BenchConfig.window)
    p.add_argument("--random-windows", type=int, default=BenchConfig.random_windows)
    p.add_argument("--workers", type=int, nargs="+", default=list(BenchConfig.workers))
    args = p.parse_args(argv)
    return BenchConfig(
        out=args.out,
        videos=args.videos,
        seconds=args.seconds,
        chunk_seconds=min(args.chunk_seconds, args.seconds),
        fps=args.fps,
        height=args.height,
        width=args.width,
        window=args.window,
        random_windows=args.random_windows,
        workers=tuple(args.workers),
    )


def main(argv: list[str] | None = None) -> int:
    import json

    from nitrogen_hf.data.files import write_json_atomic

    config = parse_args(argv)
    result = run(config)
    write_json_atomic(config.out, result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
