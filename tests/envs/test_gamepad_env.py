import numpy as np
import pytest
import torch

from nitrogen_hf.actions import BUTTON_INDEX
from nitrogen_hf.envs.atari import make_env
from nitrogen_hf.envs.gamepad_env import GamepadActionWrapper, PolicyAgent
from nitrogen_hf.models.policy import NitroGenPolicy, NitroGenPolicyConfig


def test_gamepad_vectors_map_to_the_games_actions():
    env = GamepadActionWrapper(make_env("ALE/Breakout-v5", 30))
    meanings = env.unwrapped.get_action_meanings()
    vector = np.zeros(25, np.float32)
    assert meanings[env.action(vector)] == "NOOP"
    vector[BUTTON_INDEX["dpad_left"]] = 0.9
    assert meanings[env.action(vector)] == "LEFT"
    vector[BUTTON_INDEX["dpad_left"]], vector[BUTTON_INDEX["south"]] = 0.2, 0.7
    assert meanings[env.action(vector)] == "FIRE"
    observation, _ = env.reset(seed=0)
    assert env.step(vector)[0].shape == observation.shape
    env.close()


def test_agent_replans_every_k_steps_from_the_current_frame():
    torch.manual_seed(0)
    policy = NitroGenPolicy(
        NitroGenPolicyConfig.tiny(action_horizon=6, frame_per_sample=2, max_sequence_length=40)
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
