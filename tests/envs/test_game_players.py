"""Players of the analog and open-world games: random and sticky pads, scripted experts."""

import numpy as np
import pytest

from nitrogen_hf.actions import BUTTON_INDEX, DoomActionMap
from nitrogen_hf.envs.backend import backend_for
from nitrogen_hf.envs.policies import RandomPad, StickyPad
from nitrogen_hf.envs.recorder import play_episode


def _pads(policy, controls, steps: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    policy.reset()
    pads = [controls.to_pad(policy.act(None, None, rng)) for _ in range(steps)]
    return np.stack([b for b, _ in pads]), np.stack([s for _, s in pads])


def test_random_pad_covers_the_enabled_controls_only():
    controls = DoomActionMap(["turn", "move", "attack"])
    buttons, sticks = _pads(RandomPad(controls), controls, 2000)
    assert 0.45 < buttons[:, BUTTON_INDEX["right_trigger"]].mean() < 0.55
    assert buttons.sum() == buttons[:, BUTTON_INDEX["right_trigger"]].sum()
    assert not sticks[:, [0, 3]].any()  # strafe and look are off in this scenario
    assert sticks[:, 1].min() < -0.9 and sticks[:, 2].max() > 0.9


def test_sticky_pad_holds_states_for_human_durations():
    controls = DoomActionMap(["strafe", "move", "turn", "attack"])
    buttons, sticks = _pads(StickyPad(controls, fps=35), controls, 7000)
    states = np.concatenate([buttons, sticks], axis=1)
    changes = np.flatnonzero((np.diff(states, axis=0) != 0).any(axis=1))
    holds = np.diff(changes)
    assert holds.min() >= 2 and 0.2 * 35 <= np.median(holds) <= 0.6 * 35
    assert (np.abs(sticks).max(axis=1) == 0).mean() > 0.1  # idle stretches with sticks at rest


def _mean_return(env_id: str, policy: str, frames: int, seeds=(0, 1)) -> float:
    backend = backend_for(env_id)
    env = backend.make(backend.default_fps)
    player = backend.player(policy, env, backend.default_fps)
    returns = [
        play_episode(env, player, seed, np.random.default_rng(seed), frames).total_return
        for seed in seeds
    ]
    env.close()
    return float(np.mean(returns))


@pytest.mark.parametrize(
    ("env_id", "frames", "seeds", "margin"),
    [
        ("vizdoom/defend_the_center", 35 * 20, (0, 1), 5),  # random kills ~1, the expert ~10
        ("vizdoom/basic", 35 * 5, (0, 1), 50),  # the expert shoots the monster within a second
        ("crafter/default", 150, (0,), 2),  # random unlocks ~1 achievement, the expert ~6
    ],
)
def test_expert_beats_random(env_id, frames, seeds, margin):
    expert = _mean_return(env_id, "expert", frames, seeds)
    random = _mean_return(env_id, "random", frames, seeds)
    assert expert >= random + margin, (expert, random)
