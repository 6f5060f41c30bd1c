"""Frames in the forms an HF image processor takes -> one uint8 tensor (..., 3, H, W).

Gymnasium, PIL and video decoders hand out (H, W, 3) uint8 arrays or PIL images; torch code
has (3, H, W) tensors. Accepted: torch tensors and numpy arrays with channels first or last
(an alpha channel is dropped), PIL images, and lists or tuples of any of these (stacked along
a new first axis). Only 8-bit pixels: a float image is refused rather than guessed at.
"""

from __future__ import annotations

import numpy as np
import torch

CHANNELS = 3  # RGB
WITH_ALPHA = 4


def _is_pil_image(value) -> bool:
    """Duck-typed, so this module needs no Pillow import (remote code stays light)."""
    return type(value).__module__.startswith("PIL.") and hasattr(value, "convert")


def _one_array(value) -> torch.Tensor:
    if _is_pil_image(value):
        value = np.array(value.convert("RGB"))  # a writable copy
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"frames must be tensors, numpy arrays or PIL images, got {type(value).__name__}"
        )
    return value


def to_frames(images) -> torch.Tensor:
    """uint8 (..., 3, H, W) from `images` in any accepted form (see the module docstring).

    The channel axis is the third from last when it has 3 (or 4) entries, else the last one,
    as `transformers.image_utils.infer_channel_dimension_format` decides it."""
    if isinstance(images, list | tuple):
        if not images:
            raise ValueError("frames: got an empty list")
        parts = [to_frames(image) for image in images]
        shapes = {tuple(part.shape) for part in parts}
        if len(shapes) > 1:
            raise ValueError(f"frames of one list must share a shape, got {sorted(shapes)}")
        return torch.stack(parts)
    frames = _one_array(images)
    if frames.dtype != torch.uint8:
        raise ValueError(f"frames must be uint8 RGB (0-255), got {frames.dtype}")
    if frames.ndim < 3:
        raise ValueError(
            f"frames must be (..., 3, H, W) or (..., H, W, 3), got {tuple(frames.shape)}"
        )
    if frames.shape[-3] in (CHANNELS, WITH_ALPHA):
        return frames[..., :CHANNELS, :, :]
    if frames.shape[-1] in (CHANNELS, WITH_ALPHA):
        return frames[..., :CHANNELS].movedim(-1, -3)
    raise ValueError(
        f"frames of shape {tuple(frames.shape)} have no RGB channel axis (3 entries first or last)"
    )
