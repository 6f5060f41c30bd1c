"""The NitroGen gamepad action space: parquet columns, per-frame arrays, the 25-d model vector.

Conventions follow the NitroGen dataset: 21 binarised buttons in a fixed order, two sticks
``[x, y]`` in [-1, 1]. Inside models the sticks live in [0, 1] ("new" layout:
``[21 buttons, j_left.x, j_left.y, j_right.x, j_right.y]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

BUTTONS: tuple[str, ...] = (
    "back",
    "dpad_down",
    "dpad_left",
    "dpad_right",
    "dpad_up",
    "east",
    "guide",
    "left_shoulder",
    "left_thumb",
    "left_trigger",
    "north",
    "right_bottom",
    "right_left",
    "right_right",
    "right_shoulder",
    "right_thumb",
    "right_trigger",
    "right_up",
    "south",
    "start",
    "west",
)
STICKS: tuple[str, ...] = ("j_left", "j_right")
STICK_AXES: tuple[str, ...] = ("j_left.x", "j_left.y", "j_right.x", "j_right.y")
ACTION_NAMES: tuple[str, ...] = BUTTONS + STICK_AXES
NUM_BUTTONS = len(BUTTONS)  # 21
NUM_STICK_AXES = len(STICK_AXES)  # 4
ACTION_DIM = NUM_BUTTONS + NUM_STICK_AXES  # 25
BUTTON_INDEX = {name: i for i, name in enumerate(BUTTONS)}

# A stick counts as "in use" beyond this radius; matches the dead zone of common pads.
STICK_DEADZONE = 0.1
# A button counts as pressed when its value (a label, a probability, a policy output) exceeds
# this: NitroGen's decoding rule, and every metric, filter and player here uses it.
BUTTON_THRESHOLD = 0.5


def observed_mask(columns: Iterable[str]) -> np.ndarray:
    """(25,) bool: which action dims a source records, given its parquet column names."""
    present = set(columns)
    mask = np.array([name in present for name in BUTTONS] + [False] * NUM_STICK_AXES)
    for stick_index, stick in enumerate(STICKS):
        if stick in present:
            mask[NUM_BUTTONS + 2 * stick_index : NUM_BUTTONS + 2 * stick_index + 2] = True
    return mask


def mask_for_buttons(buttons: Iterable[str], sticks: Iterable[str] = ()) -> np.ndarray:
    """(25,) bool mask of a controller that has exactly these buttons and sticks."""
    return observed_mask([*buttons, *sticks])


@dataclass
class GamepadActions:
    """Per-frame gamepad state of one clip.

    buttons: (N, 21) uint8 in {0, 1}; sticks: (N, 4) float32 in [-1, 1];
    observed: (25,) bool, False for dims the source cannot see (absent columns).
    """

    buttons: np.ndarray
    sticks: np.ndarray
    observed: np.ndarray

    def __post_init__(self) -> None:
        self.buttons = np.asarray(self.buttons, dtype=np.uint8)
        self.sticks = np.asarray(self.sticks, dtype=np.float32)
        self.observed = np.asarray(self.observed, dtype=bool)
        n = len(self.buttons)
        if self.buttons.shape != (n, NUM_BUTTONS) or self.sticks.shape != (n, NUM_STICK_AXES):
            raise ValueError(
                f"expected buttons (N, {NUM_BUTTONS}) and sticks (N, {NUM_STICK_AXES}), "
                f"got {self.buttons.shape} and {self.sticks.shape}"
            )
        if self.observed.shape != (ACTION_DIM,):
            raise ValueError(
                f"observed mask must have shape ({ACTION_DIM},), got {self.observed.shape}"
            )

    def __len__(self) -> int:
        return len(self.buttons)

    @classmethod
    def zeros(cls, num_frames: int, observed: np.ndarray | None = None) -> GamepadActions:
        """No input for `num_frames` frames."""
        mask = np.ones(ACTION_DIM, bool) if observed is None else observed
        return cls(
            np.zeros((num_frames, NUM_BUTTONS), np.uint8),
            np.zeros((num_frames, NUM_STICK_AXES), np.float32),
            mask,
        )

    def __getitem__(self, index: slice) -> GamepadActions:
        return GamepadActions(self.buttons[index], self.sticks[index], self.observed)

    @staticmethod
    def concatenate(parts: Sequence[GamepadActions]) -> GamepadActions:
        """Join clips in time; a dim counts as observed only if every part observes it."""
        return GamepadActions(
            np.concatenate([p.buttons for p in parts]),
            np.concatenate([p.sticks for p in parts]),
            np.logical_and.reduce([p.observed for p in parts]),
        )

    # --- model vector -------------------------------------------------------------------
    def to_vector(self) -> np.ndarray:
        """(N, 25) float32 in [0, 1]: buttons, then sticks rescaled by (v + 1) / 2."""
        sticks01 = (self.sticks.astype(np.float64) + 1.0) / 2.0
        return np.concatenate([self.buttons.astype(np.float64), sticks01], axis=1).astype(
            np.float32
        )

    @classmethod
    def from_vector(
        cls,
        vector: np.ndarray,
        observed: np.ndarray | None = None,
        threshold: float = BUTTON_THRESHOLD,
    ) -> GamepadActions:
        """Decode (N, 25) model outputs: buttons > threshold, sticks v * 2 - 1 clipped to [-1, 1]."""
        vector = np.asarray(vector, dtype=np.float64)
        if vector.ndim != 2 or vector.shape[1] != ACTION_DIM:
            raise ValueError(f"expected (N, {ACTION_DIM}) action vectors, got {vector.shape}")
        buttons = (vector[:, :NUM_BUTTONS] > threshold).astype(np.uint8)
        sticks = np.clip(vector[:, NUM_BUTTONS:] * 2.0 - 1.0, -1.0, 1.0)
        mask = np.ones(ACTION_DIM, bool) if observed is None else observed
        return cls(buttons, sticks.astype(np.float32), mask)

    # --- parquet ------------------------------------------------------------------------
    @classmethod
    def from_table(cls, table: pa.Table) -> GamepadActions:
        """Read NitroGen parquet columns; absent columns become zeros marked unobserved."""
        n = table.num_rows
        buttons = np.zeros((n, NUM_BUTTONS), np.uint8)
        sticks = np.zeros((n, NUM_STICK_AXES), np.float32)
        for i, name in enumerate(BUTTONS):
            if name in table.column_names:
                buttons[:, i] = _button_column(table, name)
        for s, name in enumerate(STICKS):
            if name in table.column_names:
                sticks[:, 2 * s : 2 * s + 2] = _stick_column(table, name)
        return cls(buttons, sticks, observed_mask(table.column_names))

    def to_table(self) -> pa.Table:
        """NitroGen parquet columns for the observed dims only (so the mask round-trips)."""
        columns: dict[str, pa.Array] = {}
        for i, name in enumerate(BUTTONS):
            if self.observed[i]:
                columns[name] = pa.array(self.buttons[:, i], pa.uint8())
        for s, name in enumerate(STICKS):
            if self.observed[NUM_BUTTONS + 2 * s]:
                xy = self.sticks[:, 2 * s : 2 * s + 2]
                columns[name] = pa.FixedSizeListArray.from_arrays(
                    pa.array(xy.reshape(-1), pa.float32()), 2
                )
        if not columns:
            raise ValueError("no observed action dims: nothing to write")
        return pa.table(columns)

    def to_rows(self) -> list[dict]:
        """One dict per frame, as `pyarrow.Table.to_pylist` gives for a NitroGen parquet."""
        return self.to_table().to_pylist()

    @classmethod
    def from_rows(cls, rows: Sequence[dict]) -> GamepadActions:
        """Inverse of `to_rows` (the column set of the first row decides what is observed)."""
        if not rows:
            raise ValueError("cannot build actions from zero rows")
        return cls.from_table(pa.Table.from_pylist(list(rows)))

    # --- summaries ----------------------------------------------------------------------
    def active_frames(self) -> np.ndarray:
        """(N,) bool: any observed button pressed or any observed stick beyond the dead zone."""
        pressed = (self.buttons[:, self.observed[:NUM_BUTTONS]] > 0).any(axis=1)
        stick_obs = self.observed[NUM_BUTTONS:]
        moved = (np.abs(self.sticks[:, stick_obs]) > STICK_DEADZONE).any(axis=1)
        return pressed | moved


def _button_column(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name).to_numpy(zero_copy_only=False)
    values = np.asarray(column, dtype=np.float64)
    missing = np.flatnonzero(np.isnan(values))  # NaN or null: neither pressed nor not
    if len(missing):
        raise ValueError(
            f"button column '{name}' has {len(missing)} missing (NaN/null) values, "
            f"first at row {missing[0]}"
        )
    if not np.isin(values, (0.0, 1.0)).all():
        raise ValueError(f"button column '{name}' has values other than 0/1")
    return values.astype(np.uint8)


def _stick_column(table: pa.Table, name: str) -> np.ndarray:
    values = table.column(name).to_pylist()
    out = np.zeros((len(values), 2), np.float64)
    for i, xy in enumerate(values):
        if xy is None or any(v is None for v in xy):
            raise ValueError(f"stick column '{name}' row {i} is missing (null)")
        if len(xy) != 2:
            raise ValueError(f"stick column '{name}' row {i} has {len(xy)} values, expected [x, y]")
        out[i] = xy
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
    if len(bad):
        raise ValueError(f"stick column '{name}' has NaN/inf values, first at row {bad[0]}")
    if np.abs(out).max(initial=0.0) > 1.0 + 1e-6:
        raise ValueError(f"stick column '{name}' has values outside [-1, 1]")
    return np.clip(out, -1.0, 1.0).astype(np.float32)


# --- Atari (ALE) ----------------------------------------------------------------------------
# The 18 ALE actions; a joystick with one fire button maps onto the d-pad plus `south` (A).
ATARI_ACTIONS: tuple[str, ...] = (
    "NOOP",
    "FIRE",
    "UP",
    "RIGHT",
    "LEFT",
    "DOWN",
    "UPRIGHT",
    "UPLEFT",
    "DOWNRIGHT",
    "DOWNLEFT",
    "UPFIRE",
    "RIGHTFIRE",
    "LEFTFIRE",
    "DOWNFIRE",
    "UPRIGHTFIRE",
    "UPLEFTFIRE",
    "DOWNRIGHTFIRE",
    "DOWNLEFTFIRE",
)
ATARI_BUTTONS: tuple[str, ...] = ("dpad_up", "dpad_down", "dpad_left", "dpad_right", "south")
ATARI_OBSERVED = mask_for_buttons(ATARI_BUTTONS)
_ATARI_TOKENS = {"UP": "dpad_up", "DOWN": "dpad_down", "LEFT": "dpad_left", "RIGHT": "dpad_right"}


def atari_buttons(meaning: str) -> frozenset[str]:
    """Gamepad buttons pressed by one ALE action name, e.g. 'UPLEFTFIRE'."""
    if meaning not in ATARI_ACTIONS:
        raise ValueError(f"unknown ALE action '{meaning}'; expected one of {ATARI_ACTIONS}")
    pressed = set()
    rest = meaning
    if rest.endswith("FIRE"):
        pressed.add("south")
        rest = rest[: -len("FIRE")]
    for token, button in _ATARI_TOKENS.items():
        if token in rest:
            pressed.add(button)
    return frozenset(pressed)


class ButtonActionMap:
    """Maps a game's discrete actions, each one set of pressed buttons, to the gamepad and back.

    `observed` is the controller's buttons: what the recording writes as parquet columns.
    """

    def __init__(self, pressed: Sequence[Iterable[str]], observed: np.ndarray):
        self.pressed = [frozenset(p) for p in pressed]
        self.observed = np.asarray(observed, bool)
        self._vectors = np.zeros((len(self.pressed), NUM_BUTTONS), np.uint8)
        for a, buttons in enumerate(self.pressed):
            for button in buttons:
                self._vectors[a, BUTTON_INDEX[button]] = 1
        self._columns = np.flatnonzero(self.observed[:NUM_BUTTONS])

    def __len__(self) -> int:
        return len(self.pressed)

    @property
    def expressible(self) -> np.ndarray:
        """(25,) bool: dims some action of this game presses (the rest never change anything)."""
        return np.concatenate([self._vectors.any(axis=0), np.zeros(NUM_STICK_AXES, bool)])

    def to_buttons(self, action: int) -> np.ndarray:
        """(21,) uint8 button state for env action index `action`."""
        return self._vectors[action].copy()

    def to_pad(self, action: int) -> tuple[np.ndarray, np.ndarray]:
        """(buttons (21,) uint8, sticks (4,) float32) that `action` executes."""
        return self.to_buttons(action), np.zeros(NUM_STICK_AXES, np.float32)

    def to_gamepad(self, actions: Sequence[int]) -> GamepadActions:
        """Per-frame gamepad actions of a sequence of env action indices."""
        idx = np.asarray(actions, dtype=np.int64)
        return GamepadActions(
            self._vectors[idx], np.zeros((len(idx), NUM_STICK_AXES), np.float32), self.observed
        )

    def from_buttons(self, buttons: np.ndarray) -> int:
        """Env action closest to a (21,) button state (Hamming distance on the controller's buttons).

        Buttons the controller lacks are ignored; ties go to the action listed first
        (the no-op), so an empty or impossible state maps to doing nothing.
        """
        wanted = np.asarray(buttons, dtype=np.uint8)[self._columns]
        distances = np.abs(self._vectors[:, self._columns].astype(int) - wanted).sum(axis=1)
        return int(np.argmin(distances))

    def from_pad(self, buttons: np.ndarray, sticks: np.ndarray | None = None) -> int:
        """Env action for a gamepad state; these games have no sticks, so those are ignored."""
        return self.from_buttons(buttons)


class AtariActionMap(ButtonActionMap):
    """One env's (possibly minimal) ALE action set on the d-pad and `south`."""

    def __init__(self, meanings: Sequence[str]):
        self.meanings = tuple(meanings)
        super().__init__([atari_buttons(m) for m in self.meanings], ATARI_OBSERVED)


# --- Crafter ----------------------------------------------------------------------------------
# Crafter's 17 actions, in its own order. Moving is the d-pad; `do` (collect, attack, eat,
# drink) is A; placing takes the other face buttons; crafting sits on the shoulders, triggers
# and stick clicks: pickaxes on the right hand, swords on the left, wood < stone < iron.
CRAFTER_BUTTONS: dict[str, tuple[str, ...]] = {
    "noop": (),
    "move_left": ("dpad_left",),
    "move_right": ("dpad_right",),
    "move_up": ("dpad_up",),
    "move_down": ("dpad_down",),
    "do": ("south",),
    "sleep": ("start",),
    "place_stone": ("west",),
    "place_table": ("north",),
    "place_furnace": ("east",),
    "place_plant": ("back",),
    "make_wood_pickaxe": ("right_shoulder",),
    "make_stone_pickaxe": ("right_trigger",),
    "make_iron_pickaxe": ("right_thumb",),
    "make_wood_sword": ("left_shoulder",),
    "make_stone_sword": ("left_trigger",),
    "make_iron_sword": ("left_thumb",),
}
CRAFTER_ACTIONS: tuple[str, ...] = tuple(CRAFTER_BUTTONS)
CRAFTER_OBSERVED = mask_for_buttons(b for pressed in CRAFTER_BUTTONS.values() for b in pressed)


class CrafterActionMap(ButtonActionMap):
    """Crafter's actions (indices into CRAFTER_ACTIONS) as single button presses."""

    def __init__(self):
        self.meanings = CRAFTER_ACTIONS
        super().__init__(list(CRAFTER_BUTTONS.values()), CRAFTER_OBSERVED)


# --- ViZDoom ----------------------------------------------------------------------------------
# Stick axis -> (ViZDoom delta button, engine value at full deflection). Full deflection runs:
# Doom's running speeds (forwardmove 50, sidemove 40 units) and its fast turn (1280 of 65536
# per tic, about 7 degrees); stick y is up-positive, so up walks forward and looks up.
DOOM_STICK_AXES: dict[str, tuple[str, float]] = {
    "j_left.x": ("MOVE_LEFT_RIGHT_DELTA", 40.0),  # strafe right
    "j_left.y": ("MOVE_FORWARD_BACKWARD_DELTA", 50.0),  # forward
    "j_right.x": ("TURN_LEFT_RIGHT_DELTA", 7.0),  # degrees per tic, turn right
    "j_right.y": ("LOOK_UP_DOWN_DELTA", 3.0),  # degrees per tic, look up
}
DOOM_BUTTONS: dict[str, str] = {  # gamepad button -> ViZDoom button
    "right_trigger": "ATTACK",
    "south": "USE",  # open doors, press switches
    "right_shoulder": "SELECT_NEXT_WEAPON",
    "left_shoulder": "SELECT_PREV_WEAPON",
}
# Controls a scenario may enable, and the gamepad dims each one drives.
DOOM_CONTROLS: dict[str, str] = {
    "strafe": "j_left.x",
    "move": "j_left.y",
    "turn": "j_right.x",
    "look": "j_right.y",
    "attack": "right_trigger",
    "use": "south",
    "weapons": "right_shoulder left_shoulder",
}
# ViZDoom buttons in the order of a DoomActionMap's engine vector.
DOOM_ENGINE_BUTTONS: tuple[str, ...] = tuple(b for b, _ in DOOM_STICK_AXES.values()) + tuple(
    DOOM_BUTTONS.values()
)
DOOM_ANGLE_UNIT = 360.0 / 65536  # the engine keeps turns in 1/65536 of a circle, moves in units
_DOOM_ANGLE_AXES = ("j_right.x", "j_right.y")


class DoomActionMap:
    """A gamepad state <-> ViZDoom's engine values, for the controls one scenario enables.

    The engine vector (a tuple, in DOOM_ENGINE_BUTTONS order) is what `make_action` takes.
    Sticks pass a radial dead zone, then round to what the engine can execute (whole move
    units, 1/65536 turns), so `to_pad(from_pad(b, s))` is the executed state. Controls the
    scenario lacks execute as zero.
    """

    def __init__(self, controls: Iterable[str]):
        self.controls = frozenset(controls)
        unknown = self.controls - set(DOOM_CONTROLS)
        if unknown:
            raise ValueError(
                f"unknown ViZDoom controls {sorted(unknown)}; use {list(DOOM_CONTROLS)}"
            )
        dims = {d for c in self.controls for d in DOOM_CONTROLS[c].split()}
        self.axes = [i for i, axis in enumerate(STICK_AXES) if axis in dims]  # enabled stick axes
        self.buttons = [b for b in DOOM_BUTTONS if b in dims]  # enabled buttons
        self.observed = mask_for_buttons(
            self.buttons, [s for s in STICKS if any(STICK_AXES[i].startswith(s) for i in self.axes)]
        )
        self.expressible = np.zeros(ACTION_DIM, bool)
        self.expressible[[BUTTON_INDEX[b] for b in self.buttons]] = True
        self.expressible[[NUM_BUTTONS + i for i in self.axes]] = True

    def from_pad(self, buttons: np.ndarray, sticks: np.ndarray) -> tuple[float, ...]:
        """Engine vector executing this gamepad state (dead zone, rounding, disabled controls off)."""
        sticks = _dead_zone(np.asarray(sticks, np.float64))
        values = []
        for axis, (_, full) in DOOM_STICK_AXES.items():
            index = STICK_AXES.index(axis)
            value = float(np.clip(sticks[index], -1, 1)) * full if index in self.axes else 0.0
            if axis in _DOOM_ANGLE_AXES:  # whole angle units, nudged so truncation keeps them
                units = round(value / DOOM_ANGLE_UNIT)
                value = float((units + 0.5 * np.sign(units)) * DOOM_ANGLE_UNIT)
            else:
                value = float(round(value))
            values.append(value)
        pressed = np.asarray(buttons)
        values += [
            float(b in self.buttons and bool(pressed[BUTTON_INDEX[b]])) for b in DOOM_BUTTONS
        ]
        return tuple(values)

    def to_pad(self, action: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
        """(buttons (21,) uint8, sticks (4,) float32 in [-1, 1]) an engine vector executes."""
        buttons = np.zeros(NUM_BUTTONS, np.uint8)
        sticks = np.zeros(NUM_STICK_AXES, np.float32)
        for value, (axis, (_, full)) in zip(action, DOOM_STICK_AXES.items(), strict=False):
            if axis in _DOOM_ANGLE_AXES:
                value = np.trunc(value / DOOM_ANGLE_UNIT) * DOOM_ANGLE_UNIT
            sticks[STICK_AXES.index(axis)] = float(value) / full
        for value, button in zip(action[len(DOOM_STICK_AXES) :], DOOM_BUTTONS, strict=True):
            buttons[BUTTON_INDEX[button]] = value > 0
        return buttons, sticks

    def to_gamepad(self, actions: Sequence[Sequence[float]]) -> GamepadActions:
        """Per-frame gamepad actions of a sequence of engine vectors."""
        pads = [self.to_pad(a) for a in actions]
        buttons = np.stack([b for b, _ in pads]) if pads else np.zeros((0, NUM_BUTTONS))
        sticks = np.stack([s for _, s in pads]) if pads else np.zeros((0, NUM_STICK_AXES))
        return GamepadActions(buttons, sticks, self.observed)


def _dead_zone(sticks: np.ndarray) -> np.ndarray:
    """(4,) sticks with each stick inside STICK_DEADZONE of the centre set to it."""
    out = sticks.copy()
    for s in range(len(STICKS)):
        if np.hypot(*out[2 * s : 2 * s + 2]) < STICK_DEADZONE:
            out[2 * s : 2 * s + 2] = 0.0
    return out
