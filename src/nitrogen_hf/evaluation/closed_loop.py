"""`nitrogen-hf eval-policy`: play real games with a policy, next to random play and the
scripted expert, and save a rollout video of the policy with its executed gamepad drawn in.

Any recordable game works (`envs.backend`): the policy's 25-d gamepad vector is mapped to
the game's own action by its action map (the nearest discrete action for Atari and
Crafter; dead zone and engine rounding for ViZDoom's sticks), and the video and the
results show what was executed."""

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
    env_id: str = "ALE/Pong-v5"  # ALE/<Game>-v5, vizdoom/<scenario> or crafter/<variant>
    episodes: int = 5
    seed: int = 0
    out: Path = Path("eval_policy")
    fps: int | None = None  # None = the game's own rate (Atari 30, ViZDoom 35, Crafter 10)
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
    """Play one episode of a `GameEnv` with `act(observation) -> game action`; returns the
    summed reward. `on_frame(observation, action)` sees each frame and its action."""
    observation = env.reset(seed)
    total = 0.0
    for _ in range(max_frames):
        action = act(observation)
        if on_frame is not None:
            on_frame(observation, action)
        step = env.step(action)
        observation, total = step.observation, total + step.reward
        if step.terminated or step.truncated:
            break
    return total


def reference_returns(
    env_id: str, policy_name: str, config: PolicyEvalConfig
) -> list[float] | None:
    """Returns of the recorder's random or scripted-expert player (None: no expert for this game)."""
    from nitrogen_hf.envs.backend import backend_for

    backend = backend_for(env_id)
    if policy_name == "expert" and not backend.has_expert():
        return None
    fps = _fps(config)
    env = backend.make(fps)
    player = backend.player(policy_name, env, fps)
    returns = []
    for episode in range(config.episodes):
        rng = np.random.default_rng([config.seed, episode])
        player.reset()
        act = lambda obs, p=player, r=rng: p.act(obs, env.info(), r)  # noqa: E731
        returns.append(
            run_episode(env, act, _episode_seed(config.seed, episode), _max_frames(config))
        )
    env.close()
    return returns


def evaluate_policy(config: PolicyEvalConfig) -> dict:
    """Closed-loop returns of the policy (with CI) beside random and expert; writes results.json."""
    from nitrogen_hf.envs.backend import backend_for
    from nitrogen_hf.envs.gamepad_env import PolicyAgent, vector_to_action
    from nitrogen_hf.models.policy.loading import load_policy

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    backend = backend_for(config.env_id)
    fps = _fps(config)
    agent = PolicyAgent(
        load_policy(config.model), config.execute_steps, config.game, seed=config.seed
    )
    env = backend.make(fps)
    act = lambda observation: vector_to_action(env.controls, agent.act(observation))  # noqa: E731
    returns = []
    for episode in range(config.episodes):
        agent.reset()
        recorder = (
            _RolloutRecorder(out / "rollout.mp4", fps, env.controls)
            if config.video and episode == 0
            else None
        )
        returns.append(
            run_episode(
                env,
                act,
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
        "fps": fps,
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


def _fps(config: PolicyEvalConfig) -> int:
    """The configured rate, or the game's own; checked against what the game allows."""
    from nitrogen_hf.envs.backend import backend_for

    backend = backend_for(config.env_id)
    fps = backend.default_fps if config.fps is None else config.fps
    backend.check_fps(fps)
    return fps


def _max_frames(config: PolicyEvalConfig) -> int:
    return round(config.max_seconds * _fps(config))


class _RolloutRecorder:
    """Frames of one episode with the executed gamepad (buttons and sticks) in an overlay."""

    def __init__(self, path: Path, fps: int, controls):
        self.path, self.fps, self.controls = path, fps, controls
        self._writer, self._overlay = None, None

    def add(self, observation: np.ndarray, action) -> None:
        from nitrogen_hf.data.video_writer import Mp4Writer
        from nitrogen_hf.envs.overlay import GamepadOverlay

        if self._writer is None:
            height, width = observation.shape[:2]
            self._writer = Mp4Writer(self.path, self.fps, width, height)
            self._overlay = GamepadOverlay(height, width)
        self._writer.write(self._overlay.draw(observation, *self.controls.to_pad(action)))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
