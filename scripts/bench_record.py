"""Benchmark `nitrogen-hf record`: returns of random, sticky and expert play, and speed.

Every episode is recorded for real (overlay drawn, H.264 encoded, identifiability probes at
each game's default rate, chunks written) under the same `--max-seconds` cap, so the
frames/s include all of it; `play_only_fps` is the game and a sticky player alone.
Returns get a mean and a 95% interval. Writes JSON:

    python scripts/bench_record.py --out scripts/results/bench_record.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from nitrogen_hf.envs.backend import backend_for
from nitrogen_hf.envs.recorder import RecordConfig, episode_seeds, play_episode, record
from nitrogen_hf.evaluation.closed_loop import mean_with_ci

GAMES = [
    "ALE/Pong-v5",
    "ALE/Breakout-v5",
    "ALE/Freeway-v5",
    "vizdoom/defend_the_center",
    "vizdoom/health_gathering",
    "vizdoom/deathmatch",
    "vizdoom/freedoom2_map01",
    "crafter/default",
]


def bench_policy(env_id: str, policy: str, episodes: int, max_seconds: float, out: Path) -> dict:
    """Record `episodes` episodes; returns (mean, 95% interval), frames and the recording rate."""
    config = RecordConfig(
        env_id=env_id, episodes=episodes, policy=policy, max_seconds=max_seconds, out=out,
        progress=False,
    )  # fmt: skip
    started = time.perf_counter()
    summary = record(config)
    seconds = time.perf_counter() - started
    returns = [r["return"] for r in summary["recorded"]]
    frames = sum(r["frames"] for r in summary["recorded"])
    stats = mean_with_ci(returns)
    return {
        "returns": returns,
        "mean": stats["mean"],
        "ci95": stats["ci95"],
        "std": float(np.std(returns)),
        "frames": frames,
        "fps": config.fps,
        "wall_seconds": round(seconds, 2),
        "record_fps": round(frames / seconds, 1),
    }


def play_only_fps(env_id: str, frames: int) -> float:
    """The game + sticky player alone (no overlay, encoding or probes): the speed ceiling."""
    backend = backend_for(env_id)
    env = backend.make(backend.default_fps)
    policy = backend.player("sticky", env, backend.default_fps)
    env_seed, rng = episode_seeds(0, 0)
    done, started = 0, time.perf_counter()
    while done < frames:
        done += len(play_episode(env, policy, env_seed, rng, frames - done).actions)
    env.close()
    return round(done / (time.perf_counter() - started), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench_record.json"))
    parser.add_argument("--games", nargs="+", default=GAMES)
    parser.add_argument("--policies", nargs="+", default=["random", "sticky", "expert"])
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=90.0)
    parser.add_argument("--play-frames", type=int, default=3000, help="frames for play_only_fps")
    args = parser.parse_args()

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as work:
        for env_id in args.games:
            results[env_id] = {
                policy: bench_policy(env_id, policy, args.episodes, args.max_seconds, Path(work))
                for policy in args.policies
                if policy != "expert" or backend_for(env_id).has_expert()
            }
            print(env_id, {p: f"{r['mean']:.1f} {r['ci95']}" for p, r in results[env_id].items()})
    frames = sum(r["frames"] for game in results.values() for r in game.values())
    seconds = sum(r["wall_seconds"] for game in results.values() for r in game.values())
    per_game = {
        env_id: round(
            sum(r["frames"] for r in game.values()) / sum(r["wall_seconds"] for r in game.values()),
            1,
        )
        for env_id, game in results.items()
    }
    report = {
        "settings": {
            "episodes": args.episodes,
            "max_seconds": args.max_seconds,
            "fps": {env_id: backend_for(env_id).default_fps for env_id in args.games},
            "probe_every_s": {env_id: backend_for(env_id).probe.every_s for env_id in args.games},
            "overlay": True,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "returns": results,
        "throughput": {
            "record_fps": round(frames / seconds, 1),  # game + player + probes + overlay + H.264
            "record_fps_per_game": per_game,
            "play_only_fps": {g: play_only_fps(g, args.play_frames) for g in args.games},
            "frames": frames,
            "wall_seconds": round(seconds, 1),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["throughput"], indent=2))


if __name__ == "__main__":
    main()
