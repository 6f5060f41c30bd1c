"""Dataset cards (README.md) of `build-dataset` and `label` outputs, rendered with
`huggingface_hub.DatasetCard` from build_summary.json / label_report.json and the rows.

A built dataset's card carries the `configs:` YAML header that tells `datasets.load_dataset`
which parquet files form which split, so the folder, and its copy on the Hub, still load.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

from nitrogen_hf.evaluation.formatting import fmt
from nitrogen_hf.hub.card_common import (
    README,
    is_hub_id,
    may_write_card,
    read_json,
    render,
)

logger = logging.getLogger("nitrogen_hf")

BUILD_SUMMARY = "build_summary.json"  # data/hub_dataset.py SUMMARY_FILE
LABEL_REPORT = "label_report.json"  # labeling/report.py REPORT_FILE
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"))
SIZE_CATEGORIES += ((1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"))
SHOWN_GAMES = 30  # the games table lists the most common ones


def data_configs(folder: Path) -> list[dict]:
    """The `configs:` entry for the splits that have parquet files in data/."""
    from nitrogen_hf.data.hub_dataset import DATA_DIR, SPLITS

    files = [
        {"split": split, "path": f"{DATA_DIR}/{split}-*.parquet"}
        for split in SPLITS
        if any((Path(folder) / DATA_DIR).glob(f"{split}-*.parquet"))
    ]
    return [{"config_name": "default", "data_files": files}] if files else []


def size_category(count: int) -> str:
    for limit, name in SIZE_CATEGORIES:
        if count < limit:
            return name
    return "n>10M"


def scan_rows(folder: Path) -> tuple[list[dict], list[dict]]:
    """(label sources, pseudo-label models) tables from the label columns of every shard."""
    import pyarrow.parquet as pq

    from nitrogen_hf.data.hub_dataset import DATA_DIR

    sources: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    models: dict[tuple, int] = defaultdict(int)
    for path in sorted((Path(folder) / DATA_DIR).glob("*.parquet")):
        columns = ["label_source", "num_frames", "fps", "provenance"]
        for row in pq.read_table(path, columns=columns).to_pylist():
            entry = sources[row["label_source"] or "unknown"]
            entry[0] += 1
            entry[1] += row["num_frames"] / row["fps"] / 3600 if row["fps"] else 0.0
            if row["label_source"] == "pseudo":
                models[_pseudo_key(json.loads(row["provenance"] or "{}"))] += 1
    source_rows = [
        {"name": name, "chunks": fmt(chunks), "hours": fmt(hours, 3)}
        for name, (chunks, hours) in sorted(sources.items())
    ]
    model_rows = [
        {"model": f"`{m}`", "sha": sha[:12], "labeler": labeler, "threshold": threshold}
        for (m, sha, labeler, threshold), _ in sorted(models.items(), key=lambda kv: -kv[1])
    ]
    return source_rows, model_rows


def _pseudo_key(extras: dict) -> tuple[str, str, str, str]:
    thresholds = extras.get("label_thresholds", {})
    threshold = (
        f"{fmt(thresholds.get('min_confidence'))} ({thresholds.get('min_confidence_source', '?')})"
    )
    return (
        str(extras.get("idm_model", "?")),
        str(extras.get("idm_sha256", "?")),
        str(extras.get("labeler_version", "?")),
        threshold,
    )


def built_fields(folder: Path, summary: dict) -> dict:
    """Template fields of a build-dataset folder."""
    splits = [
        {
            "name": name,
            "chunks": fmt(s["chunks"]),
            "hours": fmt(float(s["hours"]), 3),
            "videos": fmt(s["videos"]),
        }
        for name, s in summary.get("splits", {}).items()
    ]
    games = summary.get("games", {})
    chunks, hours = summary.get("chunks", 0), summary.get("hours", 0.0)
    label_sources, pseudo_models = scan_rows(folder)
    skipped = summary.get("skipped", {}).get("by_kind", {})
    provenance = [
        f"Built with `nitrogen-hf build-dataset` from: {', '.join(f'`{a}`' for a in summary.get('actions', []))}.",
        f"{fmt(chunks)} chunks, {fmt(float(hours), 2)} hours; validation fraction "
        f"{summary.get('validation_fraction', 0)} of videos.",
        "Skipped while building: "
        + (", ".join(f"{k} {v}" for k, v in skipped.items()) if skipped else "nothing")
        + " (build_summary.json lists each one).",
    ]
    return {
        "built": True,
        "chunk_seconds": _chunk_seconds(hours, chunks),
        "splits": splits,
        "label_sources": label_sources,
        "pseudo_models": pseudo_models,
        "games": [{"name": g, "chunks": fmt(n)} for g, n in list(games.items())[:SHOWN_GAMES]],
        "games_text": f"{len(games)} game(s)"
        + (f"; the {SHOWN_GAMES} with most chunks:" if len(games) > SHOWN_GAMES else ":"),
        "provenance": provenance,
    }


def _chunk_seconds(hours: float, chunks: int) -> str:
    return f"{3600 * hours / chunks:.0f}" if chunks else "20"


def labeled_fields(report: dict) -> dict:
    """Template fields of a `label` output folder."""
    dropped = report.get("hours_dropped", {})
    kept, total = report.get("hours_kept", 0.0), report.get("hours_in", 0.0)
    hours = [{"name": "in", "hours": fmt(total, 3)}, {"name": "kept", "hours": fmt(kept, 3)}]
    hours += [{"name": f"dropped: {reason}", "hours": fmt(h, 3)} for reason, h in dropped.items()]
    settings = report.get("settings", {})
    filters = settings.get("filters", {})
    rows = [
        ("IDM", f"`{report.get('model')}`"),
        ("IDM weights sha256", f"`{report.get('model_sha256')}`"),
    ]
    rows += [
        ("labeler", report.get("labeler_version")),
        ("min confidence source", report.get("min_confidence_source")),
    ]
    rows += [(name.replace("_", " "), fmt(value)) for name, value in filters.items()]
    rows += [
        ("action rate (fps)", fmt(settings.get("fps")) if settings.get("fps") else "the video's")
    ]
    rows += [
        ("chunk seconds", fmt(settings.get("chunk_seconds"))),
        ("game", fmt(settings.get("game"))),
    ]
    videos = report.get("videos", {})
    skipped = report.get("skipped", {}).get("by_kind", {})
    provenance = [
        f"Labeled with `nitrogen-hf label --engine {report.get('engine')}` by {report.get('labeler_version')}.",
        f"{fmt(videos.get('total'))} videos, {fmt(videos.get('failed'))} failed; "
        + (
            "skipped: " + ", ".join(f"{k} {v}" for k, v in skipped.items())
            if skipped
            else "nothing skipped"
        )
        + " (label_report.json lists each one).",
        "Every chunk's metadata.json repeats the IDM, its checksum, the labeler version and the thresholds.",
    ]
    fraction = report.get("kept_fraction")
    return {
        "labeled": True,
        "label_hours": hours,
        "label_hours_text": (
            f"{fmt(kept, 3)} of {fmt(total, 3)} hours kept"
            + (f" ({100 * fraction:.0f}%)" if fraction is not None else "")
            + f", in {fmt(report.get('chunks_written'))} chunks."
        ),
        "drop_precedence": ", ".join(report.get("drop_precedence", [])),
        "label_settings": rows,
        "provenance": provenance,
    }


def dataset_card(folder: str | Path, dataset_id: str | None = None):
    """The DatasetCard of a build-dataset or label output folder."""
    from huggingface_hub import DatasetCardData

    folder = Path(folder)
    dataset_id = dataset_id or str(folder)
    summary, report = read_json(folder / BUILD_SUMMARY), read_json(folder / LABEL_REPORT)
    configs = data_configs(folder)
    if summary is None and not configs and report is None:
        raise ValueError(
            f"{folder}: neither a build-dataset output ({BUILD_SUMMARY}, data/*.parquet) nor a "
            f"label output ({LABEL_REPORT})"
        )
    fields = {"built": False, "labeled": False, "provenance": []}
    if configs:
        fields |= built_fields(folder, summary or {})
    if report is not None:
        provenance = fields["provenance"]
        fields |= labeled_fields(report)
        fields["provenance"] = provenance + fields["provenance"]
    chunks = (summary or {}).get("chunks") or (report or {}).get("chunks_written") or 0
    sources = (summary or {}).get("actions", [])
    card_data = DatasetCardData(
        pretty_name=f"NitroGen actions: {dataset_id.rstrip('/').split('/')[-1]}",
        size_categories=size_category(chunks),
        task_categories=["robotics"],
        tags=["nitrogen-hf", "nitrogen", "gamepad", "video-games", "inverse-dynamics"],
        source_datasets=[s for s in map(str, sources) if is_hub_id(s)] or None,
        configs=configs or None,
    )
    title = "NitroGen chunks" if configs else "NitroGen pseudo-labels"
    return render("dataset.md", card_data, {"title": title, "dataset_id": dataset_id, **fields})


def write_dataset_card(folder: str | Path, dataset_id: str | None = None) -> Path | None:
    """Write README.md into a dataset folder (None: a hand-written README.md is kept)."""
    folder = Path(folder)
    if not may_write_card(folder):
        logger.info("%s: README.md was written by hand (no generated marker); kept", folder)
        return None
    dataset_card(folder, dataset_id).save(folder / README)
    return folder / README
