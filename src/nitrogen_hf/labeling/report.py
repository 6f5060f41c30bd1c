"""OUT/label_report.json: hours in, kept and dropped per reason, per-video status, skips.

Built from the videos' done markers, so a resumed job reports the whole set, not only what
its last run did. Every frame of a labeled video is either kept or dropped for exactly one
reason (precedence in `filters.REASONS`), so kept + dropped = in.
"""

from __future__ import annotations

from nitrogen_hf.data.skips import SkipLog
from nitrogen_hf.labeling.config import LabelConfig
from nitrogen_hf.labeling.filters import REASONS
from nitrogen_hf.labeling.provenance import LabelRun

REPORT_FILE = "label_report.json"
SECONDS_PER_HOUR = 3600.0


def video_summary(entry: dict) -> dict:
    """One line of the report's per-video list."""
    out = {"video_id": entry["video_id"], "path": entry["path"], "status": entry["status"]}
    if entry["status"] == "failed":
        return {**out, "reason": entry["reason"], "message": entry["message"]}
    fps = entry["fps"]
    return {
        **out,
        "hours_in": entry["frames"] / fps / SECONDS_PER_HOUR,
        "hours_kept": entry["kept_frames"] / fps / SECONDS_PER_HOUR,
        "chunks": len(entry["chunks"]),
        "mean_confidence": entry["mean_confidence"],
    }


def hours_by_reason(entries: list[dict]) -> dict[str, float]:
    """Dropped hours per reason over labeled videos (each frame under one reason)."""
    hours = dict.fromkeys(REASONS, 0.0)
    for entry in entries:
        for reason, frames in entry["dropped"].items():
            hours[reason] += frames / entry["fps"] / SECONDS_PER_HOUR
    return hours


def build_report(
    config: LabelConfig, run: LabelRun, entries: list[dict], skips: SkipLog, wall_seconds: float
) -> dict:
    """The job's report; `entries` are done markers (status 'labeled'/'done') or failures."""
    labeled = [e for e in entries if e["status"] != "failed"]
    this_run = [e for e in entries if e["status"] == "labeled"]
    hours_in = sum(e["frames"] / e["fps"] for e in labeled) / SECONDS_PER_HOUR
    hours_kept = sum(e["kept_frames"] / e["fps"] for e in labeled) / SECONDS_PER_HOUR
    chunks_dropped = {"short_segment": 0, "inactive_chunk": 0}
    for entry in labeled:
        for rule, count in entry["chunks_dropped"].items():
            chunks_dropped[rule] += count
    frames_now = sum(e["frames"] for e in this_run)
    return {
        "out": str(config.out),
        "engine": config.engine,
        "model": run.model,
        "model_sha256": run.model_sha256,
        "labeler_version": run.labeler_version,
        "settings": run.settings(),
        "min_confidence_source": run.min_confidence_source,
        "hours_in": hours_in,
        "hours_kept": hours_kept,
        "kept_fraction": hours_kept / hours_in if hours_in else None,
        "hours_dropped": hours_by_reason(labeled),
        "drop_precedence": list(REASONS),
        "chunks_written": sum(len(e["chunks"]) for e in labeled),
        "chunks_dropped": chunks_dropped,
        "videos": {
            "total": len(entries),
            "labeled_now": len(this_run),
            "already_done": sum(e["status"] == "done" for e in entries),
            "failed": sum(e["status"] == "failed" for e in entries),
        },
        "per_video": [video_summary(e) for e in sorted(entries, key=lambda e: e["video_id"])],
        "skipped": skips.to_json(),
        "wall_seconds": round(wall_seconds, 3),
        "frames_per_second": round(frames_now / wall_seconds, 1) if frames_now else None,
    }


def merge_label_reports(reports: list[dict]) -> dict:
    """One label report from the reports of several `label_videos` runs into one folder."""
    merged = dict(reports[0])
    for key in ("hours_in", "hours_kept", "wall_seconds"):
        merged[key] = sum(r[key] for r in reports)
    merged["kept_fraction"] = (
        merged["hours_kept"] / merged["hours_in"] if merged["hours_in"] else None
    )
    merged["hours_dropped"] = {
        reason: sum(r["hours_dropped"].get(reason, 0.0) for r in reports)
        for reason in reports[0]["hours_dropped"]
    }
    timed = [r for r in reports if r["frames_per_second"]]
    frames = sum(r["frames_per_second"] * r["wall_seconds"] for r in timed)
    seconds = sum(r["wall_seconds"] for r in timed)
    merged["frames_per_second"] = round(frames / seconds, 1) if seconds else None
    return merged
