"""The latent-action section of a report: do latent actions beat an IDM at the same small
labeled budget, and can a world model learned from video alone be steered?

`lam_section` trains (or reuses, in `work_dir`) a LAM on the video of a dataset's train
split, an IDM and the probes on a labeled budget drawn from it, and world models conditioned
on latent, IDM pseudo- or true actions; it scores the probes against the IDM per game on
every evaluation set and measures each world model's delta-PSNR. The benchmark calls it
with its own evaluation sets, the demo (`--with-lam`) through `run_lam_section`;
`lam_markdown` formats the result and `evaluate_lam` is `nitrogen-hf eval-lam`.

This is a pipeline over training and evaluation (like a benchmark), so it imports the
trainers inside its functions.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from nitrogen_hf.data.files import write_json_atomic

logger = logging.getLogger("nitrogen_hf")

WORLD_MODEL_SOURCES = ("latent", "pseudo", "labels")


@dataclass
class LAMSectionConfig:
    """Data, budgets and sizes of one LAM section."""

    work_dir: Path  # models and the labeled subset go here; finished models are reused
    train_data: str  # dataset whose train split's video trains the LAM and the world models
    eval_sets: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (data, split)
    budget: float = 0.05  # fraction of train frames, per game, whose labels probes and IDM see
    preset: str = "cpu"
    lam_minutes: float = 3.0
    idm_minutes: float = 3.0  # the same compute as the LAM: a fair baseline
    world_model_minutes: float = 1.5
    world_models: tuple[str, ...] = ("latent", "pseudo", "labels")  # action sources to train
    idm_frames: int = 4  # IDM window: it sees the frames after each transition too
    horizon: int = 8  # autoregressive steps of the controllability rollouts
    clips_per_chunk: int = 2
    max_eval_chunks: int | None = None
    max_steps: int | None = None  # cap on every training run (tests); None: minutes decide
    seed: int = 0
    backend: str = "auto"

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir)
        unknown = set(self.world_models) - set(WORLD_MODEL_SOURCES)
        if unknown:
            raise ValueError(f"world_models {sorted(unknown)}: choose from {WORLD_MODEL_SOURCES}")


# --- the labeled budget ------------------------------------------------------------------------
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


# --- training (reused when finished) ------------------------------------------------------------
def _budget(train_config, minutes: float, config: LAMSectionConfig):
    return replace(
        train_config,
        max_minutes=minutes,
        max_steps=config.max_steps or 1_000_000,
        seed=config.seed,
        checkpoint_every=10_000,
    )


def _finished(out: Path) -> dict | None:
    summary = out / "training_summary.json"
    return json.loads(summary.read_text()) if summary.is_file() else None


def train_section_lam(config: LAMSectionConfig) -> tuple[Path, dict]:
    from nitrogen_hf.training.train_lam import lam_preset, train_lam

    out = config.work_dir / "lam"
    if (summary := _finished(out)) is not None:
        return out, summary
    training = lam_preset(config.preset, config.train_data, out, backend=config.backend)
    training.train = _budget(training.train, config.lam_minutes, config)
    return out, train_lam(training)


def train_section_idm(config: LAMSectionConfig, labeled: str, frame_size) -> tuple[Path, dict]:
    """The supervised baseline: an IDM on the labeled budget only, at the LAM's frame size."""
    from nitrogen_hf.training.train_idm import idm_preset, train_idm

    out = config.work_dir / "idm"
    if (summary := _finished(out)) is not None:
        return out, summary
    training = idm_preset(
        config.preset, labeled, out, calibration_split=None, backend=config.backend
    )
    training.model = replace(
        training.model, num_frames=config.idm_frames, frame_size=tuple(frame_size)
    )
    training.train = _budget(training.train, config.idm_minutes, config)
    return out, train_idm(training)


