"""`nitrogen-hf build-dataset`: NitroGen chunks + the user's local videos -> the parquet
dataset of `hub_dataset.py`, resumably and without ever losing a good dataset.

The build reads its inputs source by source (each shard file, each folder of extracted
chunks) and stages shards in OUT/.data.building; after each source, `progress.json` there
records what is done, so a killed build resumes with the next source. The finished staging
folder replaces OUT/data whole; a build that found no usable chunk changes nothing. Repeated
inputs and chunks (one uuid twice) are reported and kept once; one build per OUT at a time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from nitrogen_hf.data.files import (
    atomic_path,
    file_lock,
    remove_leftovers,
    replace_folder,
    write_json_atomic,
)
from nitrogen_hf.data.hub_dataset import (
    CHUNK_FEATURES,
    DATA_DIR,
    DEFAULT_LABEL_SOURCE,
    README_FILE,
    SPLITS,
    SUMMARY_FILE,
)
from nitrogen_hf.data.metadata import ChunkMetadata, MetadataError
from nitrogen_hf.data.nitrogen_reader import Chunk, chunk_sources, iter_source
from nitrogen_hf.data.skips import Skip, SkipLog
from nitrogen_hf.data.video import Backend
from nitrogen_hf.data.video_locator import VideoInfo, VideoJoiner, VideoLocator

STAGING_DIR = ".data.building"  # the build in progress (hidden: never read as a dataset)
PROGRESS_FILE = "progress.json"
LOCK_FILE = ".build.lock"


class NoUsableChunks(ValueError):
    """Every chunk was skipped: the existing dataset (if any) is kept as it was."""


@dataclass
class BuildConfig:
    """Inputs and layout of `nitrogen-hf build-dataset`."""

    actions: Sequence[Path]  # shards or folders of chunks (ground truth and pseudo-labels)
    videos: Path | None  # folder of <video_id>.<ext> files
    out: Path
    video_map: Path | None = None  # CSV/JSON video_id -> path; wins over `videos`
    validation_fraction: float = 0.0  # of videos, by a stable hash of video_id
    rows_per_shard: int = 256  # chunks per parquet file (~10 MB of actions at 600 rows each)
    backend: Backend = "auto"  # video decoder used to probe the videos
    progress: bool = True  # tqdm bar over chunks

    def __post_init__(self) -> None:
        if not 0.0 <= self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be in [0, 1), got {self.validation_fraction}"
            )
        if self.rows_per_shard < 1:
            raise ValueError(f"rows_per_shard must be >= 1, got {self.rows_per_shard}")


# --- pure helpers -----------------------------------------------------------------------------
def split_of(video_id: str, validation_fraction: float) -> str:
    """'validation' for a stable `validation_fraction` of video ids, else 'train'.

    Hashing the id (not the chunk) keeps every episode inside one split, on every machine.
    """
    digest = hashlib.sha256(video_id.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") / 2**64
    return "validation" if bucket < validation_fraction else "train"


def overlay_box(meta: ChunkMetadata, resolution: Sequence[int]) -> list[int] | None:
    """The overlay (x, y, w, h) clipped to `resolution` (the video's when metadata has none)."""
    original = dataclasses.replace(meta.original_video, resolution=tuple(resolution))
    box = dataclasses.replace(meta, original_video=original).overlay_box()
    return list(box) if box else None


def chunk_row(chunk: Chunk, video: VideoInfo) -> dict:
    """One dataset row (see CHUNK_FEATURES) for a chunk joined with its probed video."""
    meta, original = chunk.metadata, chunk.metadata.original_video
    resolution = original.resolution or (video.height, video.width)
    frame_index = video.frame_indices(original.start_time, np.arange(chunk.num_frames), meta.fps)
    extras = dict(meta.extra)
    label_source = str(extras.pop("label_source", DEFAULT_LABEL_SOURCE))
    return {
        "uuid": meta.uuid,
        "video_id": meta.video_id,
        "video_path": str(video.path.resolve()),
        "start_time": original.start_time,
        "end_time": original.end_time,
        "fps": meta.fps,
        "video_fps": video.fps,
        "start_frame": int(frame_index[0]),
        "frame_index": frame_index.tolist() if video.frame_times is not None else None,
        "num_frames": chunk.num_frames,
        "game": meta.game,
        "controller_type": meta.controller_type,
        "overlay_box": overlay_box(meta, resolution),
        "resolution": list(resolution),
        "game_area": meta.bbox_game_area,
        "source": original.source,
        "label_source": label_source,
        "provenance": json.dumps(extras, sort_keys=True, default=str),
        "buttons": chunk.actions.buttons.tolist(),
        "sticks": chunk.actions.sticks.tolist(),
        "observed": chunk.actions.observed.tolist(),
        "confidence": None if chunk.confidence is None else chunk.confidence.tolist(),
        "identifiable": identifiable_rows(chunk.identifiable),
    }


def identifiable_rows(masks) -> list | None:
    """(N, 25) int8 probe masks -> per-frame lists of bools, None for unprobed frames."""
    if masks is None:
        return None
    return [None if row[0] < 0 else (row > 0).tolist() for row in masks]


# --- writing ----------------------------------------------------------------------------------
class ShardWriter:
    """Buffers rows of one split and writes `<split>-NNNNN.parquet` files into a staging folder.

    `checkpoint` saves the rows of the unfinished shard as `<split>-pending.parquet`, which a
    resumed writer (given the names of the files already `staged`) reads back: shards stay full
    however often a build is interrupted."""

    def __init__(self, folder: Path, split: str, rows_per_shard: int, staged: Sequence[str] = ()):
        self.folder, self.split, self.rows_per_shard = folder, split, rows_per_shard
        self.files: list[Path] = [folder / name for name in staged]
        pending = self.pending_path
        self.rows: list[dict] = pq.read_table(pending).to_pylist() if pending.is_file() else []

    @property
    def pending_path(self) -> Path:
        return self.folder / f"{self.split}-pending.parquet"

    def staged(self) -> list[str]:
        return [path.name for path in self.files]

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.rows_per_shard:
            self.flush()

    def _write(self, rows: list[dict], path: Path) -> None:
        table = pa.Table.from_pylist(rows, schema=CHUNK_FEATURES.arrow_schema)
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)

    def flush(self) -> None:
        if not self.rows:
            return
        path = self.folder / f"{self.split}-{len(self.files):05d}.parquet"
        self._write(self.rows, path)
        self.files.append(path)
        self.rows = []

    def checkpoint(self) -> None:
        """Make the buffered rows survive a kill (the files list goes to progress.json)."""
        if self.rows:
            self._write(self.rows, self.pending_path)
        else:
            self.pending_path.unlink(missing_ok=True)

    def finish(self) -> list[str]:
        """Flush and rename to the Hub's `<split>-00000-of-0000N.parquet`; returns the names."""
        self.flush()
        self.pending_path.unlink(missing_ok=True)
        names = [
            f"{self.split}-{i:05d}-of-{len(self.files):05d}.parquet" for i in range(len(self.files))
        ]
        for path, name in zip(self.files, names, strict=True):
            os.replace(path, self.folder / name)
        return names


