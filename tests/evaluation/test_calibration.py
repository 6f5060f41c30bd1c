import numpy as np
import torch

from nitrogen_hf.evaluation.calibration import (
    fit_temperature,
    plot_reliability,
    reliability,
    threshold_for_precision,
)


def test_temperature_scaling_undoes_overconfidence():
    generator = torch.Generator().manual_seed(0)
    true_logits = torch.randn(5000, generator=generator) * 2
    correct = (torch.rand(5000, generator=generator) < torch.sigmoid(true_logits)).numpy()
    # An overconfident model: its logits are 3x too large.
    assert (
        abs(fit_temperature(lambda t: torch.sigmoid(true_logits * 3 / t).numpy(), correct) - 3.0)
        < 0.35
    )
    assert (
        abs(fit_temperature(lambda t: torch.sigmoid(true_logits / t).numpy(), correct) - 1.0) < 0.15
    )


def test_reliability_of_calibrated_and_overconfident_scores(tmp_path):
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0, 1, 50000)
    correct = rng.uniform(0, 1, 50000) < confidence
    assert reliability(confidence, correct)["ece"] < 0.02
    assert reliability(np.ones(50000) * 0.99, correct)["ece"] > 0.4
    table = reliability(confidence, correct)
    assert sum(b["count"] for b in table["bins"]) == 50000
    assert plot_reliability(table, tmp_path / "rel.png").stat().st_size > 1000


def test_threshold_reaches_the_target_precision():
    confidence = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([1, 1, 1, 0, 1, 0], bool)
    result = threshold_for_precision(confidence, correct, target=0.8)
    assert (
        result["threshold"] == 0.6
        and result["precision"] == 0.8
        and result["kept_fraction"] == 5 / 6
    )
    assert threshold_for_precision(confidence, np.zeros(6, bool), 0.5)["threshold"] is None
