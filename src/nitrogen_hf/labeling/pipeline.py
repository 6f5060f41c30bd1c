"""`nitrogen-hf label`: pseudo-label gameplay videos with an IDM, filter, write NitroGen chunks.

Per video: decode and label (labeler.py), decide what to keep (filters.py, chunks.py), write
the chunks and a done marker (output.py). Videos run one after another here
(`engine="local"`) or spread over a Ray cluster (`engine="ray"`, ray_engine.py); both call
`process_video`, so they write the same labels. A finished video is skipped on a re-run; an
unreadable one is reported and skipped. The job ends with OUT/label_report.json (report.py).
"""

from __future__ import annotations

import glob
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from nitrogen_hf.actions import GamepadActions
from nitrogen_hf.data.files import file_lock, write_json_atomic
from nitrogen_hf.data.skips import SkipLog
from nitrogen_hf.data.video import VIDEO_EXTENSIONS, UntrustedTiming, VideoError
from nitrogen_hf.labeling.chunks import ChunkPlan, plan_chunks
from nitrogen_hf.labeling.config import LabelConfig
from nitrogen_hf.labeling.filters import (
    count_reasons,
    frame_reasons,
    reason_spans,
    seconds_to_frames,
)
from nitrogen_hf.labeling.labeler import VideoLabels
from nitrogen_hf.labeling.output import (
    chunk_metadata,
    is_done,
    read_marker,
    write_marker,
    write_video_chunks,
)
from nitrogen_hf.labeling.provenance import LabelRun, resolve_run
from nitrogen_hf.labeling.report import REPORT_FILE, build_report

logger = logging.getLogger("nitrogen_hf")


# --- inputs --------------------------------------------------------------------------------
def find_videos(sources: Iterable[str | Path], skips: SkipLog) -> list[Path]:
    """Video files of folders (recursive), files and glob patterns; one per video id (stem).

    Sources are read in order, each one's files sorted. Hidden files (a writer's temporary
    output) are ignored; a later file with an id already seen is reported as
    `duplicate_video_id`, since chunks are named by id.
    """
    videos: dict[str, Path] = {}
    for source in sources:
        matches = sorted(_expand(str(source)))
        if not matches:
            skips.add("no_video_found", source, f"no {'/'.join(VIDEO_EXTENSIONS)} file here")
        for path in matches:
            if path.stem not in videos:
                videos[path.stem] = path
            elif videos[path.stem] != path:
                skips.add("duplicate_video_id", path, f"same video id as {videos[path.stem]}")
    return list(videos.values())


def _expand(source: str) -> list[Path]:
    path = Path(source)
    if path.is_dir():
        candidates = [p for p in path.rglob("*") if not _hidden(p.relative_to(path))]
    elif path.is_file():
        candidates = [path]
    else:
        candidates = [Path(p) for p in glob.glob(source, recursive=True)]
    return [
        p
        for p in candidates
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not _hidden(Path(p.name))
    ]


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def load_idm(model: str, device: str = "auto"):
    """The IDM in eval mode on `device` ('auto': cuda when available)."""
    import torch

    from nitrogen_hf.models.idm import NitroGenIDM

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return NitroGenIDM.from_pretrained(model).to(device).eval()


# --- one video -----------------------------------------------------------------------------
@dataclass
class Decision:
    """What becomes of a labeled video: its actions (trained dims observed), which frames have
    input, and the chunks to write with every other frame's drop reason."""

    actions: GamepadActions
    active: np.ndarray  # (N-1,) bool
    plan: ChunkPlan


def decide(labels: VideoLabels, trained_dims: np.ndarray, run: LabelRun) -> Decision:
    """Threshold buttons at 0.5, apply the filters, cut the kept frames into chunks."""
    actions = GamepadActions.from_vector(labels.vector, observed=np.asarray(trained_dims, bool))
    active = actions.active_frames()
    reasons = frame_reasons(
        labels.confidence, active, labels.motion, labels.fps, run.filters, run.min_confidence
    )
    plan = plan_chunks(
        reasons,
        active,
        seconds_to_frames(run.chunk_seconds, labels.fps),
        seconds_to_frames(run.filters.min_chunk_seconds, labels.fps),
        run.filters.min_active_fraction,
    )
    return Decision(actions, active, plan)


