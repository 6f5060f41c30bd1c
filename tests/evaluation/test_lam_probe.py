import numpy as np
import pytest

from nitrogen_hf.actions import BUTTON_INDEX
from nitrogen_hf.evaluation.lam_eval import (
    TransitionTable,
    normalized_mutual_information,
    probe_scores,
)
from nitrogen_hf.evaluation.lam_probe import fit_code_table, fit_logistic_probe
from nitrogen_hf.evaluation.lam_report import select_labeled_chunks

LEFT, RIGHT = BUTTON_INDEX["dpad_left"], BUTTON_INDEX["dpad_right"]


def labeled(n: int = 300, seed: int = 0):
    """Code 0 -> left, code 1 -> right, code 2 -> nothing; embeddings separate the three."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, n)
    targets = np.zeros((n, 25), np.float32)
    targets[:, 21:] = 0.5
    targets[codes == 0, LEFT] = 1
    targets[codes == 1, RIGHT] = 1
    observed = np.zeros((n, 25), bool)
    observed[:, [LEFT, RIGHT]] = True
    embeddings = np.eye(3)[codes] * 2 + 0.1 * rng.standard_normal((n, 3))
    return codes, embeddings, targets, observed


def test_code_table_holds_each_codes_majority_and_falls_back_for_unseen_codes():
    codes, _, targets, observed = labeled()
    table = fit_code_table(codes, targets, observed, num_codes=5)
    assert table[0, LEFT] == 1 and table[0, RIGHT] == 0
    assert table[1, RIGHT] == 1 and table[2, [LEFT, RIGHT]].sum() == 0
    assert table[4, [LEFT, RIGHT]].sum() == 0  # never seen: the overall majority (no-op)


def test_logistic_probe_reads_buttons_from_embeddings():
    codes, embeddings, targets, observed = labeled()
    probe = fit_logistic_probe(embeddings, targets, observed)
    assert probe.learned[LEFT] and probe.learned[RIGHT] and not probe.learned[0]
    _, test_embeddings, test_targets, _ = labeled(seed=1)
    predicted = probe.predict(test_embeddings)
    assert ((predicted[:, LEFT] > 0.5) == (test_targets[:, LEFT] > 0.5)).mean() > 0.95
    assert (predicted[:, 0] == 0).all()  # an unlearned button keeps its majority state


def test_probe_scores_compare_methods_per_game():
    codes, embeddings, targets, observed = labeled()
    table = TransitionTable(codes, embeddings, targets, observed, np.full(len(codes), "g"))
    scores = probe_scores(table, table, num_codes=3)
    assert scores["lam_code_table"]["overall"]["macro_f1"] == pytest.approx(1.0)
    assert scores["lam_logistic_per_game"]["g"]["macro_f1"] > 0.95
    assert scores["majority"]["overall"]["macro_f1"] == 0.0
    assert scores["always_pressed"]["overall"]["macro_f1"] == pytest.approx(
        2 * (1 / 3) / (1 + 1 / 3), abs=0.05
    )
    assert "idm" not in scores  # no IDM predictions in the table


def test_normalized_mutual_information_bounds():
    codes, _, targets, _ = labeled()
    buttons = targets[:, :21] > 0.5
    assert normalized_mutual_information(codes, buttons) == pytest.approx(1.0)
    shuffled = np.random.default_rng(5).permutation(codes)
    assert normalized_mutual_information(shuffled, buttons) < 0.02
    assert normalized_mutual_information(np.zeros(10, int), buttons[:10]) == 0.0


def test_labeled_budget_covers_every_game():
    rows = [{"uuid": f"{g}{i}", "game": g, "num_frames": 100} for g in "ab" for i in range(20)]
    rows.append({"uuid": "c0", "game": "c", "num_frames": 100})
    chosen = select_labeled_chunks(rows, fraction=0.1, seed=0)
    assert sum(u.startswith("a") for u in chosen) == 2
    assert sum(u.startswith("b") for u in chosen) == 2
    assert chosen.count("c0") == 1  # a game with one chunk still gets it
    assert chosen == select_labeled_chunks(rows, fraction=0.1, seed=0)
