"""IDM benchmark on real Atari gameplay (JSON out).

Records sticky-policy play with a controller overlay (labeled, NitroGen-style) for a set of
training games and, separately, for games kept out of training; trains the T=2 seed model
and the wider non-causal window (T=8) under the same CPU budget; scores both (and the majority /
always-no-op baseline) on held-out episodes of the training games and on the unseen games;
measures labeling speed of the model alone and which buttons the games make identifiable.

    python scripts/bench_idm.py --out scripts/results/bench_idm.json   # ~30 min (--minutes 12) on 2 CPU cores
    python scripts/bench_idm.py --out /tmp/idm.json --quick      # a minute: smoke run

Work files (recordings, datasets, models) go to --work and are reused on a re-run.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from nitrogen_hf.data.build import BuildConfig, build_dataset
from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.envs.recorder import RecordConfig, record
from nitrogen_hf.evaluation.identifiability import (
    IdentifiabilityConfig,
    button_identifiability,
    identifiable_buttons,
)
from nitrogen_hf.evaluation.idm_report import IDMEvalConfig, evaluate_idm
from nitrogen_hf.training.configs import IDM_PRESETS, preset
from nitrogen_hf.training.train_idm import train_idm

logger = logging.getLogger("bench_idm")


@dataclass
class BenchConfig:
    out: Path
    work: Path = Path("bench_work/idm")
    train_games: list[str] = field(
        default_factory=lambda: ["Boxing", "Breakout", "Freeway", "SpaceInvaders"]
    )
    unseen_games: list[str] = field(default_factory=lambda: ["Asterix", "Frostbite"])
    episodes: int = 8  # per training game; `holdout` of them (by video) are held out
    unseen_episodes: int = 3
    seconds: float = 60.0  # per episode
    holdout: float = 0.25
    minutes: float = 15.0  # training budget of each model
    default_frames: int = 8  # the wider non-causal window
    preset: str = "cpu"
    seed: int = 0

    @classmethod
    def quick(cls, out: Path, work: Path) -> BenchConfig:
        return cls(
            out=out,
            work=work,
            train_games=["Boxing", "Freeway"],
            unseen_games=["Asterix"],
            episodes=3,
            unseen_episodes=1,
            seconds=8.0,
            holdout=0.34,
            minutes=0.3,
            default_frames=4,
            preset="debug",
        )


def record_games(games: list[str], episodes: int, out: Path, config: BenchConfig) -> Path:
    for game in games:
        record(
            RecordConfig(
                env_id=f"ALE/{game}-v5",
                episodes=episodes,
                policy="sticky",
                overlay=True,
                max_seconds=config.seconds,
                out=out,
                seed=config.seed,
                progress=False,
            )
        )
    return out


def build(recordings: Path, out: Path, holdout: float) -> Path:
    if not (out / "build_summary.json").is_file():
        build_dataset(
            BuildConfig(
                actions=[recordings / "actions"],
                videos=recordings / "videos",
                out=out,
                validation_fraction=holdout,
                progress=False,
            )
        )
    return out


def train(name: str, num_frames: int, dataset: Path, config: BenchConfig) -> tuple[Path, dict]:
    out = config.work / "models" / name
    training = preset(IDM_PRESETS, config.preset)
    training = replace(
        training,
        model={**training.model, "num_frames": num_frames},
        train=replace(
            training.train,
            max_minutes=config.minutes,
            max_steps=None if config.preset != "debug" else 20,
            seed=config.seed,
            checkpoint_every=500,
        ),
    )
    summary_file = out / "training_summary.json"
    if summary_file.is_file():
        return out, json.loads(summary_file.read_text())
    return out, train_idm(training, str(dataset), out)


def model_only_fps(model_dir: Path, frames: int = 600) -> float:
    """Frames/s of `predict_sequence` on already-prepared frames (no decoding)."""
    from nitrogen_hf.models.idm import NitroGenIDM

    model = NitroGenIDM.from_pretrained(model_dir).eval()
    clip = torch.randint(0, 256, (frames, 3, *model.config.frame_size), dtype=torch.uint8)
    model.predict_sequence(clip[:64])  # warm up
    started = time.perf_counter()
    model.predict_sequence(clip)
    return frames / (time.perf_counter() - started)


def identifiable_macro_f1(per_game: dict, shares: dict[str, dict[str, float]]) -> dict:
    """Mean F1 over (game, button) pairs the game makes identifiable (and that have support)."""
    pairs = {}
    for game, result in per_game.items():
        if game == "overall" or game not in shares:
            continue
        for button in identifiable_buttons(shares[game]):
            score = result["buttons"].get(button)
            if score and score["support"] > 0:
                pairs[f"{game}/{button}"] = score["f1"]
    return {"macro_f1": float(np.mean(list(pairs.values()))) if pairs else None, "pairs": pairs}


def evaluate(
    model: Path, baseline: Path, dataset: Path, split: str, out: Path, shares: dict
) -> dict:
    metrics = evaluate_idm(
        IDMEvalConfig(
            model=str(model),
            data=str(dataset),
            out=out,
            split=split,
            train_split="train",
            baseline_model=str(baseline),
        )
    )
    summary = {}
    for name, result in metrics["models"].items():
        summary[name] = {
            "macro_f1": result["overall"]["macro_f1"],
            "exact_match": result["overall"]["exact_match"],
            "identifiable": identifiable_macro_f1(result, shares),
            "per_game": {
                g: {"macro_f1": r["macro_f1"], "exact_match": r["exact_match"]}
                for g, r in result.items()
                if g != "overall"
            },
            "per_button": {b: round(s["f1"], 4) for b, s in result["overall"]["buttons"].items()},
        }
    summary["ece"] = metrics["ece"]
    summary["frames"] = metrics["frames"]
    return summary


def game_key(game: str) -> str:
    from nitrogen_hf.envs.atari import game_name

    return game_name(f"ALE/{game}-v5")


def run(config: BenchConfig) -> dict:
    started = time.time()
    work = config.work
    train_rec = record_games(config.train_games, config.episodes, work / "rec_train", config)
    unseen_rec = record_games(
        config.unseen_games, config.unseen_episodes, work / "rec_unseen", config
    )
    train_ds = build(train_rec, work / "ds_train", config.holdout)
    unseen_ds = build(unseen_rec, work / "ds_unseen", 0.0)
    shares = {
        game_key(g): button_identifiability(f"ALE/{g}-v5", IdentifiabilityConfig(seed=config.seed))
        for g in config.train_games + config.unseen_games
    }
    t2_dir, t2_summary = train("idm_t2", 2, train_ds, config)
    default_dir, default_summary = train(
        f"idm_t{config.default_frames}", config.default_frames, train_ds, config
    )
    names = {"idm": f"T={config.default_frames}", "baseline": "T=2", "majority": "majority (no-op)"}
    results = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "models": {
            "default": {
                "num_frames": config.default_frames,
                "training": default_summary,
                "model_only_fps": model_only_fps(default_dir),
            },
            "t2": {
                "num_frames": 2,
                "training": t2_summary,
                "model_only_fps": model_only_fps(t2_dir),
            },
        },
        "identifiability": shares,
        "held_out_episodes": evaluate(
            default_dir, t2_dir, train_ds, "validation", work / "eval_held_out", shares
        ),
        "unseen_games": evaluate(
            default_dir, t2_dir, unseen_ds, "train", work / "eval_unseen", shares
        ),
        "model_names": names,
        "torch_threads": torch.get_num_threads(),
    }
    results["seconds"] = time.time() - started
    write_json_atomic(config.out, results)
    print(markdown_table(results))
    return results


def markdown_table(results: dict) -> str:
    names = results["model_names"]
    lines = [
        "| model | held-out macro-F1 | held-out identifiable F1 | held-out exact | unseen macro-F1 | unseen identifiable F1 | unseen exact |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in ("idm", "baseline", "majority"):
        h, u = results["held_out_episodes"][key], results["unseen_games"][key]
        lines.append(
            f"| {names[key]} | {_f(h['macro_f1'])} | {_f(h['identifiable']['macro_f1'])} | {_f(h['exact_match'])} "
            f"| {_f(u['macro_f1'])} | {_f(u['identifiable']['macro_f1'])} | {_f(u['exact_match'])} |"
        )
    return "\n".join(lines)


def _f(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("bench_work/idm"))
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (debug preset)")
    parser.add_argument("--minutes", type=float, help="training budget per model")
    parser.add_argument("--episodes", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--default-frames", type=int)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("accelerate").setLevel(logging.WARNING)
    config = (
        BenchConfig.quick(args.out, args.work)
        if args.quick
        else BenchConfig(out=args.out, work=args.work)
    )
    overrides = {
        k: v
        for k, v in {
            "minutes": args.minutes,
            "episodes": args.episodes,
            "seconds": args.seconds,
            "default_frames": args.default_frames,
        }.items()
        if v is not None
    }
    run(replace(config, **overrides))


if __name__ == "__main__":
    main()
