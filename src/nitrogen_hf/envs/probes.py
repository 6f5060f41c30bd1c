"""Per-frame identifiability by counterfactual play: which action dims show on the screen.

From a snapshot of the game at frame t, the recorded actions t, t+1, ... are replayed, then
replayed again with one dim of action t changed (a button toggled, a stick axis pushed the
other way). The dim is *identifiable* at t when that changes any of the next `horizon`
frames: pressing FIRE in Breakout while the ball is in play, or left against the wall,
changes nothing, so no inverse dynamics model can label it there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from nitrogen_hf.actions import ACTION_DIM, BUTTON_INDEX, BUTTONS, NUM_BUTTONS
from nitrogen_hf.data.nitrogen_reader import NOT_PROBED

OPPOSITE = {
    "dpad_up": "dpad_down",
    "dpad_down": "dpad_up",
    "dpad_left": "dpad_right",
    "dpad_right": "dpad_left",
}


@dataclass(frozen=True)
class ProbeConfig:
    """How often and how far ahead a recording is probed."""

    every_s: float = 1.0  # one probed frame per second of play; 0 turns probing off
    horizon: int = 8  # frames compared after the changed action (effects can lag)

    def __post_init__(self) -> None:
        if self.every_s < 0 or self.horizon < 1:
            raise ValueError(
                f"probe every_s ({self.every_s}) must be >= 0 and horizon ({self.horizon}) >= 1"
            )

    def interval(self, fps: int) -> int:
        """Frames between probed frames (0 when probing is off)."""
        return 0 if self.every_s == 0 else max(1, round(self.every_s * fps))


class Probeable(Protocol):
    """What a game needs for probing: its action map and side-effect-free rollouts."""

    controls: Any  # to_pad / from_pad / expressible

    def rollout(self, snapshot: Any, actions: Sequence[Any]) -> list[np.ndarray]:
        """Frames after each action, played from `snapshot`; the live game is left as it was."""


def alternatives(controls: Any, action: Any) -> dict[int, Any]:
    """dim -> `action` with that dim changed, for every dim the game can express.

    A button is toggled (pressing a d-pad direction lets go of its opposite); a stick axis
    is pushed fully the other way (to -1 from the centre).
    """
    buttons, sticks = controls.to_pad(action)
    out = {}
    for dim in np.flatnonzero(controls.expressible):
        b, s = buttons.copy(), sticks.copy()
        if dim < NUM_BUTTONS:
            name, pressed = BUTTONS[dim], bool(b[dim])
            b[dim] = 0 if pressed else 1
            if not pressed and name in OPPOSITE:
                b[BUTTON_INDEX[OPPOSITE[name]]] = 0
        else:
            axis = dim - NUM_BUTTONS
            s[axis] = -1.0 if s[axis] >= 0 else 1.0
        out[int(dim)] = controls.from_pad(b, s)
    return out


def frame_mask(game: Probeable, snapshot: Any, actions: Sequence[Any]) -> np.ndarray:
    """(25,) bool: dims of `actions[0]` whose change alters the frames `actions` produce.

    `actions` are the played action and its continuation (the horizon). Changes the game
    cannot express (the alternative is the same game action) count as not identifiable.
    """
    baseline = game.rollout(snapshot, actions)
    mask = np.zeros(ACTION_DIM, bool)
    changed: dict[Any, bool] = {_key(actions[0]): False}
    for dim, alternative in alternatives(game.controls, actions[0]).items():
        key = _key(alternative)
        if key not in changed:
            frames = game.rollout(snapshot, [alternative, *actions[1:]])
            changed[key] = not _same_frames(frames, baseline)
        mask[dim] = changed[key]
    return mask


def episode_masks(
    game: Probeable, snapshots: dict[int, Any], actions: Sequence[Any], horizon: int
) -> np.ndarray:
    """(N, 25) int8 over an episode's N frames: 1/0 at probed frames, NOT_PROBED elsewhere."""
    masks = np.full((len(actions), ACTION_DIM), NOT_PROBED, np.int8)
    for t, snapshot in sorted(snapshots.items()):
        masks[t] = frame_mask(game, snapshot, actions[t : t + horizon])
    return masks


def _same_frames(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _key(action: Any) -> Any:
    """A hashable form of a game action (an index, or a tuple of engine values)."""
    return tuple(float(v) for v in action) if isinstance(action, Sequence | np.ndarray) else action
