"""Latent actions, scored: probes that map LAM codes to gamepad buttons on a small labeled
budget, next to an IDM trained on the same budget, and world models' controllability
(delta-PSNR). `evaluate_lam` is `nitrogen-hf eval-lam`; `lam_markdown` writes the tables the
demo and the benchmark put in their reports."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.evaluation.formatting import fmt


@dataclass
class LAMEvalConfig:
    """What the probes and rollouts are scored on, and how."""

    work_dir: Path  # the labeled subset, rollout videos and reports go here
    eval_sets: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (data, split)
    budget: float = 0.05  # fraction of train frames, per game, whose labels probes and IDM see
    horizon: int = 8  # autoregressive steps of the controllability rollouts
    clips_per_chunk: int = 2
    max_eval_chunks: int | None = None
    seed: int = 0
    backend: str = "auto"

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir)


# --- the labeled budget -----------------------------------------------------------------------
def select_labeled_chunks(rows: list[dict], fraction: float, seed: int = 0) -> list[str]:
    """uuids of random chunks, per game, until each game has `fraction` of its frames labeled
    (at least one chunk per game, so every game's buttons can be learned)."""
    rng = np.random.default_rng(seed)
    by_game: dict[str, list[dict]] = {}
    for row in rows:
        by_game.setdefault(row["game"] or "unknown", []).append(row)
    chosen = []
    for game in sorted(by_game):
        game_rows = by_game[game]
        wanted, have = fraction * sum(r["num_frames"] for r in game_rows), 0
        for k in rng.permutation(len(game_rows)):
            if have >= wanted and have > 0:
                break
            chosen.append(game_rows[k]["uuid"])
            have += game_rows[k]["num_frames"]
    return chosen


def write_labeled_subset(data: str, out: Path, fraction: float, seed: int = 0) -> dict:
    """A dataset folder (train split only) of the labeled chunks of `data`'s train split.

    Rows are streamed (a non-streaming load is cached by `datasets` under a key that two
    folders can share, and would then return the other folder's rows)."""
    import datasets

    from nitrogen_hf.data.build import write_readme
    from nitrogen_hf.data.hub_dataset import CHUNK_FEATURES, DATA_DIR, load_chunk_dataset

    summary_file = Path(out) / "labeled_subset.json"
    if summary_file.is_file():
        return json.loads(summary_file.read_text())
    meta = list(load_chunk_dataset(data, "train").select_columns(["uuid", "game", "num_frames"]))
    keep = set(select_labeled_chunks(meta, fraction, seed))
    rows = [row for row in load_chunk_dataset(data, "train") if row["uuid"] in keep]
    (Path(out) / DATA_DIR).mkdir(parents=True, exist_ok=True)
    subset = datasets.Dataset.from_list(rows, features=CHUNK_FEATURES)
    subset.to_parquet(str(Path(out) / DATA_DIR / "train-00000-of-00001.parquet"))
    write_readme(Path(out), ["train"])
    frames = sum(r["num_frames"] for r in meta)
    labeled = sum(r["num_frames"] for r in rows)
    summary = {
        "path": str(out),
        "chunks": len(rows),
        "frames": labeled,
        "train_frames": frames,
        "fraction": labeled / max(1, frames),
    }
    write_json_atomic(summary_file, summary)
    return summary


def evaluate_lam(
    lam_dir: str | Path,
    data: str,
    out: str | Path,
    split: str = "validation",
    budget: float = 0.05,
    idm_dir: str | Path | None = None,
    world_model_dir: str | Path | None = None,
    **options,
) -> dict:
    """`nitrogen-hf eval-lam`: probes fitted on `budget` of `data`'s train labels, scored on
    `split` (next to the IDM at `idm_dir` when given); the world model's delta-PSNR and a
    rollout video when `world_model_dir` is given. Writes `out/metrics.json`."""
    from nitrogen_hf.models.idm import NitroGenIDM
    from nitrogen_hf.models.lam import LatentActionModel

    config = LAMEvalConfig(Path(out), {split: (data, split)}, budget=budget, **options)
    labeled = write_labeled_subset(data, config.work_dir / "ds_labeled", budget, config.seed)
    lam = LatentActionModel.from_pretrained(lam_dir)
    idm = NitroGenIDM.from_pretrained(idm_dir) if idm_dir else None
    metrics = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "labeled": labeled,
        "probes": probe_section(config, lam, idm, labeled["path"]),
        "controllability": {},
    }
    if world_model_dir:
        metrics["controllability"] = controllability_section(
            config, lam, {"world_model": Path(world_model_dir)}
        )
    write_json_atomic(config.work_dir / "metrics.json", metrics)
    return metrics


