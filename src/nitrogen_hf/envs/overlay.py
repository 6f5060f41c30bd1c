"""A streamer-style gamepad overlay drawn into game frames (numpy only).

NitroGen's labels come from controller overlays that streamers show in a corner of their
videos. Recording with this overlay produces the same kind of data: the pressed buttons are
visible in the frame, and the panel's box goes to `bbox_controller_overlay` so training can
mask it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from nitrogen_hf.actions import BUTTON_INDEX, NUM_BUTTONS, NUM_STICK_AXES

Corner = Literal["bottom-right", "bottom-left", "top-right", "top-left"]

# The layout is drawn on a 100 x 75 design grid (4:3) and scaled to the panel.
GRID_WIDTH, GRID_HEIGHT = 100.0, 75.0
BACKGROUND = (16, 16, 16)
DIM = (70, 70, 70)
BRIGHT = (255, 255, 255)
FACE_COLORS = {  # Xbox face colours: A green, B red, X blue, Y yellow
    "south": (60, 235, 60),
    "east": (255, 60, 60),
    "west": (70, 140, 255),
    "north": (255, 225, 40),
}
DIM_FACE_SCALE = 0.3  # unpressed face buttons keep a hint of their colour
KNOB = (130, 130, 130)  # a released stick knob: brighter than DIM so its position reads
STICK_CENTERS = ((38.0, 60.0), (62.0, 60.0))
STICK_RING, KNOB_RADIUS = 10.0, 4.2
CACHE_SIZE = 256  # drawn pads kept per input state; an Atari joystick has at most 18


@dataclass(frozen=True)
class OverlayConfig:
    """Where the panel sits and how much of the game it hides."""

    width_fraction: float = 0.35  # streamer overlays take about a third of the width
    height_fraction: float = 0.20  # ... and a fifth of the height
    corner: Corner = "bottom-right"
    margin: int = 2  # pixels between the panel and the frame edge
    opacity: float = 0.7  # background alpha: the game stays faintly visible behind the panel


@dataclass(frozen=True)
class _Element:
    """One button's pixels in the panel: (h, w) bool mask and its two colours."""

    button: int
    mask: np.ndarray
    on: tuple[int, int, int]
    off: tuple[int, int, int]


def overlay_box(height: int, width: int, config: OverlayConfig) -> tuple[int, int, int, int]:
    """Panel (x, y, w, h) in pixels of a `height` x `width` frame."""
    w = max(8, round(width * config.width_fraction))
    h = max(6, round(height * config.height_fraction))
    if w + 2 * config.margin > width or h + 2 * config.margin > height:
        raise ValueError(
            f"overlay {w}x{h} (+ margin {config.margin}) does not fit a {width}x{height} frame"
        )
    x = width - w - config.margin if config.corner.endswith("right") else config.margin
    y = height - h - config.margin if config.corner.startswith("bottom") else config.margin
    return x, y, w, h


