"""Counterfactual probes: the known cases of Breakout, and rollouts that replay exactly."""

import numpy as np
import pytest

from nitrogen_hf.actions import ACTION_NAMES, BUTTON_INDEX, AtariActionMap, DoomActionMap
from nitrogen_hf.envs.atari import AtariGame
from nitrogen_hf.envs.backend import backend_for
from nitrogen_hf.envs.probes import ProbeConfig, alternatives, episode_masks, frame_mask


def _identifiable(game, action, horizon: int = 8) -> set[str]:
    mask = frame_mask(game, game.snapshot(), [action] * horizon)
    return {ACTION_NAMES[d] for d in np.flatnonzero(mask)}


def test_breakout_fire_matters_only_without_a_ball_and_left_at_the_wall_does_nothing():
    game = AtariGame("ALE/Breakout-v5", 30)
    action = {name: i for i, name in enumerate(game.controls.meanings)}
    game.reset(0)
    for _ in range(5):
        game.step(action["NOOP"])
    assert _identifiable(game, action["NOOP"]) == {"dpad_left", "dpad_right", "south"}
    for _ in range(40):  # slide the paddle against the left wall
        game.step(action["LEFT"])
    assert _identifiable(game, action["NOOP"]) == {"dpad_right", "south"}
    assert _identifiable(game, action["LEFT"]) == {"dpad_right", "south"}  # letting go: same
    game.step(action["FIRE"])
    for _ in range(10):
        game.step(action["NOOP"])
    assert game.info()[101] > 0  # the ball is in play (its RAM y)
    assert _identifiable(game, action["NOOP"]) == {"dpad_right"}  # FIRE does nothing now
    game.close()


def test_alternatives_toggle_buttons_and_push_sticks_the_other_way():
    atari = AtariActionMap(["NOOP", "FIRE", "RIGHT", "LEFT", "UPRIGHT"])
    changed = alternatives(atari, 2)  # RIGHT
    assert set(changed) == {
        BUTTON_INDEX[b] for b in ("dpad_up", "dpad_right", "dpad_left", "south")
    }
    assert atari.meanings[changed[BUTTON_INDEX["dpad_left"]]] == "LEFT"  # lets go of right
    assert atari.meanings[changed[BUTTON_INDEX["dpad_up"]]] == "UPRIGHT"
    doom = DoomActionMap(["turn", "attack"])
    action = doom.from_pad(np.zeros(21), [0, 0, 0.5, 0])
    changed = alternatives(doom, action)
    assert set(changed) == {BUTTON_INDEX["right_trigger"], 23}  # attack, j_right.x
    assert doom.to_pad(changed[23])[1][2] == pytest.approx(-1.0, abs=1e-3)


@pytest.mark.parametrize("env_id", ["ALE/Breakout-v5", "crafter/default", "vizdoom/deathmatch"])
def test_rollouts_replay_the_live_game_exactly_and_leave_it_untouched(env_id):
    backend = backend_for(env_id)
    fps = backend.default_fps

    def play(probe: bool) -> tuple[list, list]:
        env = backend.make(fps)
        player = backend.player("sticky", env, fps)
        rng, observation = np.random.default_rng(0), env.reset(7)
        frames, actions, rollouts = [], [], {}
        for t in range(30):
            if probe and t in (0, 12):
                snapshot = env.snapshot()
            action = player.act(observation, env.info(), rng)
            observation = env.step(action).observation
            frames.append(observation)
            actions.append(action)
            if probe and t in (5, 17):  # probe a past frame mid-episode
                start = t - 5
                rollouts[start] = env.rollout(snapshot, actions[start : start + 4])
        env.close()
        return frames, actions, rollouts

    live, actions, _ = play(probe=False)
    probed, probed_actions, rollouts = play(probe=True)
    assert probed_actions == actions
    assert all(np.array_equal(a, b) for a, b in zip(live, probed, strict=True))  # untouched
    for start, frames in rollouts.items():
        assert len(frames) == 4
        assert all(np.array_equal(a, b) for a, b in zip(frames, live[start:], strict=False))


def test_episode_masks_fill_probed_frames_only():
    game = AtariGame("ALE/Pong-v5", 30)
    game.reset(0)
    snapshots, actions = {}, []
    for t in range(12):
        if t % 5 == 0:
            snapshots[t] = game.snapshot()
        actions.append(2)
        game.step(2)
    masks = episode_masks(game, snapshots, actions, horizon=4)
    assert masks.shape == (12, 25) and masks.dtype == np.int8
    assert [bool((masks[t] >= 0).all()) for t in range(12)] == [t % 5 == 0 for t in range(12)]
    assert not masks[0, 21:].any()  # no sticks on a joystick
    game.close()


def test_probe_config_interval_and_checks():
    assert ProbeConfig(every_s=1.0).interval(30) == 30
    assert ProbeConfig(every_s=0.0).interval(30) == 0
    assert ProbeConfig(every_s=0.01).interval(10) == 1
    with pytest.raises(ValueError, match="horizon"):
        ProbeConfig(horizon=0)
