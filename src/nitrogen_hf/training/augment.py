"""Window augmentations for the IDM, chosen for transfer to unseen games and to walkthroughs.

Every transform is the same for all frames of a window (motion stays intact). Colour changes
stop the model keying on one game's palette; shifts and cut-outs make it robust to framing and
to the black overlay mask (present in training, absent in walkthroughs); a mirror flip with
left/right labels swapped doubles the motion patterns it sees.
"""

from __future__ import annotations

import torch

from nitrogen_hf.actions import BUTTON_INDEX, NUM_BUTTONS
from nitrogen_hf.training.configs import AugmentConfig

# Buttons whose meaning swaps under a horizontal mirror.
MIRROR_PAIRS = (("dpad_left", "dpad_right"), ("right_left", "right_right"))
STICK_X_DIMS = (NUM_BUTTONS + 0, NUM_BUTTONS + 2)  # j_left.x, j_right.x in the 25-d vector


def augment_window_batch(
    frames: torch.Tensor, actions: torch.Tensor, config: AugmentConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """frames (B, T, 3, H, W) uint8/float, actions (B, A, 25) -> augmented float frames, actions."""
    if not config.enabled:
        return frames.float(), actions
    frames, actions = frames.float(), actions.clone()
    b = frames.shape[0]
    device = frames.device
    mirror = torch.rand(b, device=device) < config.mirror_prob
    frames = torch.where(mirror[:, None, None, None, None], frames.flip(-1), frames)
    actions[mirror] = mirror_actions(actions[mirror])
    frames = _jitter_colour(frames, config)
    frames = _shift(frames, config.max_shift)
    frames = _cutout(frames, config)
    return frames.clamp(0, 255), actions


def mirror_actions(actions: torch.Tensor) -> torch.Tensor:
    """Labels of a horizontally mirrored window: left/right swapped, stick x negated."""
    out = actions.clone()
    for left, right in MIRROR_PAIRS:
        out[..., BUTTON_INDEX[left]] = actions[..., BUTTON_INDEX[right]]
        out[..., BUTTON_INDEX[right]] = actions[..., BUTTON_INDEX[left]]
    for dim in STICK_X_DIMS:
        out[..., dim] = 1.0 - actions[..., dim]  # sticks live in [0, 1] inside models
    return out


def _jitter_colour(frames: torch.Tensor, config: AugmentConfig) -> torch.Tensor:
    b, device = frames.shape[0], frames.device
    shuffle = torch.rand(b, device=device) < config.channel_shuffle_prob
    order = torch.stack([torch.randperm(3, device=device) for _ in range(b)])
    order[~shuffle] = torch.arange(3, device=device)
    frames = torch.gather(frames, 2, order[:, None, :, None, None].expand_as(frames))
    gray = torch.rand(b, device=device) < config.grayscale_prob
    luminance = frames.mean(dim=2, keepdim=True).expand_as(frames)
    frames = torch.where(gray[:, None, None, None, None], luminance, frames)
    scale = 1 + (torch.rand(b, 1, 1, 1, 1, device=device) * 2 - 1) * config.brightness
    contrast = 1 + (torch.rand(b, 1, 1, 1, 1, device=device) * 2 - 1) * config.contrast
    mean = frames.mean(dim=(1, 2, 3, 4), keepdim=True)
    return (frames - mean) * contrast + mean * scale


def _shift(frames: torch.Tensor, max_shift: float) -> torch.Tensor:
    """Translate each window by up to `max_shift` of its size (zero fill), via padding + crop."""
    if max_shift <= 0:
        return frames
    b, t, c, h, w = frames.shape
    pad_h, pad_w = max(1, round(h * max_shift)), max(1, round(w * max_shift))
    padded = torch.nn.functional.pad(frames.flatten(1, 2), (pad_w, pad_w, pad_h, pad_h))
    out = torch.empty_like(frames)
    dy = torch.randint(0, 2 * pad_h + 1, (b,)).tolist()
    dx = torch.randint(0, 2 * pad_w + 1, (b,)).tolist()
    for i in range(b):
        out[i] = padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w].view(t, c, h, w)
    return out


def _cutout(frames: torch.Tensor, config: AugmentConfig) -> torch.Tensor:
    """Black out one random box per window, like an overlay mask would."""
    b, _, _, h, w = frames.shape
    for i in torch.nonzero(torch.rand(b) < config.cutout_prob).flatten().tolist():
        bh = int(torch.randint(1, max(2, int(h * config.cutout_max_size)), ()).item())
        bw = int(torch.randint(1, max(2, int(w * config.cutout_max_size)), ()).item())
        y, x = int(torch.randint(0, h - bh + 1, ())), int(torch.randint(0, w - bw + 1, ()))
        frames[i, :, :, y : y + bh, x : x + bw] = 0
    return frames
