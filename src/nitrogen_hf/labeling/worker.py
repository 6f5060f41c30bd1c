"""One video's labeling, the unit of work of both engines (local and Ray): decode and label
(labeler.py), decide what to keep (filters.py, chunks.py), write the chunks and the done
marker (output.py). Bad videos come back as 'failed' entries, not errors."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from nitrogen_hf.actions import GamepadActions
from nitrogen_hf.data.nitrogen_writer import ChunkToWrite, chunk_metadata, write_video_chunks
from nitrogen_hf.data.video import UntrustedTiming, VideoError
from nitrogen_hf.labeling.chunks import ChunkPlan, plan_chunks
from nitrogen_hf.labeling.config import LabelConfig
from nitrogen_hf.labeling.filters import (
    count_reasons,
    frame_reasons,
    reason_spans,
    seconds_to_frames,
)
from nitrogen_hf.labeling.labeler import VideoLabels
from nitrogen_hf.labeling.output import ACTIONS_DIR, VIDEO_SOURCE, write_marker
from nitrogen_hf.labeling.provenance import LabelRun

logger = logging.getLogger("nitrogen_hf")


# --- one video -----------------------------------------------------------------------------
@dataclass
class Decision:
    """What becomes of a labeled video: its actions (trained dims observed), which frames have
    input, and the chunks to write with every other frame's drop reason."""

    actions: GamepadActions
    active: np.ndarray  # (N-1,) bool
    plan: ChunkPlan


def decide(labels: VideoLabels, trained_dims: np.ndarray, run: LabelRun) -> Decision:
    """Threshold buttons at BUTTON_THRESHOLD, apply the filters, cut the kept frames into chunks."""
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
    names = write_video_chunks(config.out / ACTIONS_DIR, path.stem, chunks)
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
) -> ChunkToWrite:
    """The chunk of labeled frames `span`, timed in the source video, with its provenance."""
    start, stop = span
    confidence = labels.confidence[start:stop]
    extras = run.chunk_extras(confidence.mean(), decision.active[start:stop].mean(), labeled_at)
    meta = chunk_metadata(
        video_id,
        index,
        start,
        stop,
        labels.fps,
        resolution=resolution,
        source=VIDEO_SOURCE,
        game=run.game,
        video_frames=(labels.frame_index[start], labels.frame_index[stop - 1]),
        extra=extras,
    )
    return ChunkToWrite(meta, decision.actions[start:stop], confidence)


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
