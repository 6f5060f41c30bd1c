"""`nitrogen-hf eval-policy`: play real games with a policy, next to random play and the
scripted expert, and save a rollout video of the policy with its predicted gamepad drawn in."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nitrogen_hf.data.files import write_json_atomic


@dataclass
class PolicyEvalConfig:
    model: str  # policy folder (or LoRA adapter folder)
    env_id: str = "ALE/Pong-v5"
    episodes: int = 5
    seed: int = 0
    out: Path = Path("eval_policy")
    fps: int = 30
    max_seconds: float = 60.0  # per episode, for the policy and both references
    execute_steps: int = 4  # actions executed per predicted chunk before re-planning
    game: str | None = None  # game-id token, for game-conditioned policies
    references: bool = True  # also play random and (where scripted) the expert
    video: bool = True


def mean_with_ci(values: list[float]) -> dict:
    """Mean and a 95% normal-approximation confidence interval of episode returns."""
    array = np.asarray(values, np.float64)
    half = 1.96 * array.std(ddof=1) / math.sqrt(len(array)) if len(array) > 1 else 0.0
    return {
        "mean": float(array.mean()),
        "ci95": [float(array.mean() - half), float(array.mean() + half)],
        "returns": array.tolist(),
    }


def run_episode(
    env,
    act: Callable[[np.ndarray], object],
    seed: int,
    max_frames: int,
    on_frame: Callable[[np.ndarray, object], None] | None = None,
) -> float:
    """Play one episode with `act(observation) -> env action`; returns the summed reward."""
    observation, _ = env.reset(seed=seed)
    total = 0.0
    for _ in range(max_frames):
        action = act(observation)
        if on_frame is not None:
            on_frame(observation, action)
        observation, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        if terminated or truncated:
            break
    return total


def reference_returns(
    env_id: str, policy_name: str, config: PolicyEvalConfig
) -> list[float] | None:
    """Returns of the recorder's random or scripted-expert player (None: no expert for this game)."""
    from nitrogen_hf.envs.atari import game_name, make_env
    from nitrogen_hf.envs.policies import EXPERTS, make_policy

    game = game_name(env_id)
    if policy_name == "expert" and game not in EXPERTS:
        return None
    env = make_env(env_id, config.fps)
    player = make_policy(policy_name, game, env.unwrapped.get_action_meanings(), config.fps)
    returns = []
    for episode in range(config.episodes):
        rng = np.random.default_rng([config.seed, episode])
        player.reset()
        act = lambda obs, p=player, r=rng: int(p.act(obs, env.unwrapped.ale.getRAM(), r))  # noqa: E731
        returns.append(
            run_episode(env, act, _episode_seed(config.seed, episode), _max_frames(config))
        )
    env.close()
    return returns


def evaluate_policy(config: PolicyEvalConfig) -> dict:
    """Closed-loop returns of the policy (with CI) beside random and expert; writes results.json."""
    from nitrogen_hf.envs.atari import make_env
    from nitrogen_hf.envs.gamepad_env import GamepadActionWrapper, PolicyAgent
    from nitrogen_hf.models.policy.loading import load_policy

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    agent = PolicyAgent(
        load_policy(config.model), config.execute_steps, config.game, seed=config.seed
    )
    env = GamepadActionWrapper(make_env(config.env_id, config.fps))
    returns = []
    for episode in range(config.episodes):
        agent.reset()
        recorder = (
            _RolloutRecorder(out / "rollout.mp4", config.fps)
            if config.video and episode == 0
            else None
        )
        returns.append(
            run_episode(
                env,
                agent.act,
                _episode_seed(config.seed, episode),
                _max_frames(config),
                recorder.add if recorder else None,
            )
        )
        if recorder:
            recorder.close()
    env.close()
    result = {
        "env_id": config.env_id,
        "model": str(config.model),
        "episodes": config.episodes,
        "max_seconds": config.max_seconds,
        "execute_steps": config.execute_steps,
        "seed": config.seed,
    }
    policy = mean_with_ci(returns)
    result.update(mean_return=policy["mean"], return_ci95=policy["ci95"], returns=policy["returns"])
    if config.references:
        for name in ("random", "expert"):
            values = reference_returns(config.env_id, name, config)
            result[f"{name}_mean_return"] = None if values is None else mean_with_ci(values)["mean"]
            result[f"{name}_returns"] = values
        result["normalized_score"] = normalized_score(
            result["mean_return"], result["random_mean_return"], result["expert_mean_return"]
        )
    if config.video:
        result["rollout_video"] = str(out / "rollout.mp4")
    write_json_atomic(out / "results.json", result)
    return result


def normalized_score(value: float, random: float | None, expert: float | None) -> float | None:
    """(R - random) / (expert - random): 0 = random play, 1 = the scripted expert."""
    if random is None or expert is None or expert == random:
        return None
    return (value - random) / (expert - random)


def _episode_seed(seed: int, episode: int) -> int:
    return int(np.random.SeedSequence([seed, episode, 7]).generate_state(1)[0])


def _max_frames(config: PolicyEvalConfig) -> int:
    return round(config.max_seconds * config.fps)


class _RolloutRecorder:
    """Frames of one episode with the action being executed drawn in a gamepad overlay."""

    def __init__(self, path: Path, fps: int):
        self.path, self.fps, self._writer, self._overlay = path, fps, None, None

    def add(self, observation: np.ndarray, action: np.ndarray) -> None:
        from nitrogen_hf.data.video_writer import Mp4Writer
        from nitrogen_hf.envs.overlay import GamepadOverlay

        if self._writer is None:
            height, width = observation.shape[:2]
            self._writer = Mp4Writer(self.path, self.fps, width, height)
            self._overlay = GamepadOverlay(height, width)
        buttons = (np.asarray(action)[:21] > 0.5).astype(np.uint8)
        sticks = np.asarray(action)[21:] * 2 - 1
        self._writer.write(self._overlay.draw(observation, buttons, sticks))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
