"""Benchmark `nitrogen-hf label`: labeling speed against decoding, and label quality before and
after filtering, on real Atari walkthroughs whose true actions are kept aside.

1. Records overlay-free ("walkthrough") episodes of a few ALE games (sticky random play);
   their true actions go to `ground_truth/`, never to the labeler.
2. Takes an IDM (`--model`), or trains the `cpu` preset for `--train-minutes` on overlay
   recordings of the same games (other seeds) and calibrates it on a held-out split.
3. Speed: decode-only frames/s of the walkthrough videos, then `label_videos` (decode + IDM +
   filters + chunk writing) frames/s on the same videos in the same run; the ratio is the
   figure. Native 160x210 videos and the same videos upscaled to 640x480, with the labeler's
   default (full decode + `prepare_frames`, the training pixels) and, on a subset, with the
   decoder resizing to the IDM input (`--resize-in-decoder`).
4. Quality: macro-F1, exact match (= the precision the calibrated threshold targets) and the
   fraction of frames kept, for all frames and after each filter and all of them.

    python scripts/bench_label.py --out bench_label.json            # ~15 min on 2 CPU cores
    python scripts/bench_label.py --model runs/idm --out bench.json # skip training
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from nitrogen_hf.data.frames import prepare_frames
from nitrogen_hf.data.nitrogen_reader import iter_chunks
from nitrogen_hf.data.video import open_video
from nitrogen_hf.evaluation.idm_metrics import score_labels
from nitrogen_hf.labeling.config import LabelConfig
from nitrogen_hf.labeling.decoding import ScaledTorchCodecReader, open_for_labeling
from nitrogen_hf.labeling.filters import (
    idle_frames,
    low_confidence_frames,
    seconds_to_frames,
    static_frames,
)
from nitrogen_hf.labeling.labeler import label_video
from nitrogen_hf.labeling.pipeline import label_videos
from nitrogen_hf.labeling.provenance import resolve_run
from nitrogen_hf.labeling.worker import decide
from nitrogen_hf.models.idm.loading import load_idm

WALKTHROUGH_SEED = 100  # walkthroughs and training recordings never share an episode
TRAIN_SEED = 1
BIG_SIZE = (480, 640)  # "realistic" upscaled size (height, width)


# --- data ----------------------------------------------------------------------------------
def record_episodes(
    games: list[str], episodes: int, seconds: float, overlay: bool, seed: int, out: Path
) -> Path:
    from nitrogen_hf.envs.recorder import RecordConfig, record

    for env_id in games:
        record(
            RecordConfig(
                env_id=env_id,
                episodes=episodes,
                policy="sticky",
                overlay=overlay,
                max_seconds=seconds,
                seed=seed,
                out=out,
                progress=False,
            )
        )
    return out


def upscale_videos(videos: list[Path], out: Path, size: tuple[int, int]) -> list[Path]:
    """Re-encode each video at `size` (bilinear), as a stand-in for large real walkthroughs."""
    import torch.nn.functional as F

    from nitrogen_hf.data.video_writer import Mp4Writer

    paths = []
    for path in videos:
        with (
            open_video(path) as reader,
            Mp4Writer(out / path.name, round(reader.fps), size[1], size[0]) as writer,
        ):
            for _, frames in reader.iter_batches(64):
                big = F.interpolate(
                    frames, size=size, mode="bilinear", antialias=False, align_corners=False
                )
                for frame in big.permute(0, 2, 3, 1).numpy():
                    writer.write(frame)
        paths.append(out / path.name)
    return paths


def validation_fraction(video_ids: list[str], wanted: int = 2) -> float:
    """Smallest fraction (in steps of 0.05, at most 0.5) putting `wanted` videos in validation."""
    from nitrogen_hf.data.build import split_of

    for fraction in np.arange(0.05, 0.51, 0.05):
        if sum(split_of(v, float(fraction)) == "validation" for v in video_ids) >= wanted:
            return float(fraction)
    return 0.5


def train_default_idm(
    games: list[str], episodes: int, minutes: float, work: Path
) -> tuple[Path, dict]:
    """The `cpu` preset trained for `minutes` on overlay recordings, calibrated on held-out ones."""
    from nitrogen_hf.data.build import BuildConfig, build_dataset
    from nitrogen_hf.training.configs import IDM_PRESETS
    from nitrogen_hf.training.train_idm import train_idm

    recordings = record_episodes(games, episodes, 60.0, True, TRAIN_SEED, work / "train_rec")
    ids = [p.stem for p in (recordings / "videos").glob("*.mp4")]
    build_dataset(
        BuildConfig(
            actions=[recordings / "actions"],
            videos=recordings / "videos",
            out=work / "train_ds",
            validation_fraction=validation_fraction(ids),
            progress=False,
        )
    )
    config = IDM_PRESETS["cpu"]
    train = replace(config.train, max_steps=None, max_minutes=minutes)
    config = replace(config, train=train, calibration_chunks=40)
    summary = train_idm(config, str(work / "train_ds"), work / "idm")
    return work / "idm", summary


def ground_truth(root: Path, video_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(N, 25) true action vectors and (25,) observed mask of a walkthrough."""
    chunks = sorted(
        iter_chunks(root / video_id), key=lambda c: c.metadata.original_video.start_time
    )
    vectors = np.concatenate([c.actions.to_vector() for c in chunks])
    return vectors, chunks[0].actions.observed