@dataclass
class BuildStats:
    """Counts for build_summary.json."""

    chunks: Counter = field(default_factory=Counter)  # per split
    seconds: Counter = field(default_factory=Counter)  # per split
    videos: dict[str, set] = field(default_factory=dict)  # per split
    games: Counter = field(default_factory=Counter)  # chunks per game
    variable_rate_videos: set = field(default_factory=set)  # read by timestamp

    def add(self, split: str, row: dict) -> None:
        self.chunks[split] += 1
        self.seconds[split] += row["num_frames"] / row["fps"]
        self.videos.setdefault(split, set()).add(row["video_id"])
        self.games[row["game"] or "unknown"] += 1
        if row.get("frame_index") is not None:
            self.variable_rate_videos.add(row["video_id"])

    def to_json(self) -> dict:
        return {
            "chunks": dict(self.chunks),
            "seconds": dict(self.seconds),
            "videos": {split: sorted(ids) for split, ids in self.videos.items()},
            "games": dict(self.games),
            "variable_rate_videos": sorted(self.variable_rate_videos),
        }

    @classmethod
    def from_json(cls, data: dict) -> BuildStats:
        return cls(
            Counter(data.get("chunks", {})),
            Counter(data.get("seconds", {})),
            {split: set(ids) for split, ids in data.get("videos", {}).items()},
            Counter(data.get("games", {})),
            set(data.get("variable_rate_videos", [])),
        )


