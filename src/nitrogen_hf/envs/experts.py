"""Scripted expert players that read object positions from the Atari RAM.

RAM addresses were found by correlating every RAM byte with object positions measured in
the frames (tests/envs/test_experts.py re-checks them against pixels). Coordinates below
are raw RAM units. The experts predict where the ball meets the paddle, bouncing it off the
walls, and steer the paddle there; a small slip probability makes them human-imperfect and
makes episodes differ between seeds. Tuned at 30 fps; they still win at 15 and 60.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# Pong: RAM byte -> meaning. Our (right, green) paddle's top is at pixel row ram[51] - 14.
PONG_RAM = {"ball_x": 49, "ball_y": 54, "player_y": 51, "enemy_y": 50}
# Breakout: the paddle's left edge is at pixel column ram[72] - 47; the ball at ram[99] - 49.
BREAKOUT_RAM = {"ball_x": 99, "ball_y": 101, "paddle_x": 72}


def reflect(value: float, low: float, high: float) -> float:
    """Fold `value` into [low, high] the way a ball bounces between two walls."""
    span = high - low
    if span <= 0:
        return low
    offset = (value - low) % (2 * span)
    return low + (offset if offset <= span else 2 * span - offset)


def predict_crossing(
    along: float,
    across: float,
    d_along: float,
    d_across: float,
    target: float,
    low: float,
    high: float,
) -> float:
    """Where a ball moving (d_along, d_across) per step reaches `along == target`, with bounces."""
    steps = max(0.0, (target - along) / d_along)
    return reflect(across + d_across * steps, low, high)


def _index(meanings: Sequence[str], name: str) -> int:
    if name not in meanings:
        raise ValueError(f"expert needs the ALE action {name!r}; this env has {list(meanings)}")
    return list(meanings).index(name)


@dataclass(frozen=True)
class PongConfig:
    """Pong geometry in RAM units, measured on ALE/Pong-v5."""

    paddle_plane: int = 189  # ball_x at which the ball reaches our paddle
    paddle_offset: int = -7  # player_y that centres the paddle on a ball at ball_y: ball_y - 7
    wall_top: int = 46  # ball_y range between the walls
    wall_bottom: int = 206
    aim: int = 3  # meet the ball off-centre: steeper returns that the CPU misses
    rest_y: int = 120  # paddle position while no ball is in play
    deadzone: int = 1  # no move when this close: avoids jitter
    slip_probability: float = 0.02  # a random action now and then


class PongExpert:
    """Moves the paddle (RIGHT = up, LEFT = down) to where the ball will cross its line."""

    def __init__(self, meanings: Sequence[str], config: PongConfig | None = None):
        self.config = config or PongConfig()
        self.num_actions = len(meanings)
        self.noop, self.up, self.down = (_index(meanings, n) for n in ("NOOP", "RIGHT", "LEFT"))
        self.reset()

    def reset(self) -> None:
        self._previous: tuple[int, int] | None = None

    def act(self, observation: np.ndarray, ram: np.ndarray, rng: np.random.Generator) -> int:
        target = self._target(int(ram[PONG_RAM["ball_x"]]), int(ram[PONG_RAM["ball_y"]]))
        if rng.random() < self.config.slip_probability:
            return int(rng.integers(self.num_actions))
        paddle = int(ram[PONG_RAM["player_y"]])
        if paddle > target + self.config.deadzone:
            return self.up
        if paddle < target - self.config.deadzone:
            return self.down
        return self.noop

    def _target(self, ball_x: int, ball_y: int) -> float:
        """Paddle RAM y to aim for; tracks the ball when it moves away from us."""
        config, previous = self.config, self._previous
        self._previous = (ball_x, ball_y) if ball_x and ball_y else None
        if not (ball_x and ball_y):
            return config.rest_y
        if previous is None or ball_x <= previous[0]:
            return ball_y + config.paddle_offset
        crossing = predict_crossing(
            ball_x, ball_y, ball_x - previous[0], ball_y - previous[1],
            config.paddle_plane, config.wall_top, config.wall_bottom,
        )  # fmt: skip
        return crossing + config.paddle_offset + config.aim


@dataclass(frozen=True)
class BreakoutConfig:
    """Breakout geometry in RAM units, measured on ALE/Breakout-v5."""

    paddle_plane: int = 176  # ball_y at which the ball reaches the paddle
    paddle_offset: int = -9  # paddle_x that centres the paddle under a ball at ball_x
    wall_left: int = 57  # ball_x range between the side walls
    wall_right: int = 198
    deadzone: int = 3  # no move when this close: the paddle overshoots small corrections
    momentum_gain: float = 1.0  # the paddle keeps sliding: steer on position + gain * velocity
    slip_probability: float = 0.02  # a random action now and then


class BreakoutExpert:
    """Serves with FIRE, then slides the paddle under the ball's predicted landing point."""

    def __init__(self, meanings: Sequence[str], config: BreakoutConfig | None = None):
        self.config = config or BreakoutConfig()
        self.num_actions = len(meanings)
        names = ("NOOP", "FIRE", "RIGHT", "LEFT")
        self.noop, self.fire, self.right, self.left = (_index(meanings, n) for n in names)
        self.reset()

    def reset(self) -> None:
        self._previous_ball: tuple[int, int] | None = None
        self._previous_paddle: int | None = None
        self._served = False

    def act(self, observation: np.ndarray, ram: np.ndarray, rng: np.random.Generator) -> int:
        ball_x, ball_y = int(ram[BREAKOUT_RAM["ball_x"]]), int(ram[BREAKOUT_RAM["ball_y"]])
        paddle = int(ram[BREAKOUT_RAM["paddle_x"]])
        velocity = 0 if self._previous_paddle is None else paddle - self._previous_paddle
        self._previous_paddle = paddle
        if rng.random() < self.config.slip_probability:
            return int(rng.integers(self.num_actions))
        if not (ball_x and ball_y):  # no ball in play: press FIRE (a fresh press, so alternate)
            self._previous_ball, self._served = None, not self._served
            return self.fire if self._served else self.noop
        target = self._target(ball_x, ball_y)
        steered = paddle + self.config.momentum_gain * velocity
        if steered < target - self.config.deadzone:
            return self.right
        if steered > target + self.config.deadzone:
            return self.left
        return self.noop

    def _target(self, ball_x: int, ball_y: int) -> float:
        """Paddle RAM x to aim for: the landing point when falling, the ball's x when rising."""
        config, previous = self.config, self._previous_ball
        self._previous_ball = (ball_x, ball_y)
        if previous is None or ball_y <= previous[1]:
            return ball_x + config.paddle_offset
        landing = predict_crossing(
            ball_y, ball_x, ball_y - previous[1], ball_x - previous[0],
            config.paddle_plane, config.wall_left, config.wall_right,
        )  # fmt: skip
        return landing + config.paddle_offset


@dataclass(frozen=True)
class FreewayConfig:
    """Freeway needs no positions: a cars' hit only pushes the chicken back a lane."""

    slip_probability: float = 0.02  # a random action now and then


class FreewayExpert:
    """Runs the chicken up without stopping: about 21 crossings per 2:16 game, random gets ~0."""

    def __init__(self, meanings: Sequence[str], config: FreewayConfig | None = None):
        self.config = config or FreewayConfig()
        self.num_actions = len(meanings)
        self.up = _index(meanings, "UP")

    def reset(self) -> None:
        pass

    def act(self, observation: np.ndarray, ram: np.ndarray, rng: np.random.Generator) -> int:
        if rng.random() < self.config.slip_probability:
            return int(rng.integers(self.num_actions))
        return self.up


# Game name (as `atari.game_name` gives it) -> expert class taking the env's action meanings.
EXPERTS: dict[str, Callable[[Sequence[str]], object]] = {
    "pong": PongExpert,
    "breakout": BreakoutExpert,
    "freeway": FreewayExpert,
}
