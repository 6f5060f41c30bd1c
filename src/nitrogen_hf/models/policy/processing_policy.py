"""Frames in, action chunks out: the policy's image processing and action decoding.

Image processing gives exactly what transformers' `SiglipImageProcessor` (PIL backend) gives:
bicubic resize to the tower size as PIL does it (a = -0.5 kernel, antialiased, 8-bit fixed
point, horizontal pass then vertical), rescale 1/255, normalise with mean/std. Frames on the
CPU are resized by PIL itself, one frame at a time (its C loops touch only the few source
pixels under each kernel, where a matrix product touches them all); frames on a GPU are
resized there by a reimplementation of PIL's arithmetic in float64 matrix products, which
is exact (integers below 2**53) and keeps the frames on the device.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from ...actions import BUTTON_THRESHOLD, NUM_BUTTONS, GamepadActions
from ..image_inputs import to_frames

# PIL's bicubic kernel parameter and support (in source pixels at scale 1).
PIL_BICUBIC_A = -0.5
PIL_BICUBIC_SUPPORT = 2.0
# PIL resamples 8-bit images with fixed-point weights of this many fractional bits.
PIL_PRECISION_BITS = 22


def frames_to_batch(frames, frame_per_sample: int) -> torch.Tensor:
    """Frames in any form `to_frames` takes (HWC arrays, PIL images, lists, CHW tensors) ->
    (B, C, 3, H, W) uint8, C = frame_per_sample: one frame, a batch (B frames), or a batch of
    C-frame contexts (B, C, ...)."""
    frames = to_frames(frames)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim == 4:
        frames = frames[:, None]
    if frames.ndim != 5:
        raise ValueError(f"frames must be (B, [C,] 3, H, W) uint8, got shape {tuple(frames.shape)}")
    if frames.shape[1] != frame_per_sample:
        raise ValueError(
            f"got {frames.shape[1]} frames per sample, the policy expects frame_per_sample={frame_per_sample}"
        )
    return frames


def _pil_bicubic(x: float) -> float:
    x = abs(x)
    a = PIL_BICUBIC_A
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


def pil_resample_matrix(in_size: int, out_size: int) -> torch.Tensor:
    """(out, in) float64 fixed-point weights of PIL's bicubic resampling along one axis."""
    return _pil_resample_matrix(in_size, out_size).clone()


@functools.lru_cache(maxsize=32)
def _pil_resample_matrix(in_size: int, out_size: int) -> torch.Tensor:
    """Built once per (in, out) pair: the Python loop costs milliseconds, a resize far less."""
    scale = in_size / out_size
    filter_scale = max(scale, 1.0)
    support = PIL_BICUBIC_SUPPORT * filter_scale
    matrix = np.zeros((out_size, in_size), dtype=np.float64)
    for out in range(out_size):
        center = (out + 0.5) * scale
        first = max(int(center - support + 0.5), 0)
        last = min(int(center + support + 0.5), in_size)
        weights = [_pil_bicubic((i - center + 0.5) / filter_scale) for i in range(first, last)]
        total = sum(weights)
        for offset, weight in enumerate(weights):
            weight = weight / total if total != 0.0 else weight
            fixed = weight * (1 << PIL_PRECISION_BITS)
            matrix[out, first + offset] = math.trunc(fixed - 0.5 if fixed < 0 else fixed + 0.5)
    return torch.from_numpy(matrix)


@functools.lru_cache(maxsize=32)
def _device_resample_matrix(in_size: int, out_size: int, device: torch.device) -> torch.Tensor:
    """The transposed (in, out) matrix, on the device, cached so a call copies nothing."""
    return _pil_resample_matrix(in_size, out_size).T.contiguous().to(device)


def _resample_last_axis(images: torch.Tensor, matrix_t: torch.Tensor) -> torch.Tensor:
    """One PIL pass on float64 integer pixels: round half up, clip to 8 bits."""
    total = images @ matrix_t + (1 << (PIL_PRECISION_BITS - 1))
    return torch.floor(total / (1 << PIL_PRECISION_BITS)).clamp(0, 255)


