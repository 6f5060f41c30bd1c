"""Latent actions vs the IDM, and world model controllability, on real Atari gameplay (JSON out).

Records sticky-policy walkthroughs (no overlay; the true actions are kept aside) of the
training games, separate held-out episodes of the same games, and games kept out of
everything; then (`nitrogen_hf.demo.lam_section`) trains the LAM on the training video
alone, an IDM and the latent-action probes on the same small labeled budget, and world models
conditioned on latent codes, IDM pseudo-labels and true labels; scores the probes against
the IDM per game on held-out episodes and unseen games, and measures delta-PSNR.

    python scripts/bench_lam.py --out bench/lam.json --threads 1   # ~12 min on 2 CPU cores
    python scripts/bench_lam.py --out /tmp/lam.json --quick         # a minute: smoke run

Work files (recordings, datasets, models) go to --work and are reused on a re-run.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from nitrogen_hf.data.build import BuildConfig, build_dataset
from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.demo.lam_section import LAMSectionConfig, lam_section
from nitrogen_hf.envs.recorder import RecordConfig, record
from nitrogen_hf.evaluation.lam_report import lam_markdown

logger = logging.getLogger("bench_lam")


@dataclass
class BenchConfig:
    out: Path
    work: Path = Path("bench_work/lam")
    train_games: list[str] = field(default_factory=lambda: ["Breakout", "Boxing", "Freeway"])
    unseen_games: list[str] = field(default_factory=lambda: ["Pong"])
    episodes: int = 3  # training episodes per game (seed 0)
    held_out_episodes: int = 1  # per training game, recorded with another seed
    unseen_episodes: int = 2
    seconds: float = 40.0  # per episode
    chunk_seconds: float = 4.0  # short chunks make a fine-grained labeled budget
    budget: float = 0.05  # fraction of training frames (per game) whose labels are used
    preset: str = "cpu"
    lam_steps: int = 1500
    idm_steps: int | None = None  # None: as many as the LAM (the same compute)
    world_model_steps: int = 400
    horizon: int = 8
    seed: int = 0

    @classmethod
    def quick(cls, out: Path, work: Path) -> BenchConfig:
        return cls(
            out=out,
            work=work,
            train_games=["Breakout", "Freeway"],
            unseen_games=["Pong"],
            episodes=2,
            unseen_episodes=1,
            seconds=6.0,
            chunk_seconds=2.0,
            budget=0.2,
            preset="debug",
            lam_steps=20,
            idm_steps=20,
            world_model_steps=20,
            horizon=4,
        )


def record_walkthroughs(games: list[str], episodes: int, seed: int, out: Path, config) -> Path:
    """Overlay-free recordings: what a LAM can learn from; labels go to out/ground_truth."""
    for game in games:
        record(
            RecordConfig(
                env_id=f"ALE/{game}-v5",
                episodes=episodes,
                policy="sticky",
                overlay=False,
                max_seconds=config.seconds,
                chunk_seconds=config.chunk_seconds,
                out=out,
                seed=seed,
                progress=False,
            )
        )
    return out


def build(recordings: Path, out: Path) -> dict:
    """The dataset's build summary (chunks, hours, games), building it when missing."""
    if not (out / "build_summary.json").is_file():
        build_dataset(
            BuildConfig(
                actions=[recordings / "ground_truth"],
                videos=recordings / "videos",
                out=out,
                progress=False,
            )
        )
    summary = json.loads((out / "build_summary.json").read_text())
    return {k: summary[k] for k in ("out", "chunks", "hours", "games")}


def run(config: BenchConfig) -> dict:
    started = time.time()
    work = config.work
    recordings = {
        "train": record_walkthroughs(
            config.train_games, config.episodes, config.seed, work / "rec_train", config
        ),
        "held_out": record_walkthroughs(
            config.train_games,
            config.held_out_episodes,
            config.seed + 1,
            work / "rec_held_out",
            config,
        ),
        "unseen": record_walkthroughs(
            config.unseen_games, config.unseen_episodes, config.seed, work / "rec_unseen", config
        ),
    }
    datasets = {name: build(folder, work / f"ds_{name}") for name, folder in recordings.items()}
    section = lam_section(
        LAMSectionConfig(
            work_dir=work / "section",
            train_data=datasets["train"]["out"],
            eval_sets={
                "held_out": (datasets["held_out"]["out"], "train"),
                "unseen": (datasets["unseen"]["out"], "train"),
            },
            budget=config.budget,
            preset=config.preset,
            lam_steps=config.lam_steps,
            idm_steps=config.idm_steps,
            world_model_steps=config.world_model_steps,
            horizon=config.horizon,
            max_steps=20 if config.preset == "debug" else None,
            seed=config.seed,
        )
    )
    results = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "datasets": datasets,
        "section": section,
        "torch_threads": torch.get_num_threads(),
        "seconds": time.time() - started,
    }
    write_json_atomic(config.out, results)
    print(lam_markdown(section))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("bench_work/lam"))
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (debug preset)")
    parser.add_argument("--budget", type=float, help="labeled fraction of the training frames")
    parser.add_argument("--lam-steps", type=int, help="optimizer steps of the LAM (and the IDM)")
    parser.add_argument("--episodes", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--threads", type=int, help="torch threads (1 on a busy shared CPU)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("accelerate").setLevel(logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    config = (
        BenchConfig.quick(args.out, args.work)
        if args.quick
        else BenchConfig(out=args.out, work=args.work)
    )
    overrides = {
        "budget": args.budget,
        "lam_steps": args.lam_steps,
        "episodes": args.episodes,
        "seconds": args.seconds,
    }
    run(replace(config, **{k: v for k, v in overrides.items() if v is not None}))


if __name__ == "__main__":
    main()
