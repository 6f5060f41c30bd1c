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


class UntrustedTiming(VideoError):
    """A video whose frame timestamps cannot place frames in time (missing or repeated)."""


def frame_index_at(seconds: float, fps: float) -> int:
    """Index of the frame on screen at `seconds` (tolerant to float error at frame edges)."""
    return max(0, math.floor(seconds * fps + 1e-6))


# A frame counts as on screen from this long before its timestamp (float error at frame edges).
EDGE_SECONDS = 1e-6
# Timestamps are rounded to the container's time base (1 ms in Matroska/WebM): a frame counts
# as on screen from this long before its timestamp.
TIMESTAMP_SLACK_SECONDS = 1e-3
# A video is constant-rate when no frame's timestamp is off its slot i / fps by this many frames.
CONSTANT_RATE_TOLERANCE = 0.25


def video_frame_indices(
    start_time: float,
    steps: np.ndarray | Sequence[int],
    fps: float,
    video_fps: float,
    frame_times: np.ndarray | None = None,
) -> np.ndarray:
    """(N,) int64 video frame on screen at each chunk step (a 30 fps chunk of a 60 fps video
    takes every other frame); step 0 is the frame on screen at `start_time`.

    `frame_times` (from `variable_frame_times`) are the presentation times of a variable-rate
    video: the frame shown at t is the last one whose timestamp is <= t. Without them the video
    is taken as constant-rate: frame floor(t * video_fps)."""
    seconds = start_time + np.asarray(steps, dtype=np.float64) / fps
    if frame_times is None:
        return np.maximum(0, np.floor(seconds * video_fps + EDGE_SECONDS)).astype(np.int64)
    shown = np.searchsorted(frame_times, seconds + TIMESTAMP_SLACK_SECONDS, side="right") - 1
    return np.maximum(0, shown).astype(np.int64)


def _sorted_pts(path: str | Path) -> tuple[np.ndarray, float]:
    """(sorted packet timestamps, time base) of the video stream; no decoding."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            packets = [p for p in container.demux(stream) if p.size > 0]
            time_base = float(stream.time_base)
    except (av.FFmpegError, IndexError, OSError) as error:
        raise VideoError(f"{path}: cannot read the frame timestamps: {error}") from error
    return checked_timestamps([p.pts for p in packets], path), time_base


def checked_timestamps(pts: Sequence[int | None], path: str | Path) -> np.ndarray:
    """Sorted frame timestamps; UntrustedTiming when some are missing or repeated (frames
    could then not be placed in time)."""
    if not len(pts) or any(p is None for p in pts):
        raise UntrustedTiming(f"{path}: untrusted timing: frames without presentation timestamps")
    ordered = np.sort(np.asarray(pts, dtype=np.int64))
    if (np.diff(ordered) <= 0).any():
        raise UntrustedTiming(f"{path}: untrusted timing: several frames share a timestamp")
    return ordered


def read_frame_times(path: str | Path) -> np.ndarray:
    """(N,) presentation time of every frame, in seconds from the first, read from the
    container's packets (no decoding). Raises VideoError when the timestamps are unusable."""
    pts, time_base = _sorted_pts(path)
    return (pts - pts[0]) * time_base


def variable_frame_times(path: str | Path, fps: float) -> np.ndarray | None:
    """The frame times of a variable-frame-rate video, or None when frame i is shown at i / fps
    (then indices follow from the rate alone). Raises VideoError for untrusted timing."""
    times = read_frame_times(path)
    slots = np.arange(len(times)) / fps
    if np.abs(times - slots).max(initial=0.0) <= CONSTANT_RATE_TOLERANCE / fps:
        return None
    return times


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
        # Frames are indexed by their timestamps, read once from the packets: exact for
        # variable-frame-rate files too, where pts x average rate is not the index.
        pts, time_base = _sorted_pts(path)
        self._start, self._times = pts[0] * time_base, (pts - pts[0]) * time_base
        self._tolerance = 0.5 * float(np.diff(self._times).min(initial=1.0 / self.fps))
        self.num_frames = len(self._times)
        self._frames: Iterator | None = None
        self._next_index = 0

    def _index_of(self, frame) -> int:
        seconds = float(frame.pts * frame.time_base) - self._start
        return int(np.searchsorted(self._times, seconds + self._tolerance) - 1)

    def _seek(self, index: int) -> None:
        target = int((self._start + self._times[index]) / self._stream.time_base)
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
