"""Players for the recorder: uniform random, human-like sticky presses, and scripted experts.

Every policy maps (observation, info, rng) to one of the game's actions: an index into a
discrete action set (Atari, Crafter), or, for analog games (ViZDoom), the engine values of a
gamepad state. `info` is what scripted players read beside the pixels (`GameEnv.info`).
All randomness comes from the rng the recorder seeds per episode, so a run is reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from nitrogen_hf.actions import BUTTON_INDEX, NUM_BUTTONS, NUM_STICK_AXES
from nitrogen_hf.envs.experts import EXPERTS

POLICIES = ("random", "sticky", "expert")


class Policy(Protocol):
    """Chooses one env action per recorded frame."""

    def reset(self) -> None:
        """Forget per-episode state (called after every env reset)."""

    def act(self, observation: np.ndarray, info: Any, rng: np.random.Generator) -> Any:
        """observation: (H, W, 3) uint8 without overlay; info: e.g. the (128,) uint8 ALE RAM."""


class RandomPolicy:
    """Uniform over the env's action set at every step: the usual ALE baseline."""

    def __init__(self, meanings: Sequence[str]):
        self.num_actions = len(meanings)

    def reset(self) -> None:
        pass

    def act(self, observation: np.ndarray, info: Any, rng: np.random.Generator) -> int:
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
        upper = [m.upper() for m in meanings]
        self.noop = upper.index("NOOP") if "NOOP" in upper else None
        self.active = [i for i in range(len(meanings)) if i != self.noop] or [0]
        self.reset()

    def reset(self) -> None:
        self._action, self._frames_left = 0, 0

    def act(self, observation: np.ndarray, info: Any, rng: np.random.Generator) -> int:
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


class RandomPad:
    """Analog random play: every frame, each enabled stick axis uniform in [-1, 1] and each
    enabled button pressed with probability one half (uniform over the gamepad states)."""

    def __init__(self, controls: Any):
        self.controls = controls

    def reset(self) -> None:
        pass

    def act(self, observation: np.ndarray, info: Any, rng: np.random.Generator) -> Any:
        buttons = np.zeros(NUM_BUTTONS, np.uint8)
        for name in self.controls.buttons:
            buttons[BUTTON_INDEX[name]] = rng.random() < 0.5
        sticks = np.zeros(NUM_STICK_AXES)
        sticks[self.controls.axes] = rng.uniform(-1.0, 1.0, len(self.controls.axes))
        return self.controls.from_pad(buttons, sticks)


@dataclass(frozen=True)
class StickyPadConfig:
    """A human on a gamepad: sticks held at a position, the odd button press."""

    press_probability: float = 0.25  # chance each button is held during a segment
    min_deflection: float = 0.3  # a pushed stick goes at least this far


class StickyPad:
    """Holds a random gamepad state (stick positions, a few buttons) for human-like times,
    with idle stretches where the sticks rest, timed like `StickyPolicy`."""

    def __init__(
        self,
        controls: Any,
        fps: int,
        config: StickyPadConfig | None = None,
        timing: StickyConfig | None = None,
    ):
        self.controls, self.fps = controls, fps
        self.config, self.timing = config or StickyPadConfig(), timing or StickyConfig()
        self.reset()

    def reset(self) -> None:
        self._action, self._frames_left = None, 0

    def act(self, observation: np.ndarray, info: Any, rng: np.random.Generator) -> Any:
        if self._frames_left <= 0:
            self._action, self._frames_left = self._next_segment(rng)
        self._frames_left -= 1
        return self._action

    def _next_segment(self, rng: np.random.Generator) -> tuple[Any, int]:
        timing, config = self.timing, self.config
        idle = rng.random() < timing.idle_probability
        median = timing.idle_median_s if idle else timing.hold_median_s
        seconds = median * float(np.exp(timing.hold_sigma * rng.standard_normal()))
        frames = max(timing.min_hold_frames, round(seconds * self.fps))
        buttons = np.zeros(NUM_BUTTONS, np.uint8)
        sticks = np.zeros(NUM_STICK_AXES)
        if not idle:
            for name in self.controls.buttons:
                buttons[BUTTON_INDEX[name]] = rng.random() < config.press_probability
            for axis in self.controls.axes:
                if rng.random() < 0.5:  # about half the axes move in a segment
                    sign = rng.choice((-1.0, 1.0))
                    sticks[axis] = sign * rng.uniform(config.min_deflection, 1.0)
        return self.controls.from_pad(buttons, sticks), frames


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
