"""Write chunks in the NitroGen layout, atomically (a half-written chunk never appears): the
metadata of a stretch of frames, one chunk, and a video's whole set of chunks at once. The
recorder and the labeler both write through here."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nitrogen_hf.actions import ACTION_DIM, GamepadActions
from nitrogen_hf.data.files import remove_leftovers, replace_folder, temporary_sibling
from nitrogen_hf.data.metadata import ChunkMetadata, OriginalVideo
from nitrogen_hf.data.nitrogen_reader import (
    CONFIDENCE_COLUMN,
    IDENTIFIABLE_COLUMN,
    METADATA_FILE,
    PROCESSED_FILE,
)


def chunk_folder_name(video_id: str, index: int) -> str:
    """`<video_id>/<video_id>_chunk_0000`, the folder of chunk `index` under a shard root."""
    return f"{video_id}/{video_id}_chunk_{index:04d}"


FULL_FRAME = {"xtl": 0.0, "ytl": 0.0, "xbr": 1.0, "ybr": 1.0}  # the whole picture is game


def chunk_metadata(
    video_id: str,
    index: int,
    start: int,
    stop: int,
    fps: float,
    *,
    resolution: tuple[int, int],
    source: str,
    game: str | None,
    controller_type: str | None = None,
    url: str | None = None,
    overlay_box: Sequence[int] | None = None,
    video_frames: tuple[int, int] | None = None,
    extra: dict | None = None,
) -> ChunkMetadata:
    """Metadata of chunk `index`: action rows [start, stop) at `fps`, timed in the source video,
    with every field of the format. `video_frames` is the (first, last) source-video frame when
    it differs from (start, stop - 1), e.g. labels at 30 fps of a 60 fps video."""
    first, last = video_frames if video_frames is not None else (start, stop - 1)
    video = OriginalVideo(
        video_id=video_id,
        start_time=start / fps,
        end_time=stop / fps,
        source=source,
        url=url,
        resolution=resolution,
        duration=(stop - start) / fps,
        start_frame=int(first),
        end_frame=int(last),  # inclusive, as in the released files
        fps=fps,
    )
    return ChunkMetadata(
        uuid=f"{video_id}_chunk_{index:04d}_actions",
        chunk_id=f"{index:04d}",
        chunk_size=stop - start,
        original_video=video,
        game=game,
        controller_type=controller_type,
        bbox_controller_overlay=tuple(overlay_box) if overlay_box else None,
        bbox_game_area=dict(FULL_FRAME),
        extra=dict(extra or {}),
    )


@dataclass
class ChunkToWrite:
    """One chunk of a video: its metadata and rows (confidence: pseudo-labels; identifiable:
    (N, 25) int8 probe results, -1 where not probed)."""

    metadata: ChunkMetadata
    actions: GamepadActions
    confidence: np.ndarray | None = None
    identifiable: np.ndarray | None = field(default=None)


def write_video_chunks(
    root: str | Path, video_id: str, chunks: Sequence[ChunkToWrite]
) -> list[str]:
    """Replace `root/<video_id>/` with these chunks at once (staged in a hidden folder, renamed
    into place); no chunks removes the folder. Returns the chunk folders relative to `root`."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    remove_leftovers(root, video_id)  # a killed job's staging (job locks keep out live ones)
    target = root / video_id
    if not chunks:
        if target.exists():
            shutil.rmtree(target)
        return []
    staging = temporary_sibling(target)  # hidden: readers and build-dataset skip it
    try:
        for chunk in chunks:
            write_chunk(
                staging, chunk.metadata, chunk.actions, chunk.confidence, chunk.identifiable
            )
        replace_folder(staging / video_id, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [chunk_folder_name(video_id, int(c.metadata.chunk_id)) for c in chunks]


def write_chunk(
    root: str | Path,
    metadata: ChunkMetadata,
    actions: GamepadActions,
    confidence: np.ndarray | None = None,
    identifiable: np.ndarray | None = None,
) -> Path:
    """Write `<root>/<video_id>/<video_id>_chunk_<id>/` and return its path.

    identifiable: (N, 25) int8 probe results, 1/0 per dim, -1 for frames not probed; they
    go to a nullable list<bool> column (null rows: not probed).
    Files go to a temporary sibling folder that is renamed into place, so readers and
    resumed jobs see either the whole chunk or none of it.
    """
    if len(actions) != metadata.chunk_size:
        raise ValueError(
            f"{metadata.uuid}: {len(actions)} action rows but chunk_size {metadata.chunk_size}"
        )
    target = Path(root) / chunk_folder_name(metadata.video_id, int(metadata.chunk_id))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = temporary_sibling(target)
    staging.mkdir()
    try:
        table = actions.to_table()
        if confidence is not None:
            table = table.append_column(
                CONFIDENCE_COLUMN, pa.array(np.asarray(confidence, np.float32))
            )
        if identifiable is not None:
            table = table.append_column(IDENTIFIABLE_COLUMN, identifiable_array(identifiable))
        pq.write_table(table, staging / PROCESSED_FILE)
        (staging / METADATA_FILE).write_text(json.dumps(metadata.to_json(), indent=2))
        replace_folder(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def identifiable_array(masks: np.ndarray) -> pa.Array:
    """(N, 25) int8 (-1 = not probed) -> list<bool> array with a null for unprobed rows."""
    masks = np.asarray(masks)
    if masks.ndim != 2 or masks.shape[1] != ACTION_DIM:
        raise ValueError(f"identifiable masks must be (N, {ACTION_DIM}), got {masks.shape}")
    rows = [None if row[0] < 0 else (row > 0).tolist() for row in masks]
    return pa.array(rows, pa.list_(pa.bool_()))