# --- speed ---------------------------------------------------------------------------------
def decode_fps(videos: list[Path], open_fn) -> float:
    frames, started = 0, time.perf_counter()
    for path in videos:
        with open_fn(path) as reader:
            for _, batch in reader.iter_batches(32):
                frames += len(batch)
    return frames / (time.perf_counter() - started)


def decode_prepare_fps(videos: list[Path], size) -> float:
    frames, started = 0, time.perf_counter()
    for path in videos:
        with open_video(path) as reader:
            for _, batch in reader.iter_batches(32):
                frames += len(prepare_frames(batch, size))
    return frames / (time.perf_counter() - started)


def idm_fps(model, video: Path, frames: int = 600) -> float:
    """The IDM alone on prepared frames already in memory (best of two runs)."""
    with ScaledTorchCodecReader(video, model.config.frame_size) as reader:
        clip = reader.get_frames(range(min(frames, reader.num_frames)))
    best = 0.0
    for _ in range(2):
        started = time.perf_counter()
        model.predict_sequence(clip)
        best = max(best, len(clip) / (time.perf_counter() - started))
    return best


def label_fps(
    model: Path, videos: list[Path], out: Path, resize_in_decoder: bool
) -> tuple[float, dict]:
    config = LabelConfig(
        model=str(model),
        videos=videos,
        out=out,
        resize_in_decoder=resize_in_decoder,
        progress=False,
    )
    report = label_videos(config)
    return report["frames_per_second"], report


def speed(
    model_path: Path, model, videos: list[Path], work: Path, tag: str, decoder_resize_videos: int
) -> dict:
    """Decode-only vs labeling frames/s on `videos`, with the breakdown of the stages."""
    size = model.config.frame_size
    out = {
        "videos": len(videos),
        "decode_fps": decode_fps(videos, open_video),
        "decode_resize_fps": decode_fps(videos, lambda p: ScaledTorchCodecReader(p, size)),
        "decode_prepare_fps": decode_prepare_fps(videos, size),
        "idm_fps": idm_fps(model, videos[0]),
    }
    out["label_fps"], report = label_fps(model_path, videos, work / f"label_{tag}", False)
    # Decode again right after labeling: the mean brackets load changes on a shared machine.
    out["decode_fps_after"] = decode_fps(videos, open_video)
    decode = (out["decode_fps"] + out["decode_fps_after"]) / 2
    out["ratio_label_to_decode"] = out["label_fps"] / decode
    subset = videos[:decoder_resize_videos]
    out["label_fps_decoder_resize"], _ = label_fps(
        model_path, subset, work / f"label_{tag}_decoder_resize", True
    )
    out["decoder_resize_videos"] = len(subset)
    out["ratio_label_decoder_resize_to_decode"] = out["label_fps_decoder_resize"] / decode_fps(
        subset, open_video
    )
    out["hours_in"], out["kept_fraction"] = report["hours_in"], report["kept_fraction"]
    out["hours_dropped"] = report["hours_dropped"]
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


# --- quality -------------------------------------------------------------------------------
def summary_scores(
    predicted: np.ndarray, target: np.ndarray, observed: np.ndarray, kept: np.ndarray
) -> dict:
    """Macro-F1, exact match and mean button precision on the kept frames."""
    if not kept.any():
        return {"kept_fraction": 0.0}
    scores = score_labels(predicted[kept], target[kept], observed[kept])
    precisions = [s["precision"] for s in scores["buttons"].values() if s["support"] > 0]
    return {
        "kept_fraction": float(kept.mean()),
        "macro_f1": scores["macro_f1"],
        "exact_match": scores["exact_match"],
        "macro_precision": float(np.mean(precisions)) if precisions else None,
    }


