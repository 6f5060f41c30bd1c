"""Decode video frames by index or timestamp: torchcodec first, PyAV as the fallback.

Both backends return `(N, 3, H, W) uint8` torch tensors and agree frame for frame on
constant-frame-rate files. Decoding errors become `VideoError` naming the file.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch

Backend = Literal["auto", "torchcodec", "pyav"]
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v")


class VideoError(RuntimeError):
    """A video that cannot be opened or decoded (the message names the file)."""


def frame_index_at(seconds: float, fps: float) -> int:
    """Index of the frame on screen at `seconds` (tolerant to float error at frame edges)."""
    return max(0, math.floor(seconds * fps + 1e-6))


def video_frame_indices(
    start_time: float, steps: np.ndarray | Sequence[int], fps: float, video_fps: float
) -> np.ndarray:
    """(N,) int64 video frame on screen at each chunk step (a 30 fps chunk of a 60 fps video
    takes every other frame); step 0 is `frame_index_at(start_time, video_fps)`."""
    seconds = start_time + np.asarray(steps, dtype=np.float64) / fps
    return np.maximum(0, np.floor(seconds * video_fps + 1e-6)).astype(np.int64)


class VideoReader(ABC):
    """Random and sequential access to the frames of one video file."""

    path: Path
    fps: float
    num_frames: int
    height: int
    width: int

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    @abstractmethod
    def get_frames(self, indices: Sequence[int]) -> torch.Tensor:
        """Frames at `indices` (any order, repeats allowed): (N, 3, H, W) uint8."""

    def get_frames_at(self, seconds: Sequence[float]) -> torch.Tensor:
        """Frames on screen at the given timestamps."""
        return self.get_frames([frame_index_at(t, self.fps) for t in seconds])

    def iter_batches(
        self, batch_size: int, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """Sequential `(first_index, frames)` batches over [start, stop) without loading all."""
        stop = self.num_frames if stop is None else min(stop, self.num_frames)
        for first in range(start, stop, batch_size):
            yield first, self.get_frames(range(first, min(first + batch_size, stop)))

    def _check_indices(self, indices: Sequence[int]) -> list[int]:
        wanted = [int(i) for i in indices]
        bad = [i for i in wanted if i < 0 or i >= self.num_frames]
        if bad:
            raise VideoError(
                f"{self.path}: frame index {bad[0]} out of range (video has {self.num_frames} frames)"
            )
        return wanted

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        pass

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TorchCodecReader(VideoReader):
    """torchcodec's CPU decoder (exact seek mode: one demux pass builds the frame index)."""

    def __init__(self, path: str | Path, num_threads: int = 1):
        from torchcodec.decoders import VideoDecoder

        self.path = Path(path)
        try:
            self._decoder = VideoDecoder(str(path), device="cpu", num_ffmpeg_threads=num_threads)
        except Exception as error:  # torchcodec raises RuntimeError/ValueError variants
            raise VideoError(f"{path}: cannot open with torchcodec: {error}") from error
        meta = self._decoder.metadata
        self.fps = float(meta.average_fps)
        self.num_frames = int(meta.num_frames)
        self.height, self.width = int(meta.height), int(meta.width)

    def get_frames(self, indices: Sequence[int]) -> torch.Tensor:
        wanted = self._check_indices(indices)
        if not wanted:
            return torch.empty(0, 3, self.height, self.width, dtype=torch.uint8)
        try:
            if wanted == list(range(wanted[0], wanted[-1] + 1)):
                return self._decoder.get_frames_in_range(wanted[0], wanted[-1] + 1).data
            return self._decoder.get_frames_at(wanted).data
        except Exception as error:
            raise VideoError(
                f"{self.path}: decoding frames {wanted[0]}..{wanted[-1]} failed: {error}"
            ) from error


class PyAVReader(VideoReader):
    """PyAV decoder: seeks to the keyframe before a target, then decodes forward."""

    # Decode forward instead of seeking when the next wanted frame is this close.
    seek_threshold_frames = 60

    def __init__(self, path: str | Path, num_threads: int = 1):
        import av

        self.path = Path(path)
        try:
            self._container = av.open(str(path))
            self._stream = self._container.streams.video[0]
        except (av.FFmpegError, IndexError, OSError) as error:
            raise VideoError(f"{path}: cannot open with PyAV: {error}") from error
        self._stream.thread_type = "AUTO" if num_threads > 1 else "SLICE"
        self.fps = float(self._stream.average_rate or self._stream.guessed_rate)
        self.height, self.width = (
            self._stream.codec_context.height,
            self._stream.codec_context.width,
        )
        self._start = (
            float(self._stream.start_time * self._stream.time_base)
            if self._stream.start_time
            else 0.0
        )
        self.num_frames = self._count_frames()
        self._frames: Iterator | None = None
        self._next_index = 0

    def _count_frames(self) -> int:
        if self._stream.frames:
            return int(self._stream.frames)
        if self._stream.duration is not None:
            return round(float(self._stream.duration * self._stream.time_base) * self.fps)
        return round(float(self._container.duration or 0) / 1e6 * self.fps)

    def _index_of(self, frame) -> int:
        return round((float(frame.pts * frame.time_base) - self._start) * self.fps)

    def _seek(self, index: int) -> None:
        target = int((self._start + index / self.fps) / self._stream.time_base)
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self._frames = self._container.decode(self._stream)
        self._next_index = -1  # unknown until the first decoded frame

    def _decode_until(self, index: int) -> np.ndarray:
        import av

        try:
            for frame in self._frames:
                current = self._index_of(frame)
                self._next_index = current + 1
                if current == index:
                    return frame.to_ndarray(format="rgb24")
                if current > index:
                    break
        except av.FFmpegError as error:
            raise VideoError(f"{self.path}: decoding frame {index} failed: {error}") from error
        raise VideoError(f"{self.path}: frame {index} not found (file truncated or corrupt?)")

    def get_frames(self, indices: Sequence[int]) -> torch.Tensor:
        wanted = self._check_indices(indices)
        decoded: dict[int, np.ndarray] = {}
        for index in sorted(set(wanted)):
            ahead = index - self._next_index
            if (
                self._frames is None
                or self._next_index < 0
                or not 0 <= ahead <= self.seek_threshold_frames
            ):
                self._seek(index)
            decoded[index] = self._decode_until(index)
        if not wanted:
            return torch.empty(0, 3, self.height, self.width, dtype=torch.uint8)
        return (
            torch.from_numpy(np.stack([decoded[i] for i in wanted]))
            .permute(0, 3, 1, 2)
            .contiguous()
        )

    def close(self) -> None:
        self._container.close()


def torchcodec_available() -> bool:
    """True when torchcodec and its FFmpeg libraries load."""
    try:
        from torchcodec.decoders import VideoDecoder  # noqa: F401
    except (ImportError, OSError, RuntimeError):
        return False
    return True


def open_video(path: str | Path, backend: Backend = "auto", num_threads: int = 1) -> VideoReader:
    """Open a video with the chosen backend; 'auto' tries torchcodec, then PyAV."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: video file not found")
    if backend == "pyav":
        return PyAVReader(path, num_threads)
    if backend == "torchcodec" or (backend == "auto" and torchcodec_available()):
        try:
            return TorchCodecReader(path, num_threads)
        except VideoError:
            if backend == "torchcodec":
                raise
    return PyAVReader(path, num_threads)
