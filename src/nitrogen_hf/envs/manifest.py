"""`recording.json`: one entry per recorded video, shared by every `record` run into a folder.

Entries are merged under a file lock, so several runs (e.g. one per game) can write into one
output folder, and the file is replaced atomically. An entry is written only after its video
and chunks are complete, which makes it the resume marker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nitrogen_hf.data.files import file_lock, write_json_atomic
from nitrogen_hf.data.nitrogen_reader import METADATA_FILE, PROCESSED_FILE

MANIFEST_FILE = "recording.json"
# Settings that change what an episode contains: a re-run must match them to reuse it.
EPISODE_SETTINGS = ("env_id", "policy", "seed", "episode", "overlay", "fps", "max_seconds")


def load_manifest(out: Path) -> dict[str, dict[str, Any]]:
    """video_id -> entry; empty when the folder has no recording yet."""
    path = out / MANIFEST_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error}); fix or delete it") from error
    videos = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(videos, dict):
        raise ValueError(f"{path}: expected an object with a 'videos' mapping")
    return videos


def add_entry(out: Path, entry: dict[str, Any]) -> None:
    """Merge one video's entry into recording.json (re-read under the lock, then replaced)."""
    with _locked(out):
        videos = load_manifest(out)
        videos[entry["video_id"]] = entry
        write_json_atomic(out / MANIFEST_FILE, {"videos": dict(sorted(videos.items()))})


def is_complete(out: Path, entry: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """True when `entry` matches the wanted settings and its video and chunks are on disk.

    An entry recorded with other settings under the same video id is an error rather than
    something to overwrite silently.
    """
    if entry is None:
        return False
    changed = {k: (entry.get(k), wanted[k]) for k in EPISODE_SETTINGS if entry.get(k) != wanted[k]}
    if changed:
        details = ", ".join(
            f"{k}: recorded {old!r}, asked {new!r}" for k, (old, new) in changed.items()
        )
        raise ValueError(
            f"{out / MANIFEST_FILE}: {entry['video_id']} was recorded with other settings "
            f"({details}); use another --out folder or delete that entry and its files"
        )
    chunks_done = all(
        (out / chunk / METADATA_FILE).is_file() and (out / chunk / PROCESSED_FILE).is_file()
        for chunk in entry.get("chunks", [])
    )
    return bool(entry.get("chunks")) and chunks_done and (out / entry["video"]).is_file()


def _locked(out: Path):
    """Exclusive lock on `<out>/.recording.json.lock` for a read-merge-write."""
    return file_lock(out / f".{MANIFEST_FILE}.lock")
