"""`nitrogen-hf label`: pseudo-label gameplay videos with an IDM, filter, write NitroGen chunks.

The job: find the videos, skip the finished ones, label the rest one after another here
(`engine="local"`) or spread over a Ray cluster (`engine="ray"`, ray_engine.py); both run
`worker.process_video` per video, so they write the same labels. A finished video is skipped on a re-run; an
unreadable one is reported and skipped. The job ends with OUT/label_report.json (report.py).
"""

from __future__ import annotations

import glob
import logging
import time
from collections.abc import Iterable
from pathlib import Path

from nitrogen_hf.data.files import file_lock, write_json_atomic
from nitrogen_hf.data.skips import SkipLog
from nitrogen_hf.data.video import VIDEO_EXTENSIONS
from nitrogen_hf.labeling.config import LabelConfig
from nitrogen_hf.labeling.output import is_done, read_marker
from nitrogen_hf.labeling.provenance import LabelRun, resolve_run
from nitrogen_hf.labeling.report import REPORT_FILE, build_report
from nitrogen_hf.labeling.worker import process_video
from nitrogen_hf.models.idm.loading import load_idm

logger = logging.getLogger("nitrogen_hf")


# --- inputs --------------------------------------------------------------------------------
def find_videos(sources: Iterable[str | Path], skips: SkipLog) -> list[Path]:
    """Video files of folders (recursive), files and glob patterns; one per video id (stem).

    Sources are read in order, each one's files sorted. Hidden files (a writer's temporary
    output) are ignored; a later file with an id already seen is reported as
    `duplicate_video_id`, since chunks are named by id.
    """
    videos: dict[str, Path] = {}
    for source in sources:
        matches = sorted(_expand(str(source)))
        if not matches:
            skips.add("no_video_found", source, f"no {'/'.join(VIDEO_EXTENSIONS)} file here")
        for path in matches:
            if path.stem not in videos:
                videos[path.stem] = path
            elif videos[path.stem] != path:
                skips.add("duplicate_video_id", path, f"same video id as {videos[path.stem]}")
    return list(videos.values())


def _expand(source: str) -> list[Path]:
    path = Path(source)
    if path.is_dir():
        candidates = [p for p in path.rglob("*") if not _hidden(p.relative_to(path))]
    elif path.is_file():
        candidates = [path]
    else:
        candidates = [Path(p) for p in glob.glob(source, recursive=True)]
    return [
        p
        for p in candidates
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS and not _hidden(Path(p.name))
    ]


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


# --- the job -------------------------------------------------------------------------------
def label_locally(videos: list[Path], run: LabelRun, config: LabelConfig) -> list[dict]:
    """Label `videos` one after another in this process."""
    from tqdm.auto import tqdm

    if not videos:
        return []
    model = load_idm(config.model, config.device)
    return [
        process_video(path, model, run, config)
        for path in tqdm(videos, desc="label", unit="video", disable=not config.progress)
    ]


LOCK_FILE = ".label.lock"


def label_videos(config: LabelConfig) -> dict:
    """Run the job: skip finished videos, label the rest, write and return the report. One job
    per OUT at a time (a lock file says so at once, instead of two jobs undoing each other)."""
    with file_lock(config.out / LOCK_FILE, blocking=False, job="another `label` job"):
        return _label_videos(config)


def _label_videos(config: LabelConfig) -> dict:
    started = time.perf_counter()
    run = resolve_run(config)
    skips = SkipLog()
    videos = find_videos(config.videos, skips)
    if not videos:
        raise FileNotFoundError(f"no video files found in {list(map(str, config.videos))}")
    entries, todo = [], []
    for path in videos:
        marker = read_marker(config.out, path.stem)
        if is_done(config.out, marker, run.key(), path):
            entries.append({**marker, "status": "done"})
        else:
            todo.append(path)
    logger.info("%d videos: %d already labeled, %d to do", len(videos), len(entries), len(todo))
    if config.engine == "ray":
        from nitrogen_hf.labeling.ray_engine import label_with_ray

        results = label_with_ray(todo, run, config)
    else:
        results = label_locally(todo, run, config)
    for result in results:
        if result["status"] == "failed":
            skips.add(result["reason"], result["path"], result["message"])
    report = build_report(config, run, entries + results, skips, time.perf_counter() - started)
    write_json_atomic(config.out / REPORT_FILE, report)
    return report
