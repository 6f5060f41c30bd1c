import numpy as np

from nitrogen_hf.actions import BUTTON_INDEX
from nitrogen_hf.evaluation.idm_metrics import (
    identifiable_observed,
    identifiable_shares,
    macro_f1,
    majority_vector,
    score_by_group,
    score_labels,
)

SOUTH, UP, WEST = BUTTON_INDEX["south"], BUTTON_INDEX["dpad_up"], BUTTON_INDEX["west"]


def vectors(n: int) -> np.ndarray:
    out = np.zeros((n, 25), np.float32)
    out[:, 21:] = 0.5  # sticks centred
    return out


def test_per_button_scores_and_macro_f1_skip_buttons_without_support():
    target, predicted = vectors(4), vectors(4)
    target[[0, 1], SOUTH] = 1
    predicted[[0, 2], SOUTH] = 0.9  # tp=1, fp=1, fn=1
    target[[3], UP] = 1
    predicted[[3], UP] = 0.8  # perfect
    observed = np.zeros((4, 25), bool)
    observed[:, [SOUTH, UP, WEST]] = True  # west observed but never pressed: no support
    scores = score_labels(predicted, target, observed)
    assert (
        scores["buttons"]["south"]["precision"] == 0.5
        and scores["buttons"]["south"]["recall"] == 0.5
    )
    assert scores["buttons"]["dpad_up"]["f1"] == 1.0
    assert scores["buttons"]["west"]["support"] == 0
    assert scores["macro_f1"] == 0.75  # mean of south 0.5 and up 1.0; west excluded
    assert scores["exact_match"] == 0.5  # frames 1 and 2 wrong
    assert "north" not in scores["buttons"]  # unobserved


def test_unobserved_dims_do_not_count():
    target, predicted = vectors(2), vectors(2)
    predicted[:, SOUTH] = 1.0
    observed = np.zeros((2, 25), bool)
    observed[:, UP] = True
    assert score_labels(predicted, target, observed)["exact_match"] == 1.0


def test_sticks_mae_and_r2():
    target, predicted = vectors(3), vectors(3)
    target[:, 21] = [0.0, 0.5, 1.0]  # -1, 0, 1
    predicted[:, 21] = [0.0, 0.5, 1.0]
    observed = np.zeros((3, 25), bool)
    observed[:, 21] = True
    sticks = score_labels(predicted, target, observed)["sticks"]
    assert sticks["j_left.x"]["mae"] == 0 and sticks["j_left.x"]["r2"] == 1.0
    assert "j_left.y" not in sticks


def test_groups_and_majority_baseline():
    target = vectors(6)
    target[:4, SOUTH] = 1  # pressed most of the time
    observed = np.zeros((6, 25), bool)
    observed[:, [SOUTH, UP]] = True
    majority = majority_vector(target, observed)
    assert majority[SOUTH] == 1 and majority[UP] == 0
    predicted = np.tile(majority, (6, 1))
    result = score_by_group(predicted, target, observed, np.array(["a", "a", "a", "b", "b", "b"]))
    assert set(result) == {"overall", "a", "b"}
    assert result["a"]["exact_match"] == 1.0 and result["b"]["exact_match"] == 1 / 3
    assert macro_f1(result["overall"]["buttons"]) == result["overall"]["macro_f1"]


def test_identifiable_frames_score_only_where_the_screen_shows_the_dim():
    target, predicted = vectors(6), vectors(6)
    target[:3, SOUTH] = 1  # pressed on frames 0-2; the IDM sees only frame 0 of them
    predicted[0, SOUTH] = 0.9
    observed = np.zeros((6, 25), bool)
    observed[:, SOUTH] = True
    identifiable = np.full((6, 25), -1, np.int8)
    identifiable[[0, 3]] = 0
    identifiable[[0, 3], SOUTH] = 1  # probed frames 0 and 3: south shows there
    identifiable[[1], :] = 0  # frame 1 probed: south changes nothing
    mask = identifiable_observed(observed, identifiable)
    assert mask[:, SOUTH].tolist() == [True, False, False, True, False, False]
    everywhere = score_labels(predicted, target, observed)["buttons"]["south"]
    shown = score_labels(predicted, target, mask)["buttons"]["south"]
    assert everywhere["recall"] == 1 / 3 and shown["recall"] == 1.0 and shown["frames"] == 2
    shares = identifiable_shares(observed, identifiable)
    assert shares == {"south": {"probed_frames": 3, "share": 2 / 3}}