def train_section_world_model(
    config: LAMSectionConfig, source: str, lam_dir: Path, idm_dir: Path
) -> tuple[Path, dict]:
    """`latent`: LAM codes; `pseudo`: the budget IDM's labels; `labels`: all true labels."""
    from nitrogen_hf.training.train_lam import train_world_model, world_model_preset

    out = config.work_dir / f"world_model_{source}"
    if (summary := _finished(out)) is not None:
        return out, summary
    training = world_model_preset(
        config.preset,
        config.train_data,
        out,
        action_type="latent" if source == "latent" else "gamepad",
        lam=str(lam_dir) if source == "latent" else None,
        idm=str(idm_dir) if source == "pseudo" else None,
        backend=config.backend,
    )
    training.train = _budget(training.train, config.world_model_minutes, config)
    return out, train_world_model(training)


# --- the section --------------------------------------------------------------------------------
def run_lam_section(
    work_dir: str | Path,
    train_data: str | Path,
    unseen_data: str | Path | None = None,
    budget: float = 0.05,
    **options,
) -> dict:
    """The section for a built dataset (its validation split, when it has one, scored as held-out
    episodes) and a dataset of unseen games; `options` are LAMSectionConfig fields.
    `work_dir` should be a folder of its own (e.g. demo_out/lam)."""
    eval_sets = {}
    if "validation" in _splits(train_data):
        eval_sets["held_out"] = (str(train_data), "validation")
    if unseen_data is not None:
        eval_sets["unseen"] = (str(unseen_data), "train")
    config = LAMSectionConfig(
        Path(work_dir), str(train_data), eval_sets=eval_sets, budget=budget, **options
    )
    return lam_section(config)


def _splits(data: str | Path) -> set[str]:
    """Splits of a built folder; a Hub id is assumed to have both."""
    from nitrogen_hf.data.hub_dataset import SPLITS, data_files

    return set(data_files(data)) if Path(data).is_dir() else set(SPLITS)


def lam_section(config: LAMSectionConfig) -> dict:
    """Train what is missing, evaluate everything; returns the section (also written to
    `work_dir/lam_section.json`)."""
    from nitrogen_hf.models.idm import NitroGenIDM
    from nitrogen_hf.models.lam import LatentActionModel

    if not config.eval_sets:
        raise ValueError("no evaluation set: give a held-out split or a dataset of unseen games")
    started = time.time()
    labeled = write_labeled_subset(
        config.train_data, config.work_dir / "ds_labeled", config.budget, config.seed
    )
    lam_dir, lam_summary = train_section_lam(config)
    lam = LatentActionModel.from_pretrained(lam_dir)
    idm_dir, idm_summary = train_section_idm(config, labeled["path"], lam.config.frame_size)
    idm = NitroGenIDM.from_pretrained(idm_dir)
    training = {"lam": lam_summary, "idm": idm_summary}
    world_models = {}
    for source in config.world_models:
        world_models[source], training[f"world_model_{source}"] = train_section_world_model(
            config, source, lam_dir, idm_dir
        )
    section = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "labeled": labeled,
        "training": {name: _training_brief(s) for name, s in training.items()},
        "probes": probe_section(config, lam, idm, labeled["path"]),
        "controllability": controllability_section(config, lam, world_models),
    }
    section["seconds"] = time.time() - started
    write_json_atomic(config.work_dir / "lam_section.json", section)
    return section


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

    config = LAMSectionConfig(
        Path(out), data, eval_sets={split: (data, split)}, budget=budget, **options
    )
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


def probe_section(config: LAMSectionConfig, lam, idm, labeled_data: str) -> dict:
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


def controllability_section(config: LAMSectionConfig, lam, world_models: dict) -> dict:
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


def _training_brief(summary: dict) -> dict:
    keys = ("steps", "seconds", "parameters", "final_loss", "perplexity", "copy_baseline")
    return {k: summary[k] for k in keys if k in summary}


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
            cells = [_fmt(per_group[g]["macro_f1"]) for g in groups]
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


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
