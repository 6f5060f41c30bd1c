"""Iterate NitroGen chunks from `.tar.gz` shards (streamed) or extracted folders.

A broken chunk (bad JSON, missing field or column, corrupt parquet) is recorded in a
`SkipLog` with its path and reason and skipped; iteration goes on.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nitrogen_hf.actions import ACTION_DIM, BUTTONS, STICKS, GamepadActions
from nitrogen_hf.data.metadata import ChunkMetadata, MetadataError
from nitrogen_hf.data.skips import SkipLog

METADATA_FILE = "metadata.json"
PROCESSED_FILE = "actions_processed.parquet"
RAW_FILE = "actions_raw.parquet"
CHUNK_FILES = (METADATA_FILE, PROCESSED_FILE, RAW_FILE)
SHARD_SUFFIXES = (".tar.gz", ".tgz", ".tar")
CONFIDENCE_COLUMN = "confidence"
IDENTIFIABLE_COLUMN = "identifiable"  # per-frame probe results of recorded games
NOT_PROBED = -1  # value of unprobed frames in identifiable masks


class ChunkError(ValueError):
    """A chunk that cannot be used; `kind` is a short reason for summaries."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class Chunk:
    """One ~20 s chunk: metadata plus per-frame actions (and confidence for pseudo-labels)."""

    metadata: ChunkMetadata
    actions: GamepadActions
    name: str  # chunk folder, relative to the shard root
    origin: str  # shard file or folder it was read from
    actions_file: str  # which parquet the actions came from
    confidence: np.ndarray | None = None  # (N,) float32, pseudo-labels only
    identifiable: np.ndarray | None = None  # (N, 25) int8: 1/0 per dim, NOT_PROBED rows

    @property
    def video_id(self) -> str:
        return self.metadata.video_id

    @property
    def num_frames(self) -> int:
        return len(self.actions)

    @property
    def location(self) -> str:
        return f"{self.origin}::{self.name}"


def iter_chunks(path: str | Path, skips: SkipLog | None = None) -> Iterator[Chunk]:
    """Chunks of a shard file, an extracted shard folder, or a folder of shards, in order."""
    skips = skips if skips is not None else SkipLog()
    for source in chunk_sources(path):
        yield from iter_source(source, skips)


