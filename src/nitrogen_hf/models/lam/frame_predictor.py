"""The conv networks shared by the latent action model and the world model.

`FramePredictor` is a small U-Net: past frames in, frame t+1 out, conditioned on an action
vector (a latent code's vector or an embedded gamepad action) by FiLM at every decoder
stage. It predicts the change from frame t (its last layer starts at zero, so an untrained
model copies frame t), which leaves all of its capacity for what moves.
`TransitionEncoder` reads one transition (past frames, frame t+1 and their difference) into
a vector: the LAM's encoder.
"""

from __future__ import annotations

import torch
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


class TransitionEncoder(nn.Module):
    """(B, T, 3, H, W) normalised frames (T = `num_frames`, the last one t+1) -> (B, out_dim).

    Early fusion as in the IDM: the next frame's difference to frame t is an input channel,
    so a sprite's one-pixel move is visible before any pooling; max pooling over a coarse
    grid keeps a small sprite's response and where on screen it happened.
    """

    def __init__(self, num_frames: int, channels: list[int], out_dim: int, grid: int = 4):
        super().__init__()
        stages, c_in = [], 3 * (num_frames + 1)
        for c_out in channels:
            stages.append(conv_block(c_in, c_out, stride=2))
            c_in = c_out
        self.cnn = nn.Sequential(*stages)
        self.pool = nn.AdaptiveMaxPool2d(grid)
        self.proj = nn.Sequential(nn.Flatten(), nn.Linear(c_in * grid * grid, out_dim))

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
    """(B, C, 3, H, W) normalised context + (B, cond_dim) action -> (B, 3, H, W) frame t+1."""

    def __init__(self, context_frames: int, channels: list[int], cond_dim: int):
        super().__init__()
        self.down = nn.ModuleList()
        c_in = 3 * context_frames
        for c_out in channels:
            self.down.append(conv_block(c_in, c_out, stride=2))
            c_in = c_out
        self.middle = FiLMBlock(c_in, c_in, cond_dim)
        self.up = nn.ModuleList()
        self.blocks = nn.ModuleList()
        skips = [3 * context_frames, *channels[:-1]]
        for c_skip in reversed(skips):
            self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))
            self.blocks.append(FiLMBlock(c_in + c_skip, max(c_skip, channels[0]), cond_dim))
            c_in = max(c_skip, channels[0])
        self.out = nn.Conv2d(c_in, 3, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, context: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = context.flatten(1, 2)
        skips = []
        for stage in self.down:
            skips.append(x)
            x = stage(x)
        x = self.middle(x, cond)
        for up, block, skip in zip(self.up, self.blocks, reversed(skips), strict=True):
            x = block(torch.cat([up(x), skip], dim=1), cond)
        return context[:, -1] + self.out(x)
