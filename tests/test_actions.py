import numpy as np
import pyarrow as pa
import pytest

from nitrogen_hf.actions import (
    ACTION_DIM,
    ACTION_NAMES,
    ATARI_ACTIONS,
    ATARI_OBSERVED,
    BUTTON_INDEX,
    BUTTONS,
    CRAFTER_ACTIONS,
    DOOM_ANGLE_UNIT,
    DOOM_ENGINE_BUTTONS,
    AtariActionMap,
    CrafterActionMap,
    DoomActionMap,
    GamepadActions,
    atari_buttons,
    observed_mask,
)


def random_actions(n: int, seed: int = 0) -> GamepadActions:
    rng = np.random.default_rng(seed)
    return GamepadActions(
        rng.integers(0, 2, (n, 21)),
        rng.uniform(-1, 1, (n, 4)).astype(np.float32),
        np.ones(25, bool),
    )


def test_button_order_is_nitrogen_canonical():
    assert len(BUTTONS) == 21 and ACTION_DIM == 25
    assert BUTTONS == tuple(sorted(BUTTONS))  # the released layout is alphabetical
    assert BUTTONS[0] == "back" and BUTTONS[18] == "south" and BUTTONS[-1] == "west"


def test_vector_layout_and_stick_rescaling():
    actions = GamepadActions(
        np.eye(21, dtype=np.uint8)[[18]],
        np.array([[-1.0, 1.0, 0.0, 0.5]], np.float32),
        np.ones(25, bool),
    )
    vector = actions.to_vector()
    assert vector.shape == (1, 25)
    assert vector[0, 18] == 1 and vector[0, :21].sum() == 1
    np.testing.assert_allclose(vector[0, 21:], [0.0, 1.0, 0.5, 0.75])


def test_vector_round_trip_is_lossless():
    actions = random_actions(50)
    back = GamepadActions.from_vector(actions.to_vector())
    np.testing.assert_array_equal(back.buttons, actions.buttons)
    np.testing.assert_allclose(back.sticks, actions.sticks, atol=1e-7)


def test_decoding_thresholds_buttons_and_clips_sticks():
    vector = np.zeros((1, 25))
    vector[0, 0], vector[0, 1], vector[0, 21], vector[0, 22] = 0.51, 0.49, 1.7, -0.2
    decoded = GamepadActions.from_vector(vector)
    assert decoded.buttons[0, 0] == 1 and decoded.buttons[0, 1] == 0
    assert decoded.sticks[0, 0] == 1.0 and decoded.sticks[0, 1] == -1.0


def test_table_and_rows_round_trip_keep_the_observed_mask():
    actions = random_actions(20)
    actions.observed[BUTTON_INDEX["west"]] = False
    actions.observed[23:] = False  # no right stick
    actions = actions[:]  # slices share the mask
    table = actions.to_table()
    assert "west" not in table.column_names and "j_right" not in table.column_names
    back = GamepadActions.from_table(table)
    np.testing.assert_array_equal(back.observed, actions.observed)
    observed_buttons = actions.observed[:21]
    np.testing.assert_array_equal(
        back.buttons[:, observed_buttons], actions.buttons[:, observed_buttons]
    )
    np.testing.assert_allclose(back.sticks[:, :2], actions.sticks[:, :2])
    rows = actions.to_rows()
    assert len(rows) == 20 and isinstance(rows[0]["j_left"], list)
    again = GamepadActions.from_rows(rows)
    np.testing.assert_array_equal(again.buttons, back.buttons)


def test_missing_columns_are_unobserved_zeros():
    table = pa.table({"south": [1, 0, 1], "j_left": [[0.5, -0.5]] * 3})
    actions = GamepadActions.from_table(table)
    assert actions.observed.sum() == 3  # south + j_left.x/y
    assert actions.buttons[:, BUTTON_INDEX["north"]].sum() == 0
    np.testing.assert_array_equal(observed_mask(["south", "j_left"]), actions.observed)


def test_bad_values_are_rejected_with_the_column_name():
    with pytest.raises(ValueError, match="'south'"):
        GamepadActions.from_table(pa.table({"south": [0, 2]}))
    with pytest.raises(ValueError, match="'j_left'"):
        GamepadActions.from_table(pa.table({"j_left": [[0.0, 3.0]]}))