def _resize_with_pil(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """uint8 (..., 3, H, W) on the CPU -> (..., 3, h, w), each frame through PIL's own resize."""
    flat = frames.reshape(-1, *frames.shape[-3:])
    out = torch.empty((flat.shape[0], flat.shape[1], *size), dtype=torch.uint8)
    for index, frame in enumerate(flat):
        image = Image.fromarray(frame.permute(1, 2, 0).contiguous().numpy())
        resized = image.resize((size[1], size[0]), Image.Resampling.BICUBIC)
        out[index] = torch.from_numpy(np.array(resized)).permute(2, 0, 1)
    return out.reshape(*frames.shape[:-2], *size)


def _resize_with_matmul(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """PIL's two passes as float64 matrix products on the frames' device."""
    height, width = frames.shape[-2:]
    images = frames.to(torch.float64)
    if width != size[1]:
        images = _resample_last_axis(images, _device_resample_matrix(width, size[1], frames.device))
    if height != size[0]:
        matrix_t = _device_resample_matrix(height, size[0], frames.device)
        images = _resample_last_axis(images.transpose(-1, -2), matrix_t).transpose(-1, -2)
    return images.to(torch.uint8)


def resize_like_pil(
    frames: torch.Tensor, size: tuple[int, int], backend: str = "auto"
) -> torch.Tensor:
    """uint8 (..., 3, H, W) -> (..., 3, h, w) uint8, bit-identical to PIL `resize(BICUBIC)`.

    `backend`: "pil" (CPU frames), "matmul" (any device with float64), or "auto": PIL for
    frames on the CPU (or on MPS, which lacks float64), matrix products elsewhere.
    """
    height, width = frames.shape[-2:]
    if (height, width) == tuple(size):
        return frames
    if backend == "auto":
        backend = "pil" if frames.device.type in ("cpu", "mps") else "matmul"
    if backend == "pil":
        return _resize_with_pil(frames.cpu(), tuple(size)).to(frames.device)
    if backend == "matmul":
        return _resize_with_matmul(frames, tuple(size))
    raise ValueError(f"backend must be 'auto', 'pil' or 'matmul', got {backend!r}")


def preprocess_frames(
    frames: torch.Tensor,
    size: tuple[int, int],
    mean: list[float],
    std: list[float],
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """uint8 (..., 3, H, W) -> normalised pixel values (..., 3, h, w) for the vision tower."""
    # Rescale in float64 then round to float32, as the processor does, so values match bit for bit.
    pixels = (resize_like_pil(frames, size).to(torch.float64) * (1.0 / 255.0)).to(torch.float32)
    mean_t = torch.tensor(mean, dtype=torch.float32, device=pixels.device)[:, None, None]
    std_t = torch.tensor(std, dtype=torch.float32, device=pixels.device)[:, None, None]
    return ((pixels - mean_t) / std_t).to(dtype)


@dataclass
class ActionChunk:
    """A predicted chunk per sample.

    vector: (B, H, 25) raw model output (buttons, then sticks in [0, 1]);
    buttons: (B, H, 21) bool, output > threshold; sticks: (B, H, 4) in [-1, 1].
    """

    vector: torch.Tensor
    buttons: torch.Tensor
    sticks: torch.Tensor

    @classmethod
    def from_vector(cls, vector: torch.Tensor, threshold: float = BUTTON_THRESHOLD) -> ActionChunk:
        """Decode as `GamepadActions.from_vector` does: threshold buttons, sticks * 2 - 1 clipped."""
        buttons = vector[..., :NUM_BUTTONS] > threshold
        sticks = (vector[..., NUM_BUTTONS:] * 2.0 - 1.0).clamp(-1.0, 1.0)
        return cls(vector=vector, buttons=buttons, sticks=sticks)

    def to_gamepad(self, observed: np.ndarray | None = None) -> list[GamepadActions]:
        """One `GamepadActions` of H frames per sample."""
        buttons = self.buttons.cpu().numpy().astype(np.uint8)
        sticks = self.sticks.float().cpu().numpy()
        mask = np.ones(buttons.shape[-1] + sticks.shape[-1], bool) if observed is None else observed
        return [GamepadActions(b, s, mask) for b, s in zip(buttons, sticks, strict=True)]