class GamepadOverlay:
    """Draws a d-pad, face buttons, shoulders, triggers, back/guide/start and two sticks.

    Pressed buttons are drawn bright, released ones dim; stick knobs move with the sticks
    and light up when the stick is clicked.
    """

    def __init__(self, height: int, width: int, config: OverlayConfig | None = None):
        self.config = config or OverlayConfig()
        self.box = overlay_box(height, width, self.config)
        _, _, w, h = self.box
        self._grid = _design_grid(w, h)  # (u, v, scale): pixel centres in grid units
        self._elements = _layout(*self._grid)
        self._decor = _decor(*self._grid[:2])
        self._cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}

    def draw(
        self, frame: np.ndarray, buttons: np.ndarray, sticks: np.ndarray | None = None
    ) -> np.ndarray:
        """A copy of `frame` (H, W, 3) uint8 with the panel showing `buttons` (21,) and `sticks` (4,)."""
        buttons = np.asarray(buttons, np.uint8)
        if buttons.shape != (NUM_BUTTONS,):
            raise ValueError(f"overlay expects ({NUM_BUTTONS},) buttons, got {buttons.shape}")
        sticks = np.zeros(NUM_STICK_AXES) if sticks is None else np.asarray(sticks, np.float64)
        key = buttons.tobytes() + sticks.astype(np.float32).tobytes()
        if key not in self._cache:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = self._paint(buttons, sticks)
        painted, colors = self._cache[key]
        x, y, w, h = self.box
        out = frame.copy()
        alpha = self.config.opacity
        panel = out[y : y + h, x : x + w].astype(np.float32) * (1 - alpha)
        panel += np.asarray(BACKGROUND, np.float32) * alpha
        out[y : y + h, x : x + w] = np.where(
            painted[..., None], colors, np.round(panel).astype(np.uint8)
        )
        return out

    def _paint(self, buttons: np.ndarray, sticks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(h, w) bool mask of the drawn pad and its (h, w, 3) uint8 colours, for one input state."""
        _, _, w, h = self.box
        colors = np.zeros((h, w, 3), np.uint8)
        colors[self._decor] = DIM
        painted = self._decor.copy()
        for element in self._elements:
            colors[element.mask] = element.on if buttons[element.button] else element.off
            painted |= element.mask
        for index, thumb in enumerate(("left_thumb", "right_thumb")):
            (cx, cy), travel = STICK_CENTERS[index], STICK_RING - KNOB_RADIUS
            dx, dy = np.clip(sticks[2 * index : 2 * index + 2], -1.0, 1.0) * travel
            knob = _circle(*self._grid[:2], cx + dx, cy - dy, KNOB_RADIUS)  # stick y is up-positive
            colors[knob] = BRIGHT if buttons[BUTTON_INDEX[thumb]] else KNOB
            painted |= knob
        return painted, colors


def _design_grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Pixel centres of a w x h panel in design-grid units, the layout centred and uniformly scaled."""
    scale = min(w / GRID_WIDTH, h / GRID_HEIGHT)
    left = (w - GRID_WIDTH * scale) / 2
    top = (h - GRID_HEIGHT * scale) / 2
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64) + 0.5
    return (xs - left) / scale, (ys - top) / scale, scale


def _rect(u: np.ndarray, v: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return (u >= x0) & (u < x1) & (v >= y0) & (v < y1)


def _circle(u: np.ndarray, v: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray:
    return (u - cx) ** 2 + (v - cy) ** 2 <= r * r


def _decor(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Parts that are no button: the two stick rings and the d-pad's centre."""
    mask = _rect(u, v, 16, 36, 25, 45)
    for cx, cy in STICK_CENTERS:
        mask |= _circle(u, v, cx, cy, STICK_RING) & ~_circle(u, v, cx, cy, STICK_RING - 1.8)
    return mask


def _layout(u: np.ndarray, v: np.ndarray, scale: float) -> list[_Element]:
    """Every button of the pad as a shape on the 100 x 75 grid."""
    rects = {
        "left_trigger": (6, 2, 26, 9),
        "right_trigger": (74, 2, 94, 9),
        "left_shoulder": (6, 11, 26, 17),
        "right_shoulder": (74, 11, 94, 17),
        "back": (35, 24, 45, 30),
        "start": (55, 24, 65, 30),
        "dpad_up": (16, 27, 25, 36),
        "dpad_down": (16, 45, 25, 54),
        "dpad_left": (6, 36, 16, 45),
        "dpad_right": (25, 36, 35, 45),
        # The right stick pushed as a button (NitroGen's right_* columns): ticks around its ring.
        "right_up": (60, 46, 64, 49),
        "right_bottom": (60, 71, 64, 74),
        "right_left": (47.5, 58, 50.5, 62),
        "right_right": (73.5, 58, 76.5, 62),
    }
    # A 1-pixel minimum keeps every element visible on tiny panels.
    grow = max(0.0, 0.5 / scale - 0.5)
    elements = [
        _Element(
            BUTTON_INDEX[name], _rect(u, v, x0 - grow, y0 - grow, x1 + grow, y1 + grow), BRIGHT, DIM
        )
        for name, (x0, y0, x1, y1) in rects.items()
    ]
    elements.append(_Element(BUTTON_INDEX["guide"], _circle(u, v, 50, 16, 5), BRIGHT, DIM))
    faces = {"north": (80, 31), "south": (80, 49), "west": (71, 40), "east": (89, 40)}
    for name, (cx, cy) in faces.items():
        on = FACE_COLORS[name]
        off = tuple(round(c * DIM_FACE_SCALE) for c in on)
        elements.append(_Element(BUTTON_INDEX[name], _circle(u, v, cx, cy, 4.8), on, off))
    return elements
