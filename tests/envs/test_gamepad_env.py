import numpy as np
import pytest
import torch

from nitrogen_hf.actions import BUTTON_INDEX, CRAFTER_ACTIONS, CrafterActionMap, DoomActionMap
from nitrogen_hf.envs.atari import AtariGame
from nitrogen_hf.envs.gamepad_env import PolicyAgent, vector_to_action
from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig


def test_gamepad_vectors_map_to_the_games_actions():
    env = AtariGame("ALE/Breakout-v5", 30)
    meanings = env.controls.meanings
    vector = np.full(25, 0.5, np.float32)  # sticks centred
    vector[:21] = 0
    assert meanings[vector_to_action(env.controls, vector)] == "NOOP"
    vector[BUTTON_INDEX["dpad_left"]] = 0.9
    assert meanings[vector_to_action(env.controls, vector)] == "LEFT"
    vector[BUTTON_INDEX["dpad_left"]], vector[BUTTON_INDEX["south"]] = 0.2, 0.7
    assert meanings[vector_to_action(env.controls, vector)] == "FIRE"
    observation = env.reset(0)
    assert env.step(vector_to_action(env.controls, vector)).observation.shape == observation.shape
    env.close()
    with pytest.raises(ValueError, match=r"\(25,\) action vector"):
        vector_to_action(env.controls, np.zeros(21))


def test_vectors_drive_crafter_buttons_and_doom_sticks():
    vector = np.full(25, 0.5, np.float32)
    vector[:21] = 0
    vector[BUTTON_INDEX["north"]] = 1
    assert CRAFTER_ACTIONS[vector_to_action(CrafterActionMap(), vector)] == "place_table"
    doom = DoomActionMap(["turn", "move", "attack"])
    vector[21:] = [1.0, 0.75, 0.0, 0.52]  # strafe (not in this scenario), half forward, turn left
    vector[BUTTON_INDEX["right_trigger"]] = 0.9
    action = vector_to_action(doom, vector)
    buttons, sticks = doom.to_pad(action)
    assert buttons[BUTTON_INDEX["right_trigger"]] == 1 and buttons[BUTTON_INDEX["north"]] == 0
    np.testing.assert_allclose(sticks, [0.0, 0.5, -1.0, 0.0], atol=1e-3)  # look: not enabled


def test_agent_replans_every_k_steps_from_the_current_frame():
    torch.manual_seed(0)
    policy = NitroGenPolicy(
        NitroGenPolicyConfig.preset(
            "tiny", action_horizon=6, frame_per_sample=2, max_sequence_length=40
        )
    )
    agent = PolicyAgent(policy, execute_steps=4)
    frames = [np.full((210, 160, 3), i * 20, np.uint8) for i in range(10)]
    actions = [agent.act(f) for f in frames]
    assert all(a.shape == (25,) for a in actions) and agent.replans == 3  # steps 0, 4, 8
    agent.reset()
    assert [
        np.array_equal(agent.act(f), a) for f, a in zip(frames[:4], actions[:4], strict=True)
    ] == [True] * 4
    with pytest.raises(ValueError, match="execute_steps"):
        PolicyAgent(policy, execute_steps=7)
