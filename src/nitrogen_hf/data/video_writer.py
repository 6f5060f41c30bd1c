"""Encode frames to H.264 mp4 with PyAV, streaming (constant memory) and atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nitrogen_hf.data.files import temporary_sibling


class Mp4Writer:
    """Write RGB frames `(H, W, 3) uint8` one by one; the file appears only on `close()`.

    `keyframe_interval` frames between keyframes bounds the cost of a random seek, like the
    short GOPs of streaming sites; `crf` trades size for quality (18 is visually lossless).
    """

    def __init__(
        self,
        path: str | Path,
        fps: int,
        width: int,
        height: int,
        crf: int = 18,
        keyframe_interval: int | None = None,
    ):
        import av

        if width % 2 or height % 2:
            raise ValueError(f"{path}: H.264 yuv420p needs even frame sizes, got {width}x{height}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_sibling(self.path)
        self._tmp = tmp.with_name(tmp.name + self.path.suffix)  # muxers pick the format by suffix
        self._container = av.open(str(self._tmp), mode="w", format="mp4")
        self._stream = self._container.add_stream("libx264", rate=fps)
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {
            "crf": str(crf),
            "preset": "veryfast",
            "g": str(keyframe_interval or fps),
        }
        self.num_frames = 0

    def write(self, frame: np.ndarray) -> None:
        import av

        if frame.shape != (self._stream.height, self._stream.width, 3):
            raise ValueError(
                f"{self.path}: frame shape {frame.shape} != ({self._stream.height}, {self._stream.width}, 3)"
            )
        video_frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(frame, np.uint8), format="rgb24"
        )
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.num_frames += 1

    def close(self) -> Path:
        """Flush, finish the file and move it into place."""
        if self.num_frames == 0:
            self.abort()
            raise ValueError(f"{self.path}: no frames written")
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop a partial file (e.g. the recorder was interrupted)."""
        try:
            self._container.close()
        finally:
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_mp4(path: str | Path, frames: np.ndarray, fps: int, **options) -> Path:
    """Encode a whole `(N, H, W, 3) uint8` array (small clips and tests)."""
    n, height, width, _ = frames.shape
    with Mp4Writer(path, fps, width, height, **options) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)
