"""Vector quantiser with an EMA codebook, dead-code restarts and a straight-through gradient.

The codebook is not trained by gradients (its vectors are buffers): each code moves to the
running mean of the encoder outputs assigned to it (VQ-VAE-2), and a code that stops being
used is restarted on a random encoder output, so all codes stay in use without a codebook
loss. Gradients reach the encoder through the straight-through estimator.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Quantized:
    """quantized: (B, D) code vectors with the straight-through gradient to the encoder;
    codes: (B,) long; commitment_loss: mean of (z - e)^2, scalar; perplexity: exp(entropy) of
    this batch's codes (K when all codes are used equally)."""

    quantized: torch.Tensor
    codes: torch.Tensor
    commitment_loss: torch.Tensor
    perplexity: torch.Tensor


class VectorQuantizer(nn.Module):
    def __init__(
        self, num_codes: int, dim: int, decay: float = 0.99, dead_code_threshold: float = 0.1
    ):
        super().__init__()
        self.num_codes, self.decay = num_codes, decay
        self.dead_code_threshold = dead_code_threshold
        self.register_buffer("codebook", torch.randn(num_codes, dim))
        # EMA of each code's share of a batch, and of the mean encoder output it receives.
        self.register_buffer("usage", torch.full((num_codes,), 1.0 / num_codes))
        self.register_buffer("code_sum", self.codebook.clone() / num_codes)
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """(B,) index of the closest code (Euclidean) for (B, D) embeddings."""
        return torch.cdist(z.float(), self.codebook.float()).argmin(dim=-1)

    def forward(self, z: torch.Tensor) -> Quantized:
        if self.training:
            self._update_codebook(z.detach().float())
        codes = self.nearest(z)
        chosen = self.codebook[codes].to(z.dtype)
        commitment = F.mse_loss(z, chosen)
        quantized = z + (chosen - z).detach()  # straight-through: identity gradient
        share = F.one_hot(codes, self.num_codes).float().mean(0)
        perplexity = torch.exp(-(share * share.clamp_min(1e-10).log()).sum())
        return Quantized(quantized, codes, commitment, perplexity)

    @torch.no_grad()
    def _update_codebook(self, z: torch.Tensor) -> None:
        """EMA step on this batch's assignments, then restart codes that fell out of use."""
        if not bool(self.initialized):
            self._restart(torch.ones(self.num_codes, dtype=torch.bool, device=z.device), z)
            self.initialized.fill_(True)
        one_hot = F.one_hot(self.nearest(z), self.num_codes).float()  # (B, K)
        share, total = one_hot.mean(0), one_hot.T @ z / len(z)  # (K,), (K, D)
        share, total = _mean_over_ranks(share), _mean_over_ranks(total)
        self.usage.mul_(self.decay).add_(share, alpha=1 - self.decay)
        self.code_sum.mul_(self.decay).add_(total, alpha=1 - self.decay)
        self.codebook.copy_(self.code_sum / self.usage.clamp_min(1e-6)[:, None])
        self._restart(self.usage < self.dead_code_threshold / self.num_codes, z)

    def _restart(self, dead: torch.Tensor, z: torch.Tensor) -> None:
        """Move dead codes onto random encoder outputs with a fresh, uniform share."""
        count = int(dead.sum())
        if count == 0:
            return
        picks = torch.randint(len(z), (count,), device=z.device)
        fresh = _broadcast_from_first_rank(z[picks] + 1e-3 * torch.randn_like(z[picks]))
        self.codebook[dead] = fresh
        self.usage[dead] = 1.0 / self.num_codes
        self.code_sum[dead] = fresh / self.num_codes


def _mean_over_ranks(value: torch.Tensor) -> torch.Tensor:
    """Average codebook statistics over DDP ranks, so every rank keeps the same codebook."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        value = value.clone()
        dist.all_reduce(value)
        value /= dist.get_world_size()
    return value


def _broadcast_from_first_rank(value: torch.Tensor) -> torch.Tensor:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        value = value.contiguous()
        dist.broadcast(value, src=0)
    return value
