"""The latent-action section of a report: do latent actions beat an IDM at the same small
labeled budget, and can a world model learned from video alone be steered?

`lam_section` trains (or reuses, in `work_dir`) a LAM on the video of a dataset's train
split, an IDM and the probes on a labeled budget drawn from it, and world models conditioned
on latent, IDM pseudo- or true actions; it scores the probes against the IDM per game on
every evaluation set and measures each world model's delta-PSNR (evaluation/lam_report.py).
The benchmark calls it with its own evaluation sets, the demo (`--with-lam`) through
`run_lam_section`. Budgets are optimizer steps, so a section reproduces on any machine.

This is a pipeline over training and evaluation (like a benchmark), so it imports the
trainers inside its functions.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.evaluation.lam_report import (
    LAMEvalConfig,
    controllability_section,
    probe_section,
    write_labeled_subset,
)

logger = logging.getLogger("nitrogen_hf")

WORLD_MODEL_SOURCES = ("latent", "pseudo", "labels")


@dataclass
class LAMSectionConfig:
    """Data, step budgets and sizes of one LAM section (evaluation fields: LAMEvalConfig)."""

    work_dir: Path  # models and the labeled subset go here; finished models are reused
    train_data: str  # dataset whose train split's video trains the LAM and the world models
    eval_sets: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (data, split)
    budget: float = 0.05  # fraction of train frames, per game, whose labels probes and IDM see
    preset: str = "cpu"
    lam_steps: int | None = None  # optimizer steps; None: the preset's
    idm_steps: int | None = None  # None: as many as the LAM (the same compute: a fair baseline)
    world_model_steps: int | None = None  # None: the preset's
    world_models: tuple[str, ...] = ("latent", "pseudo", "labels")  # action sources to train
    idm_frames: int = 4  # IDM window: it sees the frames after each transition too
    horizon: int = 8  # autoregressive steps of the controllability rollouts
    clips_per_chunk: int = 2
    max_eval_chunks: int | None = None
    max_steps: int | None = None  # cap on every training run (tests)
    seed: int = 0
    backend: str = "auto"

    def __post_init__(self) -> None:
        self.work_dir = Path(self.work_dir)
        unknown = set(self.world_models) - set(WORLD_MODEL_SOURCES)
        if unknown:
            raise ValueError(f"world_models {sorted(unknown)}: choose from {WORLD_MODEL_SOURCES}")

    def evaluation(self) -> LAMEvalConfig:
        return LAMEvalConfig(
            self.work_dir,
            self.eval_sets,
            self.budget,
            self.horizon,
            self.clips_per_chunk,
            self.max_eval_chunks,
            self.seed,
            self.backend,
        )


# --- training (reused when finished) ------------------------------------------------------------
def _budget(config, steps: int | None, section: LAMSectionConfig):
    """A trainer config with the section's steps (capped by `max_steps`) and seed."""
    steps = steps or config.train.max_steps
    if section.max_steps is not None:
        steps = min(steps, section.max_steps)
    train = replace(config.train, max_steps=steps, seed=section.seed, checkpoint_every=10_000)
    return replace(config, train=train, backend=section.backend)


def _finished(out: Path) -> dict | None:
    summary = out / "training_summary.json"
    return json.loads(summary.read_text()) if summary.is_file() else None


def train_section_lam(config: LAMSectionConfig) -> tuple[Path, dict]:
    from nitrogen_hf.training.configs import LAM_PRESETS, preset
    from nitrogen_hf.training.train_lam import train_lam

    out = config.work_dir / "lam"
    if (summary := _finished(out)) is not None:
        return out, summary
    training = _budget(preset(LAM_PRESETS, config.preset), config.lam_steps, config)
    return out, train_lam(training, config.train_data, out)


def train_section_idm(
    config: LAMSectionConfig, labeled: str, frame_size, lam_steps: int
) -> tuple[Path, dict]:
    """The supervised baseline: an IDM on the labeled budget only, at the LAM's frame size."""
    from nitrogen_hf.training.configs import IDM_PRESETS, preset
    from nitrogen_hf.training.train_idm import train_idm

    out = config.work_dir / "idm"
    if (summary := _finished(out)) is not None:
        return out, summary
    training = preset(IDM_PRESETS, config.preset)
    model = {**training.model, "num_frames": config.idm_frames, "frame_size": tuple(frame_size)}
    training = replace(training, model=model, calibration_split=None)
    training = _budget(training, config.idm_steps or lam_steps, config)
    return out, train_idm(training, labeled, out)


def train_section_world_model(
    config: LAMSectionConfig, source: str, lam_dir: Path, idm_dir: Path
) -> tuple[Path, dict]:
    """`latent`: LAM codes; `pseudo`: the budget IDM's labels; `labels`: all true labels."""
    from nitrogen_hf.training.configs import WORLD_MODEL_PRESETS, preset
    from nitrogen_hf.training.train_lam import train_world_model

    out = config.work_dir / f"world_model_{source}"
    if (summary := _finished(out)) is not None:
        return out, summary
    training = _budget(preset(WORLD_MODEL_PRESETS, config.preset), config.world_model_steps, config)
    lam = str(lam_dir) if source == "latent" else None
    idm = str(idm_dir) if source == "pseudo" else None
    return out, train_world_model(training, config.train_data, out, lam=lam, idm=idm)


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
    evaluation = config.evaluation()
    labeled = write_labeled_subset(
        config.train_data, config.work_dir / "ds_labeled", config.budget, config.seed
    )
    lam_dir, lam_summary = train_section_lam(config)
    lam = LatentActionModel.from_pretrained(lam_dir)
    idm_dir, idm_summary = train_section_idm(
        config, labeled["path"], lam.config.frame_size, lam_summary["steps"]
    )
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
        "probes": probe_section(evaluation, lam, idm, labeled["path"]),
        "controllability": controllability_section(evaluation, lam, world_models),
    }
    section["seconds"] = time.time() - started
    write_json_atomic(config.work_dir / "lam_section.json", section)
    return section


def _training_brief(summary: dict) -> dict:
    keys = ("steps", "seconds", "parameters", "final_loss", "perplexity", "copy_baseline")
    return {k: summary[k] for k in keys if k in summary}
