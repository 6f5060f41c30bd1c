"""Probes from latent actions to gamepad actions, fitted on a small labeled budget.

A latent action model names actions without knowing the buttons; a probe learns the
names from a few labeled frames. Two probes, both pure functions of arrays:
- a code table: each latent code's per-button majority (what a person would write down
  after watching a few examples of each code);
- a logistic regression on the pre-quantisation embedding, which can also use what the
  quantiser throws away.
Buttons are scored like the IDM's (`score_labels`); sticks, absent from the Atari data the
probes were built for, are predicted as their labeled median.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nitrogen_hf.actions import NUM_BUTTONS
from nitrogen_hf.evaluation.idm_metrics import majority_vector


def fit_code_table(
    codes: np.ndarray, targets: np.ndarray, observed: np.ndarray, num_codes: int
) -> np.ndarray:
    """(K, 25) action per code: per-dim majority over the labeled transitions with that code;
    codes never seen in the labels fall back to the overall majority."""
    fallback = majority_vector(targets, observed)
    table = np.tile(fallback, (num_codes, 1))
    for code in range(num_codes):
        rows = codes == code
        if rows.any():
            table[code] = majority_vector(targets[rows], observed[rows])
    return table


def predict_code_table(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """(N, 25) model-layout actions of (N,) codes."""
    return table[codes]


@dataclass
class LogisticProbe:
    """Per-button logistic regression on standardised features; other dims are constants."""

    mean: np.ndarray  # (D,)
    std: np.ndarray  # (D,)
    weight: np.ndarray  # (D, 21)
    bias: np.ndarray  # (21,)
    learned: np.ndarray  # (21,) bool: buttons seen both pressed and released in the labels
    constant: np.ndarray  # (25,) majority action: the answer for everything not learned

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(N, 25): button probabilities where learned, the majority elsewhere."""
        logits = ((features - self.mean) / self.std) @ self.weight + self.bias
        out = np.tile(self.constant, (len(features), 1)).astype(np.float32)
        out[:, :NUM_BUTTONS][:, self.learned] = 1.0 / (1.0 + np.exp(-logits[:, self.learned]))
        return out


def fit_logistic_probe(
    features: np.ndarray,
    targets: np.ndarray,
    observed: np.ndarray,
    l2: float = 1e-2,
    steps: int = 100,
) -> LogisticProbe:
    """L2-regularised logistic regression per button (full-batch L-BFGS) on (N, D) features.

    Only rows where a button is observed count for it; a button never seen both pressed and
    released is not learned and keeps its majority state.
    """
    import torch

    mean, std = features.mean(0), features.std(0) + 1e-6
    x = torch.from_numpy(((features - mean) / std).astype(np.float32))
    y = torch.from_numpy((targets[:, :NUM_BUTTONS] > 0.5).astype(np.float32))
    mask = torch.from_numpy(observed[:, :NUM_BUTTONS].astype(np.float32))
    weight = torch.zeros(x.shape[1], NUM_BUTTONS, requires_grad=True)
    bias = torch.zeros(NUM_BUTTONS, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=steps, line_search_fn="strong_wolfe")
    rows = mask.sum(0).clamp_min(1.0)

    def closure():
        optimizer.zero_grad()
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            x @ weight + bias, y, weight=mask, reduction="none"
        )
        loss = (bce.sum(0) / rows).sum() + l2 * (weight**2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    learned = (((y * mask).sum(0) > 0) & (((1 - y) * mask).sum(0) > 0)).numpy()
    return LogisticProbe(
        mean,
        std,
        weight.detach().numpy(),
        bias.detach().numpy(),
        learned,
        majority_vector(targets, observed),
    )
