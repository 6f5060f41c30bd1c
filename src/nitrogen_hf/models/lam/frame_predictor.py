"""The conv networks shared by the latent action model and the world model.

`FramePredictor` is a small U-Net: past frames in, frame t+1 out, conditioned on an action
vector (a latent code's vector or an embedded gamepad action) by FiLM at every decoder
stage. It predicts the change from frame t (its last layer starts at zero, so an untrained
model copies frame t), which leaves all of its capacity for what moves.
`TransitionEncoder` reads one transition (past frames, frame t+1 and their difference) into
a vector: the LAM's encoder.
"""

from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn


def normalize_frames(frames: torch.Tensor, mean, std) -> torch.Tensor:
    """(..., 3, H, W) 0-255 -> normalised float; mean/std are fractions of 255."""
    shape = (3, 1, 1)
    mean = torch.tensor(mean, device=frames.device).view(shape) * 255.0
    std = torch.tensor(std, device=frames.device).view(shape) * 255.0
    return (frames.float() - mean) / std


def denormalize_frames(frames: torch.Tensor, mean, std) -> torch.Tensor:
    """Inverse of `normalize_frames`, clamped to 0-255 (float)."""
    shape = (3, 1, 1)
    mean = torch.tensor(mean, device=frames.device).view(shape) * 255.0
    std = torch.tensor(std, device=frames.device).view(shape) * 255.0
    return (frames * std + mean).clamp(0.0, 255.0)


def conv_block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), nn.GroupNorm(1, c_out), nn.GELU()
    )


def patchify_stem(c_in: int, c_out: int, patch_size: int) -> nn.Sequential:
    """Non-overlapping patches (kernel = stride): the cheapest way in on a CPU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, patch_size, stride=patch_size), nn.GroupNorm(1, c_out), nn.GELU()
    )


class TransitionEncoder(nn.Module):
    """(B, T, 3, H, W) normalised frames (T = `num_frames`, the last one t+1) -> (B, out_dim).

    Early fusion as in the IDM: the next frame's difference to frame t is an input channel,
    so a sprite's one-pixel move is visible before any pooling; max pooling over a coarse
    grid keeps a small sprite's response and where on screen it happened.
    """

    def __init__(
        self, num_frames: int, channels: list[int], patch_size: int, out_dim: int, grid: int = 4
    ):
        super().__init__()
        stages = [patchify_stem(3 * (num_frames + 1), channels[0], patch_size)]
        stages += [conv_block(a, b, stride=2) for a, b in pairwise(channels)]
        self.cnn = nn.Sequential(*stages)
        self.pool = nn.AdaptiveMaxPool2d(grid)
        self.proj = nn.Sequential(nn.Flatten(), nn.Linear(channels[-1] * grid * grid, out_dim))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        change = frames[:, -1] - frames[:, -2]
        x = torch.cat([frames.flatten(1, 2), change], dim=1)
        return self.proj(self.pool(self.cnn(x)))


class FiLMBlock(nn.Module):
    """Conv block whose features are scaled and shifted by the action vector."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = nn.GroupNorm(1, c_out)
        self.film = nn.Linear(cond_dim, 2 * c_out)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(cond)[:, :, None, None].chunk(2, dim=1)
        return self.act(self.norm(self.conv(x)) * (1 + scale) + shift)


class FramePredictor(nn.Module):
    """(B, C, 3, H, W) normalised context + (B, cond_dim) action -> (B, 3, H, W) frame t+1.

    A U-Net on patches: the stem cuts `patch_size` patches, stride-2 stages go down, FiLM
    blocks come back up with skips, and a 1x1 conv + pixel shuffle paints each patch's change.
    """

    def __init__(self, context_frames: int, channels: list[int], patch_size: int, cond_dim: int):
        super().__init__()
        self.down = nn.ModuleList([patchify_stem(3 * context_frames, channels[0], patch_size)])
        self.down.extend(conv_block(a, b, stride=2) for a, b in pairwise(channels))
        self.middle = FiLMBlock(channels[-1], channels[-1], cond_dim)
        self.up = nn.ModuleList(
            FiLMBlock(c_low + c_skip, c_skip, cond_dim)
            for c_low, c_skip in zip(reversed(channels[1:]), reversed(channels[:-1]), strict=True)
        )
        self.out = nn.Sequential(
            nn.Conv2d(channels[0], 3 * patch_size**2, 1), nn.PixelShuffle(patch_size)
        )
        nn.init.zeros_(self.out[0].weight)
        nn.init.zeros_(self.out[0].bias)

    def forward(self, context: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x, skips = context.flatten(1, 2), []
        for stage in self.down:
            x = stage(x)
            skips.append(x)
        x = self.middle(skips.pop(), cond)
        for block in self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
            x = block(torch.cat([x, skips.pop()], dim=1), cond)
        return context[:, -1] + self.out(x)