def chunk_sources(path: str | Path) -> list[Path]:
    """The units a path holds, in reading order: its shard files, then (for a folder) the
    folder itself for the chunks extracted in it. Jobs resume source by source."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such shard file or folder")
    if path.is_file():
        if not path.name.endswith(SHARD_SUFFIXES):
            raise ValueError(f"{path}: expected a .tar.gz shard or a folder of chunks")
        return [path]
    return [*sorted(p for p in path.rglob("*") if p.name.endswith(SHARD_SUFFIXES)), path]


def iter_source(source: Path, skips: SkipLog) -> Iterator[Chunk]:
    """Chunks of one source of `chunk_sources`: a shard, or a folder's extracted chunks. A
    shard with no chunk at all is recorded (`empty_shard`), never passed over in silence."""
    before, count = len(skips), 0
    chunks = _iter_tar(source, skips) if source.is_file() else _iter_folder(source, skips)
    for chunk in chunks:
        count += 1
        yield chunk
    if source.is_file() and count == 0 and len(skips) == before:
        skips.add("empty_shard", source, "the shard holds no chunk (no metadata.json files)")


def parse_chunk(name: str, files: dict[str, bytes], origin: str) -> Chunk:
    """Build a Chunk from the raw bytes of its files; raises ChunkError with the reason."""
    if METADATA_FILE not in files:
        raise ChunkError("missing_metadata", f"no {METADATA_FILE}")
    try:
        raw = json.loads(files[METADATA_FILE].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ChunkError("bad_json", f"{METADATA_FILE}: {error}") from error
    try:
        metadata = ChunkMetadata.from_json(raw)
    except MetadataError as error:
        raise ChunkError("bad_metadata", f"{METADATA_FILE}: {error}") from error
    actions_file = PROCESSED_FILE if PROCESSED_FILE in files else RAW_FILE
    if actions_file not in files:
        raise ChunkError("missing_actions", f"neither {PROCESSED_FILE} nor {RAW_FILE}")
    table = _read_parquet(files[actions_file], actions_file)
    actions = _actions_from_table(table, actions_file)
    if len(actions) != metadata.chunk_size:
        raise ChunkError(
            "length_mismatch",
            f"{actions_file} has {len(actions)} rows but metadata chunk_size is {metadata.chunk_size}",
        )
    confidence = None
    if CONFIDENCE_COLUMN in table.column_names:
        confidence = (
            table.column(CONFIDENCE_COLUMN).to_numpy(zero_copy_only=False).astype(np.float32)
        )
    identifiable = None
    if IDENTIFIABLE_COLUMN in table.column_names:
        identifiable = identifiable_masks(table.column(IDENTIFIABLE_COLUMN).to_pylist())
    return Chunk(metadata, actions, name, origin, actions_file, confidence, identifiable)


def identifiable_masks(rows: list) -> np.ndarray:
    """Per-frame lists of 25 bools (None: not probed) -> (N, 25) int8 with NOT_PROBED rows."""
    out = np.full((len(rows), ACTION_DIM), NOT_PROBED, np.int8)
    for i, row in enumerate(rows):
        if row is None:
            continue
        if len(row) != ACTION_DIM:
            raise ChunkError(
                "bad_identifiable",
                f"{IDENTIFIABLE_COLUMN} row {i} has {len(row)} values, expected {ACTION_DIM}",
            )
        out[i] = np.asarray(row, bool)
    return out


def _read_parquet(data: bytes, file_name: str) -> pa.Table:
    try:
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise ChunkError("corrupt_parquet", f"{file_name}: {error}") from error


def _actions_from_table(table: pa.Table, file_name: str) -> GamepadActions:
    known = set(BUTTONS) | set(STICKS)
    if not known & set(table.column_names):
        raise ChunkError(
            "missing_column",
            f"{file_name}: no action columns (expected some of {sorted(known)}), "
            f"found {table.column_names}",
        )
    try:
        return GamepadActions.from_table(table)
    except (ValueError, TypeError, pa.ArrowException) as error:
        raise ChunkError("bad_actions", f"{file_name}: {error}") from error


def _read_chunk(name: str, files: dict[str, bytes], origin: str, skips: SkipLog) -> Chunk | None:
    try:
        return parse_chunk(name, files, origin)
    except ChunkError as error:
        skips.add(error.kind, f"{origin}::{name}", str(error))
        return None


def _iter_folder(root: Path, skips: SkipLog) -> Iterator[Chunk]:
    found = {p.parent for name in CHUNK_FILES for p in root.rglob(name)}
    # Hidden folders are staging copies of an interrupted write, not chunks.
    visible = (
        d for d in found if not any(part.startswith(".") for part in d.relative_to(root).parts)
    )
    chunk_dirs = sorted(visible, key=lambda p: p.as_posix())
    for chunk_dir in chunk_dirs:
        files = {n: (chunk_dir / n).read_bytes() for n in CHUNK_FILES if (chunk_dir / n).is_file()}
        chunk = _read_chunk(chunk_dir.relative_to(root).as_posix(), files, str(root), skips)
        if chunk is not None:
            yield chunk


def _iter_tar(shard: Path, skips: SkipLog) -> Iterator[Chunk]:
    """Stream a shard member by member (mode 'r|*'): nothing is extracted to disk.

    Members of one chunk folder must be contiguous, as `tar` writes them; a chunk folder
    that reappears later is reported rather than silently merged.
    """
    current: str | None = None
    files: dict[str, bytes] = {}
    finished: set[str] = set()
    try:
        with tarfile.open(shard, mode="r|*") as archive:
            for member in archive:
                posix = PurePosixPath(member.name)
                if not member.isfile() or posix.name not in CHUNK_FILES:
                    continue
                folder = posix.parent.as_posix()
                if folder != current:
                    if current is not None:
                        chunk = _read_chunk(current, files, str(shard), skips)
                        finished.add(current)
                        if chunk is not None:
                            yield chunk
                    if folder in finished:
                        skips.add(
                            "split_chunk",
                            f"{shard}::{folder}",
                            "files of this chunk are not contiguous in the shard",
                        )
                    current, files = folder, {}
                extracted = archive.extractfile(member)
                files[posix.name] = extracted.read() if extracted else b""
    except (tarfile.TarError, OSError, EOFError) as error:
        skips.add("corrupt_shard", shard, f"shard unreadable after {len(finished)} chunks: {error}")
        return
    if current is not None:
        chunk = _read_chunk(current, files, str(shard), skips)
        if chunk is not None:
            yield chunk
