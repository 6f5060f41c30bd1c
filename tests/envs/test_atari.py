import pytest

from nitrogen_hf.envs.atari import frameskip_for, game_name, make_env, rom_name


@pytest.mark.parametrize(("fps", "skip"), [(60, 1), (30, 2), (15, 4), (1, 60)])
def test_frameskip_for_divisors_of_60(fps, skip):
    assert frameskip_for(fps) == skip


@pytest.mark.parametrize("fps", [0, -30, 25, 24, 7, 120])
def test_frameskip_rejects_other_rates(fps):
    with pytest.raises(ValueError, match=rf"fps={fps} must divide 60; use one of \[1, 2, 3"):
        frameskip_for(fps)


@pytest.mark.parametrize(
    ("env_id", "game"),
    [
        ("ALE/Pong-v5", "pong"),
        ("ALE/MsPacman-v5", "ms_pacman"),
        ("ALE/SpaceInvaders-v5", "space_invaders"),
    ],
)
def test_game_names_are_snake_case(env_id, game):
    assert game_name(env_id) == game


@pytest.mark.parametrize("env_id", ["Pong-v5", "ALE/Pong-v4", "PongNoFrameskip-v4", "ALE/Pong"])
def test_only_ale_v5_ids(env_id):
    with pytest.raises(ValueError, match="ALE/Pong-v5"):
        rom_name(env_id)


def test_env_is_deterministic_with_minimal_actions():
    env = make_env("ALE/Breakout-v5", 30)
    assert env.unwrapped.get_action_meanings() == ["NOOP", "FIRE", "RIGHT", "LEFT"]
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.0
    observation, _ = env.reset(seed=3)
    env.step(1)
    _, _, _, _, info = env.step(0)
    assert info["episode_frame_number"] == 4  # two actions of two frames each
    env.close()