def build_sources(config: BuildConfig, skips: SkipLog) -> list[Path]:
    """Every source of every `--actions` path, once (a repeated path or shard is reported)."""
    sources, seen = [], set()
    for root in config.actions:
        for source in chunk_sources(root):
            key = source.resolve()
            if key in seen:
                skips.add("duplicate_input", source, "given more than once; read once")
                continue
            seen.add(key)
            sources.append(source)
    return sources


def iter_source_rows(
    source: Path, joiner: VideoJoiner, seen: set[str], skips: SkipLog
) -> Iterator[dict]:
    """Rows of the source's chunks whose video is usable; repeated uuids are skipped."""
    for chunk in iter_source(source, skips):
        if chunk.metadata.uuid in seen:
            skips.add("duplicate_chunk", chunk.location, f"uuid {chunk.metadata.uuid} seen before")
            continue
        video = joiner.join(chunk, skips)
        if video is None:
            continue
        try:
            row = chunk_row(chunk, video)
        except MetadataError as error:  # e.g. an overlay box outside the video's frame
            skips.add("bad_metadata", chunk.location, str(error))
            continue
        seen.add(chunk.metadata.uuid)
        yield row


@dataclass
class BuildProgress:
    """What a build has finished: `progress.json` of the staging folder."""

    key: str  # the build's settings: a build with others starts over
    sources_done: list[str] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)  # staged shard files per split
    stats: dict = field(default_factory=dict)
    skips: list[dict] = field(default_factory=list)

    @classmethod
    def load(cls, staging: Path, key: str) -> BuildProgress | None:
        path = staging / PROGRESS_FILE
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return cls(**data) if data.get("key") == key else None

    def save(self, staging: Path) -> None:
        write_json_atomic(staging / PROGRESS_FILE, dataclasses.asdict(self))


