"""NitroGen chunks + the user's local videos -> a streamable parquet dataset, and back.

One row per chunk holds its actions and what a loader needs to cut training windows from
the video (path, fps, first frame, overlay box). The folder loads with
`datasets.load_dataset(folder, streaming=True)`; once pushed, the same call takes a repo id.
Hub copies carry `video_id` but no videos, so `load_chunk_dataset(videos_dir=)` re-points
`video_path` to the user's own files.
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

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from nitrogen_hf.actions import ACTION_DIM, NUM_BUTTONS, NUM_STICK_AXES
from nitrogen_hf.data.files import atomic_path, replace_folder, temporary_sibling, write_json_atomic
from nitrogen_hf.data.metadata import ChunkMetadata
from nitrogen_hf.data.nitrogen_reader import Chunk, iter_chunks
from nitrogen_hf.data.skips import SkipLog
from nitrogen_hf.data.video import Backend, frame_index_at
from nitrogen_hf.data.video_locator import VideoInfo, VideoJoiner, VideoLocator

SPLITS = ("train", "validation")
DATA_DIR = "data"
SUMMARY_FILE = "build_summary.json"
README_FILE = "README.md"
DEFAULT_LABEL_SOURCE = "overlay"  # chunks without a `label_source` extra come from the overlay

_float = datasets.Value("float32")
CHUNK_FEATURES = datasets.Features(
    {
        "uuid": datasets.Value("string"),
        "video_id": datasets.Value("string"),
        "video_path": datasets.Value("string"),  # as resolved at build time; see videos_dir=
        "start_time": datasets.Value("float64"),  # seconds in the source video
        "end_time": datasets.Value("float64"),
        "fps": datasets.Value("float64"),  # action rate of the chunk
        "video_fps": datasets.Value("float64"),  # frame rate of the local video
        "start_frame": datasets.Value("int64"),  # video frame of the chunk's first action
        "num_frames": datasets.Value("int32"),  # action rows
        "game": datasets.Value("string"),
        "controller_type": datasets.Value("string"),
        "overlay_box": datasets.List(datasets.Value("int32"), length=4),  # x, y, w, h px, clipped
        "resolution": datasets.List(datasets.Value("int32"), length=2),  # h, w the box is in
        "game_area": {"xtl": _float, "ytl": _float, "xbr": _float, "ybr": _float},  # relative
        "source": datasets.Value("string"),
        "label_source": datasets.Value("string"),  # "overlay", or how pseudo-labels were made
        "provenance": datasets.Value("string"),  # JSON of the other metadata extras
        "buttons": datasets.List(datasets.List(datasets.Value("uint8"), length=NUM_BUTTONS)),
        "sticks": datasets.List(datasets.List(_float, length=NUM_STICK_AXES)),  # [-1, 1]
        "observed": datasets.List(datasets.Value("bool"), length=ACTION_DIM),
        "confidence": datasets.List(_float),  # per frame; null for ground truth
        # Per frame, which of the 25 dims change the next frames (envs.probes); null for
        # chunks without probes and for the frames a recording did not probe.
        "identifiable": datasets.List(datasets.List(datasets.Value("bool"), length=ACTION_DIM)),
    }
)


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
        "start_frame": frame_index_at(original.start_time, video.fps),
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
    """Buffers rows of one split and writes `<split>-NNNNN.parquet` files into a staging folder."""

    def __init__(self, folder: Path, split: str, rows_per_shard: int):
        self.folder, self.split, self.rows_per_shard = folder, split, rows_per_shard
        self.rows: list[dict] = []
        self.files: list[Path] = []

    def add(self, row: dict) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.rows_per_shard:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        table = pa.Table.from_pylist(self.rows, schema=CHUNK_FEATURES.arrow_schema)
        path = self.folder / f"{self.split}-{len(self.files):05d}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        self.files.append(path)
        self.rows = []

    def finish(self) -> list[str]:
        """Flush and rename to the Hub's `<split>-00000-of-0000N.parquet`; returns the names."""
        self.flush()
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

    def add(self, split: str, row: dict) -> None:
        self.chunks[split] += 1
        self.seconds[split] += row["num_frames"] / row["fps"]
        self.videos.setdefault(split, set()).add(row["video_id"])
        self.games[row["game"] or "unknown"] += 1


