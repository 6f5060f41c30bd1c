"""Players for the recorder: uniform random, human-like sticky presses, and scripted experts.

Every policy maps (observation, RAM, rng) to an index into the env's minimal action set.
All randomness comes from the rng the recorder seeds per episode, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nitrogen_hf.envs.experts import EXPERTS

POLICIES = ("random", "sticky", "expert")


class Policy(Protocol):
    """Chooses one env action per recorded frame."""

    def reset(self) -> None:
        """Forget per-episode state (called after every env reset)."""

    def act(self, observation: np.ndarray, ram: np.ndarray, rng: np.random.Generator) -> int:
        """observation: (210, 160, 3) uint8 without overlay; ram: (128,) uint8."""


class RandomPolicy:
    """Uniform over the env's action set at every step: the usual ALE baseline."""

    def __init__(self, meanings: Sequence[str]):
        self.num_actions = len(meanings)

    def reset(self) -> None:
        pass

    def act(self, observation: np.ndarray, ram: np.ndarray, rng: np.random.Generator) -> int:
        return int(rng.integers(self.num_actions))


@dataclass(frozen=True)
class StickyConfig:
    """Press lengths of a human player; presses are log-normal, as human reaction times are."""

    hold_median_s: float = 0.3  # a typical deliberate press
    hold_sigma: float = 0.6  # log-normal spread: about 90% of presses last 0.1-0.8 s
    min_hold_frames: int = 2  # a tap still spans two recorded frames
    idle_probability: float = 0.2  # share of segments where the player lets go of the stick
    idle_median_s: float = 0.5  # how long such a pause lasts (same spread)


class StickyPolicy:
    """Holds a random non-NOOP action for a human-like time, with idle NOOP stretches between."""

    def __init__(self, meanings: Sequence[str], fps: int, config: StickyConfig | None = None):
        self.config = config or StickyConfig()
        self.fps = fps
        self.noop = meanings.index("NOOP") if "NOOP" in meanings else None
        self.active = [i for i in range(len(meanings)) if i != self.noop] or [0]
        self.reset()

    def reset(self) -> None:
        self._action, self._frames_left = 0, 0

    def act(self, observation: np.ndarray, ram: np.ndarray, rng: np.random.Generator) -> int:
        if self._frames_left <= 0:
            self._action, self._frames_left = self._next_segment(rng)
        self._frames_left -= 1
        return self._action

    def _next_segment(self, rng: np.random.Generator) -> tuple[int, int]:
        """(action, frames) of the next press or pause."""
        config = self.config
        idle = self.noop is not None and rng.random() < config.idle_probability
        median = config.idle_median_s if idle else config.hold_median_s
        seconds = median * float(np.exp(config.hold_sigma * rng.standard_normal()))
        frames = max(config.min_hold_frames, round(seconds * self.fps))
        action = self.noop if idle else int(rng.choice(self.active))
        return action, frames


def make_policy(name: str, game: str, meanings: Sequence[str], fps: int) -> Policy:
    """The named policy for one game; 'expert' exists only for the games in EXPERTS."""
    meanings = list(meanings)
    if name == "random":
        return RandomPolicy(meanings)
    if name == "sticky":
        return StickyPolicy(meanings, fps)
    if name == "expert":
        check_expert(game)
        return EXPERTS[game](meanings)
    raise ValueError(f"unknown policy {name!r}; expected one of {POLICIES}")


def check_expert(game: str) -> None:
    """Fail early, before an env is made, when a game has no scripted expert."""
    if game not in EXPERTS:
        raise ValueError(
            f"no expert policy for game {game!r}; experts exist for {sorted(EXPERTS)}. "
            "Use --policy sticky or random for other games."
        )