def quality(model, model_path: Path, videos: list[Path], truth_root: Path) -> dict:
    """Scores of all labels and of those each filter (and all filters) keep."""
    run = resolve_run(LabelConfig(model=str(model_path), videos=[], out=Path(".")))
    trained = np.asarray(model.config.trained_dims, bool)
    parts: dict[str, list] = {k: [] for k in ("pred", "true", "obs", "masks")}
    for path in videos:
        with open_for_labeling(path, model.config.frame_size) as reader:
            labels = label_video(model, reader)
        decision = decide(labels, trained, run)
        target, observed = ground_truth(truth_root, path.stem)
        n = min(len(labels.vector), len(target))
        f, fps = run.filters, labels.fps
        dropped = {
            "static": static_frames(
                labels.motion, f.static_max_change,
                seconds_to_frames(f.static_window_seconds, fps), seconds_to_frames(f.static_seconds, fps),
            ),
            "idle": idle_frames(decision.active, seconds_to_frames(f.idle_seconds, fps)),
            "low_confidence": low_confidence_frames(
                labels.confidence, run.min_confidence,
                seconds_to_frames(f.confidence_window_seconds, fps),
                max(1, seconds_to_frames(f.min_low_confidence_seconds, fps)),
            ),
            "all_filters_and_chunk_rules": decision.plan.reasons[:-1] != 0,
        }  # fmt: skip
        parts["pred"].append(labels.vector[:n])
        parts["true"].append(target[:n])
        parts["obs"].append(np.tile(observed & trained, (n, 1)))
        parts["masks"].append({k: v[:n] for k, v in dropped.items()})
    predicted, target, observed = (np.concatenate(parts[k]) for k in ("pred", "true", "obs"))
    result = {"all_frames": summary_scores(predicted, target, observed, np.ones(len(target), bool))}
    for name in parts["masks"][0]:
        kept = ~np.concatenate([m[name] for m in parts["masks"]])
        result[f"kept_by_{name}"] = summary_scores(predicted, target, observed, kept)
    result["min_confidence"] = run.min_confidence
    result["min_confidence_source"] = run.min_confidence_source
    return result


# --- main ----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench_label.json"))
    parser.add_argument("--model", type=Path, help="IDM folder; default: train the cpu preset")
    parser.add_argument("--games", nargs="+", default=["ALE/Pong-v5", "ALE/Breakout-v5"])
    parser.add_argument("--episodes", type=int, default=2, help="walkthroughs per game")
    parser.add_argument("--max-seconds", type=float, default=40.0, help="cap per walkthrough")
    parser.add_argument("--train-episodes", type=int, default=4, help="overlay episodes per game")
    parser.add_argument("--train-minutes", type=float, default=4.0)
    parser.add_argument(
        "--decoder-resize-videos",
        type=int,
        default=1,
        help="videos also labeled with the decoder resizing",
    )
    parser.add_argument("--work", type=Path, help="keep intermediate files here")
    args = parser.parse_args()

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        walk = record_episodes(
            args.games, args.episodes, args.max_seconds, False, WALKTHROUGH_SEED, work / "walk"
        )
        native = sorted((walk / "videos").glob("*.mp4"))
        big = upscale_videos(native, work / "big", BIG_SIZE)
        training = None
        model_path = args.model
        if model_path is None:
            model_path, training = train_default_idm(
                args.games, args.train_episodes, args.train_minutes, work
            )
        model = load_idm(str(model_path), "cpu")
        report = {
            "command": "python scripts/bench_label.py " + " ".join(sys.argv[1:]),
            "machine": {
                "cpus": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "processor": platform.processor() or platform.machine(),
                "note": "shared machine: other processes use the same cores, numbers are noisy",
            },
            "settings": vars(args)
            | {"out": str(args.out), "model": str(args.model), "work": str(args.work)},
            "model": {
                "path": str(model_path) if args.model else "trained by this run (cpu preset)",
                "frame_size": model.config.frame_size,
                "num_frames": model.config.num_frames,
                "confidence_threshold": model.config.confidence_threshold,
                "training": training,
            },
            "speed": {
                "native_160x210": speed(
                    model_path, model, native, work, "native", args.decoder_resize_videos
                ),
                "upscaled_640x480": speed(
                    model_path, model, big, work, "big", args.decoder_resize_videos
                ),
            },
            "quality": quality(model, model_path, native, walk / "ground_truth"),
        }
        report["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps({k: report[k] for k in ("speed", "quality", "wall_seconds")}, indent=2))


if __name__ == "__main__":
    main()
