"""Behaviour cloning check (JSON out): a policy trained on the scripted expert's recordings of
one game, played in closed loop next to random play and the expert itself.

    python scripts/bench_imitation.py --game Breakout --out scripts/results/bench_imitation_breakout.json

Records expert play (no overlay; its true actions are the labels), builds a dataset, trains the
tiny 64 px policy for `--minutes`, then runs `eval-policy`. Work files go to --work.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import replace
from pathlib import Path

from nitrogen_hf.data.build import BuildConfig, build_dataset
from nitrogen_hf.data.files import write_json_atomic
from nitrogen_hf.demo.config import POLICY_64PX
from nitrogen_hf.envs.recorder import RecordConfig, record
from nitrogen_hf.evaluation.closed_loop import PolicyEvalConfig, evaluate_policy
from nitrogen_hf.training.configs import POLICY_PRESETS
from nitrogen_hf.training.train_policy import train_policy


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--game", default="Breakout")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("bench_work/imitation"))
    parser.add_argument("--episodes", type=int, default=10, help="expert episodes recorded")
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="per recorded and evaluated episode"
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="policy training budget")
    parser.add_argument("--eval-episodes", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("accelerate").setLevel(logging.WARNING)

    env_id, work = f"ALE/{args.game}-v5", args.work / args.game.lower()
    recording = record(
        RecordConfig(
            env_id=env_id,
            episodes=args.episodes,
            policy="expert",
            overlay=False,
            max_seconds=args.seconds,
            out=work / "rec",
            seed=11,
            progress=False,
        )
    )
    if not (work / "ds" / "build_summary.json").is_file():
        build_dataset(
            BuildConfig(
                actions=[work / "rec" / "ground_truth"],
                videos=work / "rec" / "videos",
                out=work / "ds",
                progress=False,
            )
        )
    config = POLICY_PRESETS["cpu"]
    config = replace(
        config,
        policy_overrides={**config.policy_overrides, **POLICY_64PX},
        train=replace(config.train, max_steps=None, max_minutes=args.minutes),
    )
    done = (work / "policy" / "training_summary.json").is_file()
    training = None if done else train_policy(config, [f"expert={work / 'ds'}"], work / "policy")
    result = evaluate_policy(
        PolicyEvalConfig(
            model=str(work / "policy"),
            env_id=env_id,
            episodes=args.eval_episodes,
            seed=5,
            out=work / "eval",
            max_seconds=args.seconds,
        )
    )
    write_json_atomic(
        args.out,
        {
            "game": args.game,
            "recorded_episodes": args.episodes,
            "recording": recording,
            "training": training,
            "closed_loop": result,
        },
    )
    print(
        f"{args.game}: policy {result['mean_return']:.1f} {result['return_ci95']}, random "
        f"{result['random_mean_return']:.1f}, expert {result['expert_mean_return']:.1f}, "
        f"normalized {result['normalized_score']}"
    )


if __name__ == "__main__":
    main()
