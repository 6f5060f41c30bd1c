"""Run the IDM over a whole video of any length: one action and one confidence per frame.

The video is decoded once, front to back, in small batches; frames are prepared for the
model (no overlay to mask on walkthroughs) and held only for the current segment (see
`segments.py`), so memory stays flat however long the video is.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

from nitrogen_hf.actions import ACTION_DIM
from nitrogen_hf.data.frames import prepare_frames
from nitrogen_hf.data.video import VideoError, VideoReader, video_frame_indices
from nitrogen_hf.labeling.segments import plan_segments

T = TypeVar("T")
_END = object()


@dataclass
class VideoLabels:
    """IDM output for one video sampled at `fps`: row t labels the transition t -> t+1.

    vector: (N-1, 25) model-layout actions (button probabilities, sticks in [0, 1]);
    confidence: (N-1,); motion: (N-1,) mean |frame t+1 - frame t| in 0-255 levels, measured on
    the frames the IDM sees; frame_index: (N,) video frame of each of the N sampled frames.
    """

    vector: np.ndarray
    confidence: np.ndarray
    motion: np.ndarray
    frame_index: np.ndarray
    fps: float

    @property
    def num_frames(self) -> int:
        return len(self.frame_index)


def sampled_frames(
    num_video_frames: int,
    video_fps: float,
    fps: float | None,
    frame_times: np.ndarray | None = None,
) -> np.ndarray:
    """(N,) video frame index of each labeled frame, at a fixed rate: every frame of a
    constant-rate video (or one per 1/fps), and for a variable-rate one (`frame_times`) the
    frame on screen at each tick of the rate, so labels keep the video's own timing."""
    if frame_times is None and (fps is None or fps >= video_fps):
        return np.arange(num_video_frames)
    rate = video_fps if fps is None else min(fps, video_fps)
    duration = num_video_frames / video_fps if frame_times is None else frame_times[-1] + 1 / rate
    count = int(np.ceil(duration * rate - 1e-6))
    index = video_frame_indices(0.0, np.arange(count), rate, video_fps, frame_times)
    return index[index < num_video_frames]


def frame_changes(frames: torch.Tensor) -> np.ndarray:
    """(N-1,) mean absolute difference between consecutive frames of (N, C, H, W) uint8."""
    pixels = frames.to(torch.int16)
    return (pixels[1:] - pixels[:-1]).abs().float().mean(dim=(1, 2, 3)).numpy()


def iter_prepared(
    reader: VideoReader, frame_index: np.ndarray, size, decode_batch: int
) -> Iterator[torch.Tensor]:
    """Prepared frames (n, 3, H, W) uint8 of the sampled video frames, in order, in batches."""
    for first, frames in reader.iter_batches(decode_batch):
        wanted = frame_index[(frame_index >= first) & (frame_index < first + len(frames))]
        if len(wanted):
            yield prepare_frames(frames[torch.from_numpy(wanted - first)], size)


def prefetch(items: Iterator[T], depth: int) -> Iterator[T]:
    """Yield from `items`, produced up to `depth` ahead in a background thread, so decoding
    overlaps with the IDM (FFmpeg and torch release the GIL; on a GPU the model would
    otherwise wait for every batch). Errors of the producer are raised here. Close the
    generator (or exhaust it) before closing what `items` reads from."""
    if depth < 1:
        yield from items
        return
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                slots.put((item, None))
                if stop.is_set():
                    return
            slots.put((_END, None))
        except BaseException as error:  # handed to the consumer, raised there
            slots.put((_END, error))

    worker = threading.Thread(target=produce, name="nitrogen-decode", daemon=True)
    worker.start()
    try:
        while True:
            item, error = slots.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting for a free slot
            with suppress(queue.Empty):
                slots.get(timeout=0.05)


class FrameWindow:
    """Frames [start, stop) of a stream of batches, dropping those no later request needs."""

    def __init__(self, batches: Iterator[torch.Tensor]):
        self._batches = batches
        self._frames: torch.Tensor | None = None
        self._first = 0  # index of self._frames[0] in the stream

    def take(self, start: int, stop: int) -> torch.Tensor:
        """Frames [start, stop); later calls must not ask for frames before `start`."""
        have = 0 if self._frames is None else len(self._frames)
        parts = [] if self._frames is None else [self._frames]
        while self._first + have < stop:
            batch = next(self._batches)  # StopIteration: fewer frames than the reader promised
            parts.append(batch)
            have += len(batch)
        frames = torch.cat(parts)[start - self._first :]
        self._frames, self._first = frames, start
        return frames[: stop - start]


@torch.no_grad()
def label_video(
    model,
    reader: VideoReader,
    fps: float | None = None,
    segment_seconds: float = 20.0,
    batch_size: int = 64,
    decode_batch: int = 32,
    prefetch_batches: int = 4,
    frame_times: np.ndarray | None = None,
) -> VideoLabels:
    """Label every sampled frame of `reader` with `model` (a NitroGenIDM), segment by segment,
    decoding up to `prefetch_batches` batches ahead in a background thread (0: inline).
    `frame_times`: the timestamps of a variable-rate video (see `sampled_frames`)."""
    if reader.num_frames < 1 or reader.fps <= 0:
        raise VideoError(
            f"{reader.path}: no frames to label ({reader.num_frames} at {reader.fps} fps)"
        )
    frame_index = sampled_frames(reader.num_frames, reader.fps, fps, frame_times)
    rate = reader.fps if fps is None else min(fps, reader.fps)
    n = len(frame_index)
    vector = np.zeros((max(n - 1, 0), ACTION_DIM), np.float32)
    confidence = np.zeros(max(n - 1, 0), np.float32)
    motion = np.zeros(max(n - 1, 0), np.float32)
    size = tuple(model.config.frame_size)
    segment_transitions = max(1, round(segment_seconds * rate))
    batches = prefetch(iter_prepared(reader, frame_index, size, decode_batch), prefetch_batches)
    with closing(batches):
        window = FrameWindow(batches)
        for segment in plan_segments(n, segment_transitions, model.config.num_frames):
            frames = _take(window, segment.start, segment.stop, reader)
            prediction = model.predict_sequence(frames, batch_size=batch_size)
            keep = slice(segment.keep_start - segment.start, segment.keep_stop - segment.start)
            out = slice(segment.keep_start, segment.keep_stop)
            vector[out] = prediction.vector[keep].float().numpy()
            confidence[out] = prediction.confidence[keep].float().numpy()
            motion[out] = frame_changes(frames)[keep]
    return VideoLabels(vector, confidence, motion, frame_index, float(rate))


def _take(window: FrameWindow, start: int, stop: int, reader: VideoReader) -> torch.Tensor:
    try:
        return window.take(start, stop)
    except StopIteration as error:
        raise VideoError(
            f"{reader.path}: decoding ended before frame {stop} of {reader.num_frames} "
            "(file truncated or corrupt?)"
        ) from error
