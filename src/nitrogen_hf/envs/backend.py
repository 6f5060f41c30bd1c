"""The interface every recordable game implements, and the env ids that pick one.

A backend names a game and makes its `GameEnv`; the env steps in the game's own actions,
converts them to the gamepad (`controls`) and can replay from a snapshot without touching
the live game, which is what identifiability probing needs. Env ids:

    ALE/<Game>-v5          any Gymnasium Atari game (ale-py)
    vizdoom/<scenario>     ViZDoom with Freedoom: see `nitrogen_hf.envs.doom.SCENARIOS`
    crafter/<variant>      Crafter's open world: see `nitrogen_hf.envs.crafter.VARIANTS`
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from nitrogen_hf.envs.probes import ProbeConfig

ENV_ID_FORMS = "'ALE/<Game>-v5', 'vizdoom/<scenario>' or 'crafter/<variant>'"


@dataclass(frozen=True)
class Step:
    observation: np.ndarray  # (H, W, 3) uint8, the frame after the action
    reward: float
    terminated: bool  # the game ended (death, game over)
    truncated: bool  # cut by the game's own time limit


class GameEnv(Protocol):
    """One running game. Actions are the game's own (an index, or a tuple of engine values)."""

    controls: Any  # actions.ButtonActionMap or DoomActionMap: to_pad, from_pad, to_gamepad
    frame_shape: tuple[int, int]  # (height, width) of observations

    def reset(self, seed: int) -> np.ndarray:
        """Start an episode determined by `seed`; returns the first frame."""

    def step(self, action: Any) -> Step: ...

    def info(self) -> Any:
        """What scripted players read beside the pixels (ALE RAM, ViZDoom state, Crafter world)."""

    def snapshot(self) -> Any:
        """A handle on the current state for `rollout` (valid until the next reset)."""

    def rollout(self, snapshot: Any, actions: Sequence[Any]) -> list[np.ndarray]:
        """Frames after each action played from `snapshot`; the live game is left untouched."""

    def close(self) -> None: ...


class Backend(Protocol):
    """A recordable game: metadata, frame rate, env, players."""

    env_id: str
    game: str  # metadata `game` and video-id prefix
    source: str  # metadata `original_video.source`
    controller_type: str
    default_fps: int
    probe: ProbeConfig  # default identifiability probing

    def check_fps(self, fps: int) -> None:
        """Raise ValueError naming the allowed rates when the game cannot run at `fps`."""

    def check_player(self, name: str) -> None:
        """Raise ValueError when this game has no player `name`."""

    def has_expert(self) -> bool: ...

    def make(self, fps: int) -> GameEnv: ...

    def player(self, name: str, env: GameEnv, fps: int) -> Any:
        """A `policies.Policy` choosing this game's actions."""

    def url(self, env_seed: int, fps: int) -> str:
        """Where a recording comes from, for `original_video.url`."""

    def action_space(self, env: GameEnv) -> dict[str, str]:
        """Gamepad dim -> the game control it drives: the true action space, for metadata."""


def backend_for(env_id: str) -> Backend:
    """The backend of an env id; a clear error for ids of no known form."""
    from nitrogen_hf.envs import atari, crafter, doom

    prefixes = {
        "ALE/": atari.AtariBackend,
        "vizdoom/": doom.DoomBackend,
        "crafter/": crafter.CrafterBackend,
    }
    for prefix, backend in prefixes.items():
        if isinstance(env_id, str) and env_id.startswith(prefix):
            return backend(env_id)
    raise ValueError(f"env id {env_id!r}: expected {ENV_ID_FORMS}")
