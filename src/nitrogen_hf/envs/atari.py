"""Gymnasium ALE environments for recording: naming, frame rate, deterministic actions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nitrogen_hf.envs.backend import Step
from nitrogen_hf.envs.probes import ProbeConfig

# The Atari 2600 renders 60 frames per second (NTSC); recordings sample every k-th frame.
ALE_FRAME_RATE = 60
CONTROLLER_TYPE = "atari_joystick"
_ENV_ID = re.compile(r"^ALE/(?P<rom>[A-Za-z0-9]+)-v5$")


def frameskip_for(fps: int) -> int:
    """ALE frames per recorded frame; `fps` must divide 60 so each step is a whole frame count."""
    if not isinstance(fps, int) or fps <= 0 or ALE_FRAME_RATE % fps:
        divisors = [d for d in range(1, ALE_FRAME_RATE + 1) if ALE_FRAME_RATE % d == 0]
        raise ValueError(f"fps={fps!r} must divide {ALE_FRAME_RATE}; use one of {divisors}")
    return ALE_FRAME_RATE // fps


def rom_name(env_id: str) -> str:
    """'ALE/MsPacman-v5' -> 'MsPacman'; only v5 ids, whose defaults the recorder relies on."""
    match = _ENV_ID.match(env_id)
    if match is None:
        raise ValueError(f"env id {env_id!r}: expected a Gymnasium ALE id like 'ALE/Pong-v5'")
    return match["rom"]


def game_name(env_id: str) -> str:
    """Snake-case game name for metadata and video ids: 'ALE/MsPacman-v5' -> 'ms_pacman'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", rom_name(env_id)).lower()


def make_env(env_id: str, fps: int) -> Any:
    """An ALE env stepping `60 // fps` frames per action, with the minimal action set.

    ALE v5 repeats the previous action with probability 0.25 ("sticky actions"); that is
    turned off here so the action written to the parquet is the one the emulator executed.
    """
    import ale_py
    import gymnasium as gym

    rom_name(env_id)
    gym.register_envs(ale_py)
    try:
        return gym.make(env_id, frameskip=frameskip_for(fps), repeat_action_probability=0.0)
    except gym.error.Error as error:
        raise ValueError(f"env id {env_id!r}: Gymnasium cannot make it ({error})") from error


class AtariGame:
    """An ALE env as a `GameEnv`: actions are indices into the game's minimal action set."""

    def __init__(self, env_id: str, fps: int):
        from nitrogen_hf.actions import AtariActionMap

        self.env = make_env(env_id, fps)
        self.controls = AtariActionMap(self.env.unwrapped.get_action_meanings())
        self.frame_shape = tuple(self.env.observation_space.shape[:2])

    def reset(self, seed: int) -> np.ndarray:
        return self.env.reset(seed=seed)[0]

    def step(self, action: int) -> Step:
        observation, reward, terminated, truncated, _ = self.env.step(action)
        return Step(observation, float(reward), bool(terminated), bool(truncated))

    def info(self) -> np.ndarray:
        return self.env.unwrapped.ale.getRAM()

    def snapshot(self) -> Any:
        return self.env.unwrapped.ale.cloneState()

    def rollout(self, snapshot: Any, actions: Sequence[int]) -> list[np.ndarray]:
        """Steps the unwrapped env (no wrapper counts these steps), then restores the live state."""
        ale, env = self.env.unwrapped.ale, self.env.unwrapped
        live = ale.cloneState()
        ale.restoreState(snapshot)
        frames = []
        for action in actions:
            observation, _, terminated, _, _ = env.step(action)
            frames.append(observation)
            if terminated:
                break
        ale.restoreState(live)
        return frames

    def close(self) -> None:
        self.env.close()


@dataclass(frozen=True)
class AtariBackend:
    """Gymnasium ALE games; scripted experts exist for the games in `experts.EXPERTS`."""

    env_id: str
    source: str = "ale"
    controller_type: str = CONTROLLER_TYPE
    default_fps: int = 30
    probe: ProbeConfig = ProbeConfig(every_s=1.0, horizon=8)  # 8 steps: effects lag a little

    def __post_init__(self) -> None:
        rom_name(self.env_id)

    @property
    def game(self) -> str:
        return game_name(self.env_id)

    def check_fps(self, fps: int) -> None:
        frameskip_for(fps)

    def check_player(self, name: str) -> None:
        from nitrogen_hf.envs.policies import POLICIES, check_expert

        if name not in POLICIES:
            raise ValueError(f"policy {name!r}: expected one of {POLICIES}")
        if name == "expert":
            check_expert(self.game)

    def has_expert(self) -> bool:
        from nitrogen_hf.envs.experts import EXPERTS

        return self.game in EXPERTS

    def make(self, fps: int) -> AtariGame:
        return AtariGame(self.env_id, fps)

    def player(self, name: str, env: AtariGame, fps: int) -> Any:
        from nitrogen_hf.envs.policies import make_policy

        return make_policy(name, self.game, env.controls.meanings, fps)

    def url(self, env_seed: int, fps: int) -> str:
        return f"ale://{rom_name(self.env_id)}-v5?seed={env_seed}&frameskip={frameskip_for(fps)}"

    def action_space(self, env: AtariGame) -> dict[str, str]:
        from nitrogen_hf.actions import ATARI_BUTTONS, BUTTON_INDEX

        names = {"dpad_up": "UP", "dpad_down": "DOWN", "dpad_left": "LEFT", "dpad_right": "RIGHT"}
        usable = env.controls.expressible
        return {b: names.get(b, "FIRE") for b in ATARI_BUTTONS if usable[BUTTON_INDEX[b]]}
