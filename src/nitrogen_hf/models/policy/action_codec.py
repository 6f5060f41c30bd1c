"""Per-embodiment action encoder and velocity decoder of the NitroGen policy.

Weights are stored (embodiment, in, out) and applied as x @ W[e] + b[e], the layout of the
released checkpoint (`action_encoder.W1.W`, `action_decoder.layer1.W`, ...).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def bucket_sinusoid(buckets: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) integer buckets -> (B, dim) [sin(t f_k), cos(t f_k)], f_k = exp(-k ln(10000) / (dim / 2))."""
    half = dim // 2
    freqs = torch.exp(
        torch.arange(half, dtype=torch.float32, device=buckets.device) * (-math.log(10000.0) / half)
    )
    angles = buckets.float()[:, None] * freqs
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class CategorySpecificLinear(nn.Module):
    """One linear layer per embodiment, selected per sample."""

    def __init__(self, num_categories: int, in_features: int, out_features: int):
        super().__init__()
        self.W = nn.Parameter(torch.empty(num_categories, in_features, out_features))
        self.b = nn.Parameter(torch.zeros(num_categories, out_features))

    def forward(self, x: torch.Tensor, category: torch.Tensor) -> torch.Tensor:
        """x: (B, T, in), category: (B,) int -> (B, T, out)."""
        if self.W.shape[0] == 1:  # one embodiment: a view, not a (B, in, out) gathered copy
            return x @ self.W[0] + self.b[0]
        return torch.bmm(x, self.W[category]) + self.b[category][:, None]


class ActionEncoder(nn.Module):
    """Noisy actions + time bucket -> action tokens: W3(swish(W2([W1 a, sinusoid(t)])))."""

    def __init__(self, action_dim: int, hidden_size: int, num_embodiments: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.W1 = CategorySpecificLinear(num_embodiments, action_dim, hidden_size)
        self.W2 = CategorySpecificLinear(num_embodiments, 2 * hidden_size, hidden_size)
        self.W3 = CategorySpecificLinear(num_embodiments, hidden_size, hidden_size)

    def forward(
        self, actions: torch.Tensor, buckets: torch.Tensor, embodiment: torch.Tensor
    ) -> torch.Tensor:
        """actions: (B, H, A), buckets: (B,) -> (B, H, D)."""
        encoded = self.W1(actions, embodiment)
        time = bucket_sinusoid(buckets, self.hidden_size).to(encoded.dtype)
        time = time[:, None].expand(-1, actions.shape[1], -1)
        hidden = F.silu(self.W2(torch.cat([encoded, time], dim=-1), embodiment))
        return self.W3(hidden, embodiment)


class ActionDecoder(nn.Module):
    """DiT output tokens -> velocity: layer2(relu(layer1(h)))."""

    def __init__(self, hidden_size: int, action_dim: int, num_embodiments: int):
        super().__init__()
        self.layer1 = CategorySpecificLinear(num_embodiments, hidden_size, hidden_size)
        self.layer2 = CategorySpecificLinear(num_embodiments, hidden_size, action_dim)

    def forward(self, tokens: torch.Tensor, embodiment: torch.Tensor) -> torch.Tensor:
        return self.layer2(F.relu(self.layer1(tokens, embodiment)), embodiment)
