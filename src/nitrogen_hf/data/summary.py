"""`nitrogen-hf inspect`: what a set of NitroGen shards holds, and what is wrong with it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from nitrogen_hf.actions import ACTION_NAMES
from nitrogen_hf.data.nitrogen_reader import iter_chunks
from nitrogen_hf.data.skips import SkipLog
from nitrogen_hf.data.video_locator import VideoJoiner, VideoLocator

# NitroGen kept chunks where at least half of the frames carry some input.
MIN_ACTIVE_FRACTION = 0.5
MAX_LISTED = 20


def summarize(
    path: str | Path,
    videos_dir: str | Path | None = None,
    video_map: str | Path | None = None,
) -> dict:
    """Counts, durations, games, fps, action density, video join and errors of `path`."""
    skips = SkipLog(quiet=True)
    joiner = VideoJoiner(VideoLocator(videos_dir, video_map)) if (videos_dir or video_map) else None
    games, fps_values, sources, files = Counter(), Counter(), Counter(), Counter()
    observed = np.zeros(len(ACTION_NAMES), np.int64)
    active_fractions, seconds, video_ids, usable = [], 0.0, set(), 0
    seen: set[str] = set()
    for chunk in iter_chunks(path, skips):
        meta = chunk.metadata
        if meta.uuid in seen:  # counted once, as build-dataset keeps it once
            skips.add("duplicate_chunk", chunk.location, f"uuid {meta.uuid} seen before")
            continue
        seen.add(meta.uuid)
        games[meta.game or "unknown"] += 1
        fps_values[_fps_key(meta.fps)] += 1
        sources[str(meta.extra.get("label_source", "overlay"))] += 1
        files[chunk.actions_file] += 1
        observed += chunk.actions.observed
        active_fractions.append(float(chunk.actions.active_frames().mean()))
        seconds += chunk.num_frames / meta.fps
        video_ids.add(chunk.video_id)
        if joiner is not None and joiner.join(chunk, skips) is not None:
            usable += 1
    num_chunks = len(active_fractions)
    summary = {
        "path": str(path),
        "chunks": num_chunks,
        "videos": len(video_ids),
        "hours": round(seconds / 3600, 4),
        "games": dict(games.most_common()),
        "fps": dict(fps_values.most_common()),
        "label_sources": dict(sources),
        "actions_files": dict(files),
        "observed_dims": {n: int(c) for n, c in zip(ACTION_NAMES, observed, strict=True) if c},
        "action_density": {
            "mean_active_fraction": round(float(np.mean(active_fractions)), 4)
            if num_chunks
            else None,
            "chunks_at_least_half_active": sum(f >= MIN_ACTIVE_FRACTION for f in active_fractions),
        },
        "errors": skips.counts(),
        "error_items": [str(s) for s in skips.skips[:MAX_LISTED]],
    }
    if joiner is not None:
        summary["video_join"] = _join_summary(video_ids, joiner, usable, skips)
    return summary


def _fps_key(fps: float) -> str:
    return str(int(fps)) if float(fps).is_integer() else f"{fps:.3f}"


def _join_summary(video_ids: set[str], joiner: VideoJoiner, usable: int, skips: SkipLog) -> dict:
    probes = {vid: joiner.probe(vid) for vid in sorted(video_ids)}
    missing = [
        vid for vid, p in probes.items() if isinstance(p, str) and p.startswith("missing_video")
    ]
    unreadable = [
        vid for vid, p in probes.items() if isinstance(p, str) and not p.startswith("missing_video")
    ]
    missing_chunks = sum(1 for s in skips.skips if s.kind == "missing_video")
    return {
        "videos_found": len(probes) - len(missing),
        "videos_missing": len(missing),
        "videos_unreadable": len(unreadable),
        "chunks_usable": usable,
        "chunks_without_video": missing_chunks,
        "missing_video_ids": missing[:MAX_LISTED],
        "unreadable_video_ids": unreadable[:MAX_LISTED],
    }


def format_summary(summary: dict) -> str:
    """Human-readable text of `summarize`'s result."""
    lines = [
        f"{summary['path']}: {summary['chunks']} chunks, {summary['videos']} videos, "
        f"{summary['hours']:.2f} h",
        f"  games: {_pairs(summary['games'])}",
        f"  fps: {_pairs(summary['fps'])}",
        f"  label sources: {_pairs(summary['label_sources'])}; files: {_pairs(summary['actions_files'])}",
        f"  observed dims: {', '.join(summary['observed_dims']) or 'none'}",
    ]
    density = summary["action_density"]
    if density["mean_active_fraction"] is not None:
        lines.append(
            f"  action density: {density['mean_active_fraction']:.1%} of frames active; "
            f"{density['chunks_at_least_half_active']}/{summary['chunks']} chunks >= 50% active"
        )
    join = summary.get("video_join")
    if join:
        lines.append(
            f"  videos: {join['videos_found']} found, {join['videos_missing']} missing, "
            f"{join['videos_unreadable']} unreadable; {join['chunks_usable']} chunks usable, "
            f"{join['chunks_without_video']} without video"
        )
        if join["missing_video_ids"]:
            lines.append(f"  missing: {', '.join(join['missing_video_ids'])}")
    lines.append(f"  errors: {_pairs(summary['errors']) or 'none'}")
    lines += [f"    {item}" for item in summary["error_items"]]
    return "\n".join(lines)


def _pairs(counts: dict) -> str:
    return ", ".join(f"{k} ({v})" for k, v in counts.items())