def probe_section(config: LAMEvalConfig, lam, idm, labeled_data: str) -> dict:
    """Per evaluation set: macro-F1 per method and game, and the codes' use and information."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.evaluation.lam_eval import code_statistics, encode_chunks, probe_scores

    k = lam.config.codebook_size
    labeled = encode_chunks(lam, load_chunk_dataset(labeled_data, "train"), backend=config.backend)
    result = {"labeled_transitions": len(labeled)}
    for name, (data, split) in config.eval_sets.items():
        rows = load_chunk_dataset(data, split)
        table = encode_chunks(lam, rows, idm, config.backend, config.max_eval_chunks)
        result[name] = {
            "transitions": len(table),
            "scores": probe_scores(labeled, table, k),
            "codes": code_statistics(table, k),
        }
    return result


def controllability_section(config: LAMEvalConfig, lam, world_models: dict) -> dict:
    """Per world model and evaluation set: delta-PSNR; a rollout video of the first set."""
    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.evaluation.world_model_eval import (
        collect_clips,
        controllability,
        rollout_video,
    )
    from nitrogen_hf.models.lam import WorldModel

    result = {}
    for source, model_dir in world_models.items():
        model = WorldModel.from_pretrained(model_dir)
        result[source] = {}
        for index, (name, (data, split)) in enumerate(config.eval_sets.items()):
            clips = collect_clips(
                load_chunk_dataset(data, split),
                tuple(model.config.frame_size),
                model.config.context_frames,
                config.horizon,
                config.clips_per_chunk,
                config.max_eval_chunks,
                config.backend,
            )
            result[source][name] = controllability(model, clips, lam, config.seed)
            if index == 0:
                video = config.work_dir / f"rollout_{source}.mp4"
                result[source]["video"] = str(rollout_video(model, clips, video, lam))
    return result


# --- markdown -----------------------------------------------------------------------------------
METHOD_NAMES = {
    "lam_code_table": "LAM code table",
    "lam_logistic": "LAM logistic probe",
    "lam_code_table_per_game": "LAM code table, per game",
    "lam_logistic_per_game": "LAM logistic probe, per game",
    "idm": "IDM",
    "majority": "majority (no-op)",
    "always_pressed": "always pressed (constant)",
}


def lam_markdown(section: dict) -> str:
    """Probe table (macro-F1 per method, per evaluation set and game) and controllability."""
    labeled = section["labeled"]
    lines = [
        "## Latent actions vs IDM",
        "",
        f"Labeled budget: {labeled['frames']} of {labeled['train_frames']} train frames "
        f"({100 * labeled['fraction']:.1f}%); the LAM saw the video of all of them.",
        "",
    ]
    for name, result in section["probes"].items():
        if not isinstance(result, dict):
            continue
        scores = result["scores"]
        groups = [g for g in scores["majority"] if g != "per_button"]
        lines += [
            f"**{name}** ({result['transitions']} transitions; code perplexity "
            f"{result['codes']['usage']['perplexity']:.2f}, NMI(code; buttons) "
            f"{result['codes']['nmi']['overall']:.3f}), macro-F1:",
            "",
            "| method | " + " | ".join(groups) + " |",
            "|---|" + "---|" * len(groups),
        ]
        for method, per_group in scores.items():
            cells = [fmt(per_group[g]["macro_f1"]) for g in groups]
            lines.append(f"| {METHOD_NAMES.get(method, method)} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## World model controllability (delta-PSNR, dB)",
        "",
        "| actions | eval set | PSNR inferred | PSNR random | PSNR copy | delta-PSNR | at last step |",
        "|---|---|---|---|---|---|---|",
    ]
    for source, sets in section["controllability"].items():
        for name, result in sets.items():
            if name == "video":
                continue
            o = result["overall"]
            lines.append(
                f"| {source} | {name} | {o['psnr_inferred']:.2f} | {o['psnr_random']:.2f} "
                f"| {o['psnr_copy']:.2f} | {o['delta_psnr']:+.3f} | {o['delta_psnr_last_step']:+.3f} |"
            )
    return "\n".join(lines) + "\n"
