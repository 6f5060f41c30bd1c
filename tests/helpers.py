"""Small data builders shared by tests (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import numpy as np


def moving_square_video(
    num_frames: int, height: int = 48, width: int = 64, seed: int = 0
) -> np.ndarray:
    """(N, H, W, 3) uint8 frames with a square that moves, so every frame differs."""
    rng = np.random.default_rng(seed)
    frames = np.full((num_frames, height, width, 3), 40, np.uint8)
    color = rng.integers(80, 255, 3)
    for i in range(num_frames):
        x, y = (3 * i) % (width - 8), (2 * i) % (height - 8)
        frames[i, y : y + 8, x : x + 8] = color
    return frames
