"""Atomic file writes: outputs appear whole or not at all, so killed jobs resume cleanly."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def temporary_sibling(path: Path, tag: str = "tmp") -> Path:
    """A hidden name next to `path`, unique per call, on the same filesystem for os.replace."""
    return path.with_name(f".{path.name}.{tag}-{uuid.uuid4().hex[:8]}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()


def replace_folder(staging: Path, target: Path) -> None:
    """Move a finished `staging` folder to `target`, replacing any older copy."""
    if target.exists():
        trash = temporary_sibling(target, "old")
        os.replace(target, trash)
        os.replace(staging, target)
        shutil.rmtree(trash)
    else:
        os.replace(staging, target)


def write_json_atomic(path: str | Path, data: object) -> None:
    """Write JSON (numpy values and paths allowed) via a temporary file and rename."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default))


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class FolderBusy(RuntimeError):
    """Another job holds the lock of a folder this job would write into."""


@contextmanager
def file_lock(path: str | Path, blocking: bool = True, job: str = "another job") -> Iterator[None]:
    """Exclusive lock on the file `path` (created if needed) for the block. Blocking waits for
    the holder (short read-merge-write sections); non-blocking fails at once naming the holder
    (long jobs: two of them in one folder would undo each other's work) and removes the file
    when done, leaving the folder as the job found it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError as error:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise FolderBusy(
                f"{path.parent}: {job} is writing here (process {holder}); wait for it to end "
                "or use another output folder"
            ) from error
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            if not blocking:
                path.unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_leftovers(folder: Path, name: str) -> list[Path]:
    """Delete hidden staging copies of `folder/name` that a killed job left behind."""
    import glob

    prefix = glob.escape(str(Path(folder) / f".{name}"))
    leftovers = [Path(p) for p in glob.glob(prefix + ".tmp-*") + glob.glob(prefix + ".old-*")]
    for leftover in leftovers:
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return leftovers
