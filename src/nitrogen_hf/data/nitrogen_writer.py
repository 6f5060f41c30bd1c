"""Write chunks in the NitroGen layout, atomically (a half-written chunk never appears)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nitrogen_hf.actions import ACTION_DIM, GamepadActions
from nitrogen_hf.data.files import replace_folder, temporary_sibling
from nitrogen_hf.data.metadata import ChunkMetadata
from nitrogen_hf.data.nitrogen_reader import (
    CONFIDENCE_COLUMN,
    IDENTIFIABLE_COLUMN,
    METADATA_FILE,
    PROCESSED_FILE,
)


def chunk_folder_name(video_id: str, index: int) -> str:
    """`<video_id>/<video_id>_chunk_0000`, the folder of chunk `index` under a shard root."""
    return f"{video_id}/{video_id}_chunk_{index:04d}"


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
