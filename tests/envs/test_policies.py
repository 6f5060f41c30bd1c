import numpy as np
import pytest

from nitrogen_hf.envs.experts import predict_crossing, reflect
from nitrogen_hf.envs.policies import RandomPolicy, StickyConfig, StickyPolicy, make_policy

PONG = ["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"]
OBS, RAM = np.zeros((210, 160, 3), np.uint8), np.zeros(128, np.uint8)


def _roll(policy, steps: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    policy.reset()
    return np.array([policy.act(OBS, RAM, rng) for _ in range(steps)])


def _runs(actions: np.ndarray) -> list[tuple[int, int]]:
    """(action, length) of each run of equal actions."""
    edges = np.flatnonzero(np.diff(actions)) + 1
    return [(int(r[0]), len(r)) for r in np.split(actions, edges)]


def test_random_is_uniform_and_reproducible():
    actions = _roll(RandomPolicy(PONG), 6000)
    counts = np.bincount(actions, minlength=6)
    assert counts.min() > 850 and counts.max() < 1150
    assert (actions == _roll(RandomPolicy(PONG), 6000)).all()
    assert not (actions == _roll(RandomPolicy(PONG), 6000, seed=1)).all()


def test_sticky_holds_presses_for_human_durations():
    config = StickyConfig()
    fps = 30
    runs = _runs(_roll(StickyPolicy(PONG, fps, config), 30_000))
    presses = [n for a, n in runs[:-1] if a != 0]
    # Runs can merge when the same action is drawn twice, so compare with some slack.
    assert min(n for _, n in runs[:-1]) >= config.min_hold_frames
    assert 0.25 * fps <= np.median(presses) <= 0.45 * fps
    idle_share = np.mean(_roll(StickyPolicy(PONG, fps), 30_000) == 0)
    assert 0.15 < idle_share < 0.5
    assert (_roll(StickyPolicy(PONG, fps), 500) == _roll(StickyPolicy(PONG, fps), 500)).all()


def test_sticky_scales_with_fps():
    slow = np.median([n for _, n in _runs(_roll(StickyPolicy(PONG, 15), 20_000))])
    fast = np.median([n for _, n in _runs(_roll(StickyPolicy(PONG, 60), 20_000))])
    assert 3 < fast / slow < 5


def test_unknown_expert_lists_the_games_that_have_one():
    with pytest.raises(ValueError, match=r"ms_pacman.*\['breakout', 'freeway', 'pong'\]"):
        make_policy("expert", "ms_pacman", ["NOOP", "UP"], 30)
    with pytest.raises(ValueError, match="unknown policy 'greedy'"):
        make_policy("greedy", "pong", PONG, 30)


def test_expert_needs_its_actions():
    with pytest.raises(ValueError, match="'RIGHT'"):
        make_policy("expert", "pong", ["NOOP", "FIRE"], 30)


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5), (-3, 3), (13, 7), (25, 5), (0, 0), (10, 10)]
)
def test_reflect_bounces_between_walls(value, expected):
    assert reflect(value, 0, 10) == expected


def test_predict_crossing_with_a_bounce():
    # From (0, 8) moving (+2, +1) per step: reaches along=10 after 5 steps at 13 -> bounces to 7.
    assert predict_crossing(0, 8, 2, 1, 10, 0, 10) == 7
    assert predict_crossing(12, 4, 2, 1, 10, 0, 10) == 4  # already past: no extrapolation