def settings_key(config: BuildConfig) -> str:
    """A digest of everything that changes what the build writes."""
    settings = {
        "actions": [str(Path(p).resolve()) for p in config.actions],
        "videos": str(config.videos),
        "video_map": str(config.video_map),
        "validation_fraction": config.validation_fraction,
        "rows_per_shard": config.rows_per_shard,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def _staged_uuids(writers: dict[str, ShardWriter]) -> set[str]:
    """uuids a resumed build has already staged (files and pending rows)."""
    seen = {row["uuid"] for writer in writers.values() for row in writer.rows}
    for writer in writers.values():
        for path in writer.files:
            seen.update(pq.read_table(path, columns=["uuid"]).column("uuid").to_pylist())
    return seen


def build_dataset(config: BuildConfig) -> dict:
    """Write OUT/data/*.parquet, OUT/README.md and OUT/build_summary.json; return the summary.

    Resumes a killed build of the same settings; raises NoUsableChunks (OUT untouched) when
    no chunk could be used, naming the reasons."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    with file_lock(out / LOCK_FILE, blocking=False, job="another `build-dataset`"):
        remove_leftovers(out, DATA_DIR)  # staging copies of older versions or swaps
        staging = out / STAGING_DIR
        progress = _resume_or_start(staging, settings_key(config))
        files, stats, skips = _write_shards(config, staging, progress)
        if not sum(stats.chunks.values()):
            shutil.rmtree(staging, ignore_errors=True)
            raise NoUsableChunks(_nothing_usable(config, skips))
        (staging / PROGRESS_FILE).unlink()
        replace_folder(staging, out / DATA_DIR)
        summary = build_summary(config, stats, files, skips)
        write_readme(out, [s for s in SPLITS if files[s]])
        write_json_atomic(out / SUMMARY_FILE, summary)
    return summary


def _resume_or_start(staging: Path, key: str) -> BuildProgress:
    progress = BuildProgress.load(staging, key)
    if progress is None:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        progress = BuildProgress(key)
    return progress


def _write_shards(config: BuildConfig, staging: Path, progress: BuildProgress):
    """Stage every source not done yet; returns (files per split, stats, skips)."""
    from tqdm import tqdm

    skips = SkipLog(skips=[Skip(**s) for s in progress.skips])
    stats = BuildStats.from_json(progress.stats)
    sources = build_sources(config, skips)
    writers = {
        s: ShardWriter(staging, s, config.rows_per_shard, progress.files.get(s, [])) for s in SPLITS
    }
    seen = _staged_uuids(writers)
    joiner = VideoJoiner(VideoLocator(config.videos, config.video_map), config.backend)
    todo = [s for s in sources if str(s) not in progress.sources_done]
    with tqdm(total=len(sources), initial=len(sources) - len(todo), desc="build-dataset",
              unit="source", disable=not config.progress) as bar:  # fmt: skip
        for source in todo:
            for row in iter_source_rows(source, joiner, seen, skips):
                split = split_of(row["video_id"], config.validation_fraction)
                writers[split].add(row)
                stats.add(split, row)
            for writer in writers.values():
                writer.checkpoint()
            progress.sources_done.append(str(source))
            progress.files = {s: w.staged() for s, w in writers.items()}
            progress.stats, progress.skips = stats.to_json(), [s.__dict__ for s in skips.skips]
            progress.save(staging)
            bar.set_postfix(chunks=sum(stats.chunks.values()), skipped=len(skips))
            bar.update()
    return {s: w.finish() for s, w in writers.items()}, stats, skips


def _nothing_usable(config: BuildConfig, skips: SkipLog) -> str:
    reasons = ", ".join(f"{k} {n}" for k, n in skips.counts().items()) or "no chunks found"
    first = f"; first: {skips.skips[0]}" if skips.skips else ""
    return (
        f"{', '.join(map(str, config.actions))}: no usable chunk ({reasons}){first}; "
        f"{config.out} was left as it was"
    )


def build_summary(config: BuildConfig, stats: BuildStats, files: dict, skips: SkipLog) -> dict:
    splits = {
        split: {
            "chunks": stats.chunks[split],
            "hours": round(stats.seconds[split] / 3600, 6),
            "videos": len(stats.videos.get(split, ())),
            "files": files[split],
        }
        for split in SPLITS
        if files[split]
    }
    return {
        "out": str(config.out),
        "actions": [str(p) for p in config.actions],
        "validation_fraction": config.validation_fraction,
        "chunks": sum(stats.chunks.values()),
        "hours": round(sum(stats.seconds.values()) / 3600, 6),
        "splits": splits,
        "games": dict(stats.games.most_common()),
        "variable_frame_rate_videos": sorted(stats.variable_rate_videos),
        "skipped": skips.to_json(),
    }


def write_readme(out: Path, splits: Iterable[str]) -> None:
    """Minimal dataset card: the YAML `configs:` header that tells `load_dataset` the splits."""
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in splits:
        lines += [f"  - split: {split}", f"    path: {DATA_DIR}/{split}-*.parquet"]
    lines += [
        "---",
        "",
        "# NitroGen chunks",
        "",
        "One row per action chunk; videos are not included.",
        "",
    ]
    with atomic_path(out / README_FILE) as tmp:
        tmp.write_text("\n".join(lines))
