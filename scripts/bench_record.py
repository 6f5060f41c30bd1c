"""Benchmark `nitrogen-hf record`: scores of random, sticky and expert play, and recording speed.

Every episode is recorded for real (overlay drawn, H.264 encoded, chunks written) under the
same `--max-seconds` cap, so the frames/s include encoding. Writes JSON:

    python scripts/bench_record.py --out bench_record.json
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

from nitrogen_hf.envs.atari import make_env
from nitrogen_hf.envs.policies import make_policy
from nitrogen_hf.envs.recorder import RecordConfig, episode_seeds, play_episode, record


def bench_policy(env_id: str, policy: str, episodes: int, max_seconds: float, out: Path) -> dict:
    """Record `episodes` episodes; returns, frames and the recording rate."""
    config = RecordConfig(
        env_id=env_id,
        episodes=episodes,
        policy=policy,
        max_seconds=max_seconds,
        out=out,
        progress=False,
    )
    started = time.perf_counter()
    summary = record(config)
    seconds = time.perf_counter() - started
    returns = [r["return"] for r in summary["recorded"]]
    frames = sum(r["frames"] for r in summary["recorded"])
    return {
        "returns": returns,
        "mean": float(np.mean(returns)),
        "std": float(np.std(returns)),
        "frames": frames,
        "wall_seconds": round(seconds, 2),
        "record_fps": round(frames / seconds, 1),
    }


def play_only_fps(env_id: str, frames: int) -> float:
    """Emulator + sticky policy alone (no overlay, no encoding): the ceiling of recording speed."""
    env = make_env(env_id, 30)
    policy = make_policy("sticky", "", env.unwrapped.get_action_meanings(), 30)
    env_seed, rng = episode_seeds(0, 0)
    done, started = 0, time.perf_counter()
    while done < frames:
        done += len(play_episode(env, policy, env_seed, rng, frames - done).actions)
    env.close()
    return round(done / (time.perf_counter() - started), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench_record.json"))
    parser.add_argument("--games", nargs="+", default=["ALE/Pong-v5", "ALE/Breakout-v5"])
    parser.add_argument("--policies", nargs="+", default=["random", "sticky", "expert"])
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=90.0)
    args = parser.parse_args()

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as work:
        for env_id in args.games:
            results[env_id] = {
                policy: bench_policy(env_id, policy, args.episodes, args.max_seconds, Path(work))
                for policy in args.policies
            }
            print(
                env_id, {p: f"{r['mean']:.1f} ± {r['std']:.1f}" for p, r in results[env_id].items()}
            )
    frames = sum(r["frames"] for game in results.values() for r in game.values())
    seconds = sum(r["wall_seconds"] for game in results.values() for r in game.values())
    report = {
        "settings": {
            "episodes": args.episodes,
            "max_seconds": args.max_seconds,
            "fps": 30,
            "overlay": True,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "returns": results,
        "throughput": {
            "record_fps": round(frames / seconds, 1),  # env + policy + overlay + H.264 + chunks
            "play_only_fps": {env_id: play_only_fps(env_id, 3000) for env_id in args.games},
            "frames": frames,
            "wall_seconds": round(seconds, 1),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["throughput"], indent=2))


if __name__ == "__main__":
    main()
