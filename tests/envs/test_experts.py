"""The scripted experts: their RAM addresses match the pixels, and they beat random play."""

import numpy as np
import pytest

from nitrogen_hf.envs.atari import AtariGame, make_env
from nitrogen_hf.envs.experts import BREAKOUT_RAM, PONG_RAM
from nitrogen_hf.envs.policies import make_policy
from nitrogen_hf.envs.recorder import play_episode

PONG_PADDLE = (92, 186, 92)  # our (right) paddle
PONG_BALL = (236, 236, 236)
BREAKOUT_RED = (200, 72, 72)  # paddle and ball


def _random_frames(env_id: str, steps: int, seed: int = 0):
    """(observation, ram) pairs under random play, FIRE first so Breakout serves."""
    env = make_env(env_id, 30)
    rng = np.random.default_rng(seed)
    observation, _ = env.reset(seed=seed)
    out = []
    for t in range(steps):
        action = 1 if t % 50 == 0 else int(rng.integers(env.action_space.n))
        observation, *_ = env.step(action)
        out.append((observation, env.unwrapped.ale.getRAM().copy()))
    env.close()
    return out


def _pixels(frame: np.ndarray, color: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    return np.nonzero((frame == color).all(axis=-1))


def test_pong_ram_matches_pixels():
    checked = 0
    for frame, ram in _random_frames("ALE/Pong-v5", 600):
        play = frame[34:194]  # between the walls
        rows, _ = _pixels(play, PONG_PADDLE)
        if len(np.unique(rows)) == 16:  # paddle fully on screen
            assert rows.min() + 34 - ram[PONG_RAM["player_y"]] in (-14, -13)
        ball_rows, ball_cols = _pixels(play, PONG_BALL)
        if len(ball_rows) == 8:  # ball fully on screen
            assert ball_cols.min() == ram[PONG_RAM["ball_x"]] - 49
            assert abs(ball_rows.mean() + 34 - (ram[PONG_RAM["ball_y"]] - 13)) <= 0.5
            checked += 1
    assert checked > 100


def test_breakout_ram_matches_pixels():
    checked = 0
    for frame, ram in _random_frames("ALE/Breakout-v5", 600):
        _, cols = _pixels(frame[189:194, 8:152], BREAKOUT_RED)
        ball_rows, ball_cols = _pixels(frame[100:188, 8:152], BREAKOUT_RED)
        if len(cols) and not len(ball_rows) and cols.max() - cols.min() == 15:
            assert cols.min() + 8 == ram[BREAKOUT_RAM["paddle_x"]] - 47
        if len(ball_rows) == 8:
            assert ball_cols.min() + 8 == ram[BREAKOUT_RAM["ball_x"]] - 49
            assert abs(ball_rows.mean() + 100 - (ram[BREAKOUT_RAM["ball_y"]] + 10.75)) <= 1.5
            checked += 1
    assert checked > 20


def _mean_return(env_id: str, game: str, policy_name: str, seconds: int, episodes: int = 2):
    env = AtariGame(env_id, 30)
    meanings = env.controls.meanings
    returns = []
    for episode in range(episodes):
        policy = make_policy(policy_name, game, meanings, 30)
        rng = np.random.default_rng(episode)
        returns.append(play_episode(env, policy, episode, rng, seconds * 30).total_return)
    env.close()
    return float(np.mean(returns))


@pytest.mark.parametrize(
    ("env_id", "game", "seconds", "margin"),
    [
        ("ALE/Pong-v5", "pong", 20, 3),  # random concedes ~3 points in 20 s, the expert ~0
        ("ALE/Breakout-v5", "breakout", 20, 5),
        ("ALE/Freeway-v5", "freeway", 20, 2),
    ],
)
def test_expert_beats_random(env_id, game, seconds, margin):
    expert = _mean_return(env_id, game, "expert", seconds)
    random = _mean_return(env_id, game, "random", seconds)
    assert expert >= random + margin, (expert, random)
