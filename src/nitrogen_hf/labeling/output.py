"""Where a labeling job writes, and the done markers that make it resumable.

    OUT/actions/<video_id>/<video_id>_chunk_NNNN/   metadata.json + actions_processed.parquet
                                                    (with the per-frame `confidence` column)
    OUT/labeled/<video_id>.json                     done marker: settings key, chunk list,
                                                    frames dropped per reason (as spans)

All chunks of a video replace `actions/<video_id>` whole (`nitrogen_writer.write_video_chunks`),
and the marker is written after them: a job killed at any point leaves either the old state or
the new one, and a re-run relabels exactly the videos without a valid marker.
"""

from __future__ import annotations

import json
from pathlib import Path

from nitrogen_hf.data.files import remove_leftovers, write_json_atomic

ACTIONS_DIR = "actions"
DONE_DIR = "labeled"
VIDEO_SOURCE = "local"  # `original_video.source` of labeled walkthroughs


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