def label_one_video(path: Path, model, run: LabelRun, config: LabelConfig) -> dict:
    """Label, filter and write one video; returns its done marker. Raises VideoError."""
    from nitrogen_hf.data.video import variable_frame_times
    from nitrogen_hf.labeling.decoding import open_for_labeling, source_size
    from nitrogen_hf.labeling.labeler import label_video

    started = time.perf_counter()
    size = model.config.frame_size
    with open_for_labeling(
        path, size, config.backend, run.resize_in_decoder, config.decode_threads
    ) as reader:
        frame_times = variable_frame_times(path, reader.fps)  # labels follow the timestamps
        labels = label_video(
            model,
            reader,
            run.fps,
            config.segment_seconds,
            config.batch_size,
            config.decode_batch,
            frame_times=frame_times,
        )
        resolution, video_fps = source_size(reader), reader.fps
    decision = decide(labels, model.config.trained_dims, run)
    labeled_at = datetime.now(UTC).isoformat(timespec="seconds")
    chunks = [
        _chunk(path.stem, index, span, labels, decision, resolution, run, labeled_at)
        for index, span in enumerate(decision.plan.chunks)
    ]
    names = write_video_chunks(config.out, path.stem, chunks)
    reasons = decision.plan.reasons
    marker = {
        "video_id": path.stem,
        "path": str(path),
        "size_bytes": path.stat().st_size,
        "settings_key": run.key(),
        "labeled_at": labeled_at,
        "fps": labels.fps,
        "video_fps": video_fps,
        "timing": "constant" if frame_times is None else "variable (sampled by timestamp)",
        "resolution": list(resolution),
        "frames": len(reasons),
        "kept_frames": int((reasons == 0).sum()),
        "dropped": count_reasons(reasons),
        "chunks_dropped": decision.plan.dropped,
        "mean_confidence": float(labels.confidence.mean()) if len(labels.confidence) else None,
        "chunks": names,
        "spans": reason_spans(reasons),
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
    write_marker(config.out, marker)  # last: the video counts as done only now
    return marker


def _chunk(
    video_id: str,
    index: int,
    span: tuple[int, int],
    labels: VideoLabels,
    decision: Decision,
    resolution: tuple[int, int],
    run: LabelRun,
    labeled_at: str,
) -> tuple:
    """(metadata, actions, confidence) of the chunk of labeled frames `span`."""
    start, stop = span
    confidence = labels.confidence[start:stop]
    extras = run.chunk_extras(confidence.mean(), decision.active[start:stop].mean(), labeled_at)
    video_frames = (labels.frame_index[start], labels.frame_index[stop - 1])
    meta = chunk_metadata(
        video_id, index, start, stop, labels.fps, video_frames, resolution, run.game, extras
    )
    return meta, decision.actions[start:stop], confidence


def process_video(path: Path, model, run: LabelRun, config: LabelConfig) -> dict:
    """`label_one_video`, with a bad video turned into a 'failed' entry instead of an error."""
    try:
        entry = label_one_video(path, model, run, config)
    except UntrustedTiming as error:
        return _failed(path, "untrusted_timing", error)
    except VideoError as error:
        return _failed(path, "unreadable_video", error)
    except (RuntimeError, ValueError) as error:  # e.g. frames the model cannot take
        logger.exception("labeling %s failed", path)
        return _failed(path, "labeling_error", error)
    logger.info(
        "%s: kept %d of %d frames in %d chunks (%.1f s)",
        path.stem,
        entry["kept_frames"],
        entry["frames"],
        len(entry["chunks"]),
        entry["wall_seconds"],
    )
    return {**entry, "status": "labeled"}


def _failed(path: Path, kind: str, error: Exception) -> dict:
    return {
        "video_id": path.stem,
        "path": str(path),
        "status": "failed",
        "reason": kind,
        "message": str(error),
    }


# --- the job -------------------------------------------------------------------------------
def label_locally(videos: list[Path], run: LabelRun, config: LabelConfig) -> list[dict]:
    """Label `videos` one after another in this process."""
    from tqdm.auto import tqdm

    if not videos:
        return []
    model = load_idm(config.model, config.device)
    return [
        process_video(path, model, run, config)
        for path in tqdm(videos, desc="label", unit="video", disable=not config.progress)
    ]


LOCK_FILE = ".label.lock"


def label_videos(config: LabelConfig) -> dict:
    """Run the job: skip finished videos, label the rest, write and return the report. One job
    per OUT at a time (a lock file says so at once, instead of two jobs undoing each other)."""
    with file_lock(config.out / LOCK_FILE, blocking=False, job="another `label` job"):
        return _label_videos(config)


def _label_videos(config: LabelConfig) -> dict:
    started = time.perf_counter()
    run = resolve_run(config)
    skips = SkipLog()
    videos = find_videos(config.videos, skips)
    if not videos:
        raise FileNotFoundError(f"no video files found in {list(map(str, config.videos))}")
    entries, todo = [], []
    for path in videos:
        marker = read_marker(config.out, path.stem)
        if is_done(config.out, marker, run.key(), path):
            entries.append({**marker, "status": "done"})
        else:
            todo.append(path)
    logger.info("%d videos: %d already labeled, %d to do", len(videos), len(entries), len(todo))
    if config.engine == "ray":
        from nitrogen_hf.labeling.ray_engine import label_with_ray

        results = label_with_ray(todo, run, config)
    else:
        results = label_locally(todo, run, config)
    for result in results:
        if result["status"] == "failed":
            skips.add(result["reason"], result["path"], result["message"])
    report = build_report(config, run, entries + results, skips, time.perf_counter() - started)
    write_json_atomic(config.out / REPORT_FILE, report)
    return report
