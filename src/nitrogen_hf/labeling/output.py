"""Write one video's pseudo-labels in the NitroGen layout, atomically, then mark it done.

    OUT/actions/<video_id>/<video_id>_chunk_NNNN/   metadata.json + actions_processed.parquet
                                                    (with the per-frame `confidence` column)
    OUT/labeled/<video_id>.json                     done marker: settings key, chunk list,
                                                    frames dropped per reason (as spans)

All chunks of a video are staged in a hidden folder that replaces `actions/<video_id>` whole,
and the marker is written after it: a job killed at any point leaves either the old state or
the new one, and a re-run relabels exactly the videos without a valid marker.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nitrogen_hf.actions import GamepadActions
from nitrogen_hf.data.files import (
    remove_leftovers,
    replace_folder,
    temporary_sibling,
    write_json_atomic,
)
from nitrogen_hf.data.metadata import ChunkMetadata, OriginalVideo
from nitrogen_hf.data.nitrogen_writer import chunk_folder_name, write_chunk

ACTIONS_DIR = "actions"
DONE_DIR = "labeled"
FULL_FRAME = {"xtl": 0.0, "ytl": 0.0, "xbr": 1.0, "ybr": 1.0}  # walkthroughs: no crop
VIDEO_SOURCE = "local"


def chunk_metadata(
    video_id: str,
    index: int,
    start: int,
    stop: int,
    fps: float,
    video_frames: tuple[int, int],
    resolution: tuple[int, int],
    game: str | None,
    extras: dict,
) -> ChunkMetadata:
    """Metadata of labeled frames [start, stop) at `fps`, timed in the source video.

    `video_frames` is the (first, last) source-video frame of the chunk (they differ from
    start/stop when labeling a 60 fps video at 30 fps).
    """
    video = OriginalVideo(
        video_id=video_id,
        start_time=start / fps,
        end_time=stop / fps,
        source=VIDEO_SOURCE,
        resolution=resolution,
        duration=(stop - start) / fps,
        start_frame=int(video_frames[0]),
        end_frame=int(video_frames[1]),  # inclusive, as in the released files
        fps=fps,
    )
    return ChunkMetadata(
        uuid=f"{video_id}_chunk_{index:04d}_actions",
        chunk_id=f"{index:04d}",
        chunk_size=stop - start,
        original_video=video,
        game=game,
        bbox_game_area=dict(FULL_FRAME),
        extra=extras,
    )


def write_video_chunks(
    out: Path, video_id: str, chunks: list[tuple[ChunkMetadata, GamepadActions, object]]
) -> list[str]:
    """Replace `OUT/actions/<video_id>/` with these (metadata, actions, confidence) chunks at
    once; returns the chunk folders relative to OUT/actions. No chunks: the folder is removed."""
    root = Path(out) / ACTIONS_DIR
    root.mkdir(parents=True, exist_ok=True)
    remove_leftovers(root, video_id)  # a killed job's (the job lock keeps out live ones)
    target = root / video_id
    if not chunks:
        if target.exists():
            shutil.rmtree(target)
        return []
    staging = temporary_sibling(target)  # hidden: readers and build-dataset skip it
    try:
        for metadata, actions, confidence in chunks:
            write_chunk(staging, metadata, actions, confidence)
        replace_folder(staging / video_id, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [chunk_folder_name(video_id, int(m.chunk_id)) for m, _, _ in chunks]


def marker_path(out: Path, video_id: str) -> Path:
    return Path(out) / DONE_DIR / f"{video_id}.json"


def read_marker(out: Path, video_id: str) -> dict | None:
    """The video's done marker, or None (absent or unreadable: the video is labeled again)."""
    path = marker_path(out, video_id)
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def write_marker(out: Path, marker: dict) -> None:
    """Write the done marker atomically (after removing temporary files of a killed write)."""
    path = marker_path(out, marker["video_id"])
    remove_leftovers(path.parent, path.name)
    write_json_atomic(path, marker)


def is_done(out: Path, marker: dict | None, settings_key: str, video: Path) -> bool:
    """True when `marker` says `video` was labeled with these settings and its chunks exist."""
    if marker is None or marker.get("settings_key") != settings_key:
        return False
    if marker.get("size_bytes") != video.stat().st_size:
        return False  # a different file under the same name
    root = Path(out) / ACTIONS_DIR
    return all((root / name).is_dir() for name in marker.get("chunks", []))
