"""A scripted ViZDoom player: aims at what it sees, shoots, and explores where it cannot.

It reads ViZDoom's labels buffer (which objects are on screen, and where), the depth buffer
(how far the walls are) and the player's position. With a target in view it turns (or
strafes, where the scenario cannot turn) to centre it and fires once on it; monsters are
shot, items walked into. Without one it walks toward the most open direction and, when it
stops moving, presses use (doors) and turns away. A small slip probability makes it
human-imperfect and episodes differ between seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nitrogen_hf.actions import BUTTON_INDEX, NUM_BUTTONS, NUM_STICK_AXES, STICK_AXES

HORIZONTAL_FOV = 90.0  # degrees across the 4:3 screen
TARGET_CATEGORIES = {"monsters": ("Monster",), "items": ("Health", "Armor")}
_AXIS = {name: i for i, name in enumerate(STICK_AXES)}


@dataclass(frozen=True)
class DoomExpertConfig:
    turn_gain: float = 0.5  # share of the angle to the target turned per frame
    max_turn_deg: float = 7.0  # degrees per tic of a full right stick (DOOM_STICK_AXES)
    strafe_gain: float = 3.0  # stick per unit of screen offset, where the scenario cannot turn
    aim_tolerance: float = 0.06  # fire when the target's centre is this close (screen halves)
    explore_turn: float = 0.35  # right-stick x while steering to open space
    scan_turn: float = 0.5  # right-stick x while looking around (no walking in the scenario)
    stuck_frames: int = 12  # frames without moving that count as stuck
    stuck_distance: float = 8.0  # map units moved within stuck_frames below which we are stuck
    escape_frames: int = 15  # frames of turning away once stuck
    pitch_gain: float = 0.3  # look back to level: stick per degree of pitch
    slip_probability: float = 0.02  # a random gamepad state now and then


class DoomExpert:
    """Plays one scenario with the controls it enables (a DoomActionMap)."""

    def __init__(
        self,
        controls: Any,
        targets: str,
        frame_shape: tuple[int, int],
        config: DoomExpertConfig | None = None,
    ):
        if targets not in TARGET_CATEGORIES:
            raise ValueError(f"targets {targets!r}: expected one of {sorted(TARGET_CATEGORIES)}")
        self.controls, self.config = controls, config or DoomExpertConfig()
        self.categories = TARGET_CATEGORIES[targets]
        self.shoots = targets == "monsters"
        self.height, self.width = frame_shape
        self.reset()

    def reset(self) -> None:
        self._positions: list[np.ndarray] = []
        self._escape, self._escape_sign, self._frame = 0, 1.0, 0

    def can(self, dim: str) -> bool:
        """Whether the scenario enables this stick axis or button."""
        if dim in _AXIS:
            return _AXIS[dim] in self.controls.axes
        return dim in self.controls.buttons

    def act(self, observation: np.ndarray, state: Any, rng: np.random.Generator) -> Any:
        buttons = np.zeros(NUM_BUTTONS, np.uint8)
        sticks = np.zeros(NUM_STICK_AXES)
        if state is None:
            return self.controls.from_pad(buttons, sticks)
        if rng.random() < self.config.slip_probability:
            sticks[self.controls.axes] = rng.uniform(-1, 1, len(self.controls.axes))
            return self.controls.from_pad(buttons, sticks)
        self._frame += 1
        names = ("x", "y", "angle", "pitch", "health", "ammo")  # doom.GAME_VARIABLES
        variables = dict(zip(names, state.game_variables, strict=True))
        walks = self.can("j_left.y")
        stuck = walks and self._stuck(np.array([variables["x"], variables["y"]]))
        target = self._target(state.labels)
        if target is not None and self._escape == 0:
            self._aim(target, buttons, sticks)
        else:
            self._explore(state.depth_buffer, stuck, buttons, sticks, rng)
        self._level_view(variables["pitch"], sticks)
        if self.shoots and variables["ammo"] <= 0 and self.can("right_shoulder"):
            buttons[BUTTON_INDEX["right_shoulder"]] = self._frame % 2  # fresh presses
        return self.controls.from_pad(buttons, sticks)

    def _target(self, labels: list) -> Any:
        """The largest (nearest) visible label of a target category, or None."""
        found = [label for label in labels if label.object_category in self.categories]
        return max(found, key=lambda label: label.width * label.height, default=None)

    def _aim(self, target: Any, buttons: np.ndarray, sticks: np.ndarray) -> None:
        """Centre the target; fire on it (a fresh press each time), or walk into an item."""
        config = self.config
        offset = (target.x + target.width / 2 - self.width / 2) / (self.width / 2)  # [-1, 1]
        if self.can("j_right.x"):
            degrees = offset * HORIZONTAL_FOV / 2 * config.turn_gain
            sticks[_AXIS["j_right.x"]] = np.clip(degrees / config.max_turn_deg, -1, 1)
        elif self.can("j_left.x"):
            sticks[_AXIS["j_left.x"]] = np.clip(offset * config.strafe_gain, -1, 1)
        tolerance = max(config.aim_tolerance, target.width / self.width / 2)
        aligned = abs(offset) < tolerance
        if self.shoots and aligned and self.can("right_trigger"):
            buttons[BUTTON_INDEX["right_trigger"]] = self._frame % 2  # fresh presses
        if not self.shoots and self.can("j_left.y") and abs(offset) < 0.3:
            sticks[_AXIS["j_left.y"]] = 1.0

    def _explore(
        self,
        depth: np.ndarray,
        stuck: bool,
        buttons: np.ndarray,
        sticks: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Walk toward the deepest part of the view; when stuck, use and turn away."""
        config = self.config
        if stuck and self._escape == 0:
            self._escape, self._escape_sign = config.escape_frames, float(rng.choice((-1, 1)))
            if self.can("south"):
                buttons[BUTTON_INDEX["south"]] = 1
        if not self.can("j_left.y"):  # cannot walk: look around (or strafe) for targets
            axis = "j_right.x" if self.can("j_right.x") else "j_left.x"
            sticks[_AXIS[axis]] = config.scan_turn * self._escape_sign
            return
        if self._escape > 0:
            self._escape -= 1
            sticks[_AXIS["j_right.x"]] = self._escape_sign
            sticks[_AXIS["j_left.y"]] = -0.3
            return
        band = depth[self.height // 3 : 2 * self.height // 3].astype(np.float64)
        columns = band.mean(axis=0).reshape(8, -1).mean(axis=1)  # 8 directions, left to right
        direction = (np.argmax(columns) + 0.5) / len(columns) * 2 - 1  # [-1, 1]
        sticks[_AXIS["j_right.x"]] = np.clip(direction, -1, 1) * config.explore_turn
        sticks[_AXIS["j_left.y"]] = 1.0

    def _level_view(self, pitch: float, sticks: np.ndarray) -> None:
        """Bring the view back to level (positive pitch looks down; the stick up looks up)."""
        if self.can("j_right.y"):
            sticks[_AXIS["j_right.y"]] = np.clip(pitch * self.config.pitch_gain, -1, 1)

    def _stuck(self, position: np.ndarray) -> bool:
        """True when the last stuck_frames frames moved less than stuck_distance."""
        self._positions.append(position)
        window = self.config.stuck_frames
        if len(self._positions) > window:
            self._positions.pop(0)
            return float(np.linalg.norm(self._positions[-1] - self._positions[0])) < (
                self.config.stuck_distance
            )
        return False