def iter_joined_rows(config: BuildConfig, skips: SkipLog) -> Iterator[dict]:
    """Rows of every chunk of every actions root whose video is usable; skips go to `skips`."""
    joiner = VideoJoiner(VideoLocator(config.videos, config.video_map), config.backend)
    for root in config.actions:
        for chunk in iter_chunks(root, skips):
            video = joiner.join(chunk, skips)
            if video is not None:
                yield chunk_row(chunk, video)


def build_dataset(config: BuildConfig) -> dict:
    """Write OUT/data/*.parquet, OUT/README.md and OUT/build_summary.json; return the summary.

    Shards are staged in a hidden folder that replaces OUT/data at the end, so a re-run
    swaps the old dataset for the new one whole and a killed run leaves the old one intact.
    """
    from tqdm import tqdm

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    staging = temporary_sibling(out / DATA_DIR)
    staging.mkdir()
    skips, stats = SkipLog(), BuildStats()
    try:
        writers = {s: ShardWriter(staging, s, config.rows_per_shard) for s in SPLITS}
        rows = iter_joined_rows(config, skips)
        for row in tqdm(rows, desc="build-dataset", unit="chunk", disable=not config.progress):
            split = split_of(row["video_id"], config.validation_fraction)
            writers[split].add(row)
            stats.add(split, row)
        files = {s: w.finish() for s, w in writers.items()}
        replace_folder(staging, out / DATA_DIR)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    summary = build_summary(config, stats, files, skips)
    write_readme(out, [s for s in SPLITS if files[s]])
    write_json_atomic(out / SUMMARY_FILE, summary)
    return summary


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


# --- loading ----------------------------------------------------------------------------------
def data_files(out: str | Path) -> dict[str, list[str]]:
    """Parquet files per split of a built folder, for `load_dataset("parquet", data_files=...)`."""
    folder = Path(out) / DATA_DIR
    found = {s: sorted(str(p) for p in folder.glob(f"{s}-*.parquet")) for s in SPLITS}
    return {s: files for s, files in found.items() if files}


def load_chunk_dataset(
    path_or_repo_id: str | Path,
    split: str = "train",
    streaming: bool = True,
    videos_dir: str | Path | None = None,
    video_map: str | Path | None = None,
) -> datasets.IterableDataset | datasets.Dataset:
    """Chunk rows of a built folder or a Hub repo id.

    A local folder is read as its parquet files: their paths and modification times key the
    `datasets` cache, whereas a folder name alone can collide with another folder's cached
    copy in non-streaming mode. With `videos_dir` and/or `video_map`, `video_path` is looked
    up in the user's own copies at load time (null when that video is absent, so the loader
    skips its chunks).
    """
    if Path(path_or_repo_id).is_dir():
        files = data_files(path_or_repo_id)
        if split not in files:
            raise ValueError(f"{path_or_repo_id}: no '{split}' split (found {sorted(files)})")
        _check_columns(files[split][0])
        dataset = datasets.load_dataset(
            "parquet",
            data_files={split: files[split]},
            split=split,
            streaming=streaming,
            features=CHUNK_FEATURES,
        )
    else:
        dataset = datasets.load_dataset(str(path_or_repo_id), split=split, streaming=streaming)
    if videos_dir is None and video_map is None:
        return dataset
    locator = VideoLocator(videos_dir, video_map)
    return dataset.map(
        _repoint_video_paths,
        batched=True,
        input_columns=["video_id"],
        fn_kwargs={"locator": locator},
        features=CHUNK_FEATURES,
    )


def _check_columns(path: str) -> None:
    """A clear error for shards written by an older build (their columns differ)."""
    missing = set(CHUNK_FEATURES) - set(pq.read_schema(path).names)
    if missing:
        raise ValueError(
            f"{path}: columns {sorted(missing)} missing (built by an older version); "
            "run build-dataset again"
        )


def _repoint_video_paths(video_ids: list[str], locator: VideoLocator) -> dict[str, list]:
    paths = (locator.locate(video_id) for video_id in video_ids)
    return {"video_path": [str(p.resolve()) if p is not None else None for p in paths]}
