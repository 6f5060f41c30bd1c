import numpy as np
import pytest

from nitrogen_hf.actions import ATARI_BUTTONS, BUTTON_INDEX, BUTTONS, NUM_BUTTONS
from nitrogen_hf.envs.overlay import GamepadOverlay, OverlayConfig, overlay_box

HEIGHT, WIDTH = 210, 160


@pytest.fixture(scope="module")
def overlay() -> GamepadOverlay:
    return GamepadOverlay(HEIGHT, WIDTH)


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)


def _press(*names: str) -> np.ndarray:
    buttons = np.zeros(NUM_BUTTONS, np.uint8)
    for name in names:
        buttons[BUTTON_INDEX[name]] = 1
    return buttons


def _inside(box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[y : y + h, x : x + w] = True
    return mask


def test_default_box_is_a_small_bottom_right_panel(overlay):
    x, y, w, h = overlay.box
    assert (w, h) == (56, 42)  # 35% of 160, 20% of 210
    assert x + w == WIDTH - 2 and y + h == HEIGHT - 2


@pytest.mark.parametrize("corner", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_corners_stay_inside_the_frame(corner):
    x, y, w, h = overlay_box(HEIGHT, WIDTH, OverlayConfig(corner=corner))
    assert 0 <= x and x + w <= WIDTH and 0 <= y and y + h <= HEIGHT
    assert (x < WIDTH / 2) == corner.endswith("left") and (y < HEIGHT / 2) == corner.startswith(
        "top"
    )


def test_drawing_touches_only_the_box(overlay, frame):
    drawn = overlay.draw(frame, np.ones(NUM_BUTTONS, np.uint8))
    changed = (drawn != frame).any(axis=-1)
    assert changed.any()
    assert not changed[~_inside(overlay.box)].any()
    assert drawn.dtype == np.uint8 and drawn.shape == frame.shape


@pytest.mark.parametrize("name", BUTTONS)
def test_every_button_lights_up_inside_the_box(overlay, frame, name):
    idle = overlay.draw(frame, _press())
    pressed = overlay.draw(frame, _press(name))
    changed = (idle != pressed).any(axis=-1)
    assert changed.sum() >= 2, f"{name} is not visible"
    assert not changed[~_inside(overlay.box)].any()
    # Pressed is clearly brighter than released, not a subtle shade.
    brightness_gain = pressed[changed].astype(int).max(-1) - idle[changed].astype(int).max(-1)
    assert brightness_gain.mean() > 100, name


def test_atari_buttons_light_distinct_pixels(overlay, frame):
    idle = overlay.draw(frame, _press())
    masks = [(overlay.draw(frame, _press(b)) != idle).any(-1) for b in ATARI_BUTTONS]
    for i in range(len(masks)):
        for j in range(i + 1, len(masks)):
            assert not (masks[i] & masks[j]).any(), (ATARI_BUTTONS[i], ATARI_BUTTONS[j])


def test_stick_knob_moves_with_the_stick(overlay, frame):
    centred = overlay.draw(frame, _press(), np.zeros(4))
    pushed = overlay.draw(frame, _press(), np.array([1.0, 0.0, 0.0, -1.0]))
    assert (centred != pushed).any()


def test_panel_is_semi_opaque(overlay):
    black = overlay.draw(np.zeros((HEIGHT, WIDTH, 3), np.uint8), _press())
    white = overlay.draw(np.full((HEIGHT, WIDTH, 3), 255, np.uint8), _press())
    x, y, _, _ = overlay.box
    assert black[y, x].max() < white[y, x].min()  # the game shows through the corner


def test_bad_inputs_are_rejected(overlay, frame):
    with pytest.raises(ValueError, match="21"):
        overlay.draw(frame, np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="does not fit"):
        overlay_box(20, 20, OverlayConfig(width_fraction=1.0))