def test_active_frames_ignore_unobserved_dims_and_stick_noise():
    actions = GamepadActions.zeros(4, ATARI_OBSERVED)
    actions.buttons[1, BUTTON_INDEX["south"]] = 1
    actions.buttons[2, BUTTON_INDEX["north"]] = 1  # not on an Atari joystick
    np.testing.assert_array_equal(actions.active_frames(), [False, True, False, False])
    sticks = GamepadActions.zeros(2)
    sticks.sticks[0, 0], sticks.sticks[1, 0] = 0.05, 0.5
    np.testing.assert_array_equal(sticks.active_frames(), [False, True])


def test_all_18_atari_actions_map_to_distinct_gamepad_states_and_back():
    mapping = AtariActionMap(ATARI_ACTIONS)
    states = {tuple(mapping.to_buttons(a)) for a in range(18)}
    assert len(states) == 18
    for a in range(18):
        assert mapping.from_buttons(mapping.to_buttons(a)) == a
    assert atari_buttons("UPLEFTFIRE") == {"dpad_up", "dpad_left", "south"}
    assert atari_buttons("NOOP") == frozenset()


def test_minimal_action_sets_pick_the_closest_action():
    pong = AtariActionMap(["NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE"])
    wanted = np.zeros(21, np.uint8)
    wanted[[BUTTON_INDEX["dpad_right"], BUTTON_INDEX["dpad_up"]]] = 1  # UP is not in Pong's set
    assert pong.meanings[pong.from_buttons(wanted)] == "RIGHT"
    assert pong.from_buttons(np.zeros(21)) == 0
    gamepad = pong.to_gamepad([0, 4, 5])
    assert gamepad.buttons[1, BUTTON_INDEX["south"]] == 1 and gamepad.observed.sum() == 5
    with pytest.raises(ValueError, match="unknown ALE action"):
        AtariActionMap(["JUMP"])


def test_crafter_actions_are_single_distinct_buttons_and_round_trip():
    mapping = CrafterActionMap()
    states = [tuple(mapping.to_buttons(a)) for a in range(len(CRAFTER_ACTIONS))]
    assert len(set(states)) == len(CRAFTER_ACTIONS) == 17
    assert all(sum(s) == (0 if a == 0 else 1) for a, s in enumerate(states))  # noop: nothing
    for a in range(len(CRAFTER_ACTIONS)):
        assert mapping.from_buttons(mapping.to_buttons(a)) == a
    assert CRAFTER_ACTIONS[mapping.from_buttons(mapping.to_buttons(1))] == "move_left"
    assert mapping.observed[:21].sum() == 16 and not mapping.observed[21:].any()
    np.testing.assert_array_equal(mapping.expressible, mapping.observed)


def test_doom_map_executes_what_the_engine_can_and_nothing_else():
    doom = DoomActionMap(["move", "turn", "attack"])
    assert doom.observed[21:].all()  # both sticks carry an enabled axis
    assert [ACTION_NAMES[d] for d in np.flatnonzero(doom.expressible)] == [
        "right_trigger", "j_left.y", "j_right.x",
    ]  # fmt: skip
    buttons = np.zeros(21, np.uint8)
    buttons[[BUTTON_INDEX["right_trigger"], BUTTON_INDEX["south"]]] = 1  # use: not enabled
    action = doom.from_pad(buttons, [0.9, 0.5, 0.333, 1.0])
    assert dict(zip(DOOM_ENGINE_BUTTONS, action, strict=True))["MOVE_FORWARD_BACKWARD_DELTA"] == 25
    assert action[0] == 0 and action[3] == 0 and action[4:] == (1.0, 0.0, 0.0, 0.0)
    executed_buttons, executed = doom.to_pad(action)
    assert executed_buttons.sum() == 1 and executed_buttons[BUTTON_INDEX["right_trigger"]]
    assert executed[1] == 0.5 and abs(executed[2] - 0.333) < DOOM_ANGLE_UNIT / 7  # 1/65536 turn
    assert doom.from_pad(executed_buttons, executed) == action  # executed states are fixed points
    # The dead zone: a stick barely off centre does nothing.
    assert doom.from_pad(np.zeros(21), [0.0, 0.05, 0.06, 0.0])[:4] == (0.0, 0.0, 0.0, 0.0)
    gamepad = doom.to_gamepad([action, action])
    assert gamepad.sticks.shape == (2, 4) and gamepad.observed.sum() == 4 + 1
    with pytest.raises(ValueError, match="unknown ViZDoom controls"):
        DoomActionMap(["jump"])
