"""`nitrogen-hf render`: draw a video's pseudo-labels over it so a person can check them.

Kept frames show the predicted gamepad (the recorder's overlay) and a confidence bar along
the top, green at or above the labeler's threshold (the white tick), orange below. Dropped
stretches are greyed out with a caption naming the reason ("dropped: idle").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nitrogen_hf.actions import NUM_BUTTONS, NUM_STICK_AXES
from nitrogen_hf.data.nitrogen_reader import iter_chunks
from nitrogen_hf.data.video import Backend, open_video
from nitrogen_hf.labeling.filters import REASONS, reasons_from_spans
from nitrogen_hf.labeling.output import ACTIONS_DIR, read_marker

UNLABELED = len(REASONS) + 1  # reason code of frames no chunk and no marker explain
BAR_COLOR, LOW_BAR_COLOR, BAR_BACKGROUND = (60, 220, 60), (255, 150, 30), (30, 30, 30)
CAPTION_COLOR, CAPTION_BACKGROUND = (255, 255, 255), (0, 0, 0)


@dataclass
class RenderConfig:
    """Which video, which labeling output, where to write."""

    video: Path
    labels: Path  # the label job's OUT folder (with actions/ and labeled/)
    out: Path
    scale: int = 1  # integer upscaling (nearest) so small videos get readable captions
    backend: Backend = "auto"

    def __post_init__(self) -> None:
        self.video, self.labels, self.out = Path(self.video), Path(self.labels), Path(self.out)
        if self.scale < 1:
            raise ValueError(f"scale must be >= 1, got {self.scale}")


@dataclass
class FrameLabels:
    """Per labeled frame: buttons (N, 21), sticks (N, 4), confidence (N,), reason codes (N,)."""

    buttons: np.ndarray
    sticks: np.ndarray
    confidence: np.ndarray
    reasons: np.ndarray
    fps: float | None  # action rate (None: the video's)
    threshold: float | None  # the confidence threshold the labeler used


def load_frame_labels(labels_dir: Path, video_id: str, num_frames: int) -> FrameLabels:
    """Labels of `video_id` from its chunks, and why the other frames were dropped (marker)."""
    marker = read_marker(labels_dir, video_id)
    n = marker["frames"] if marker else num_frames
    labels = FrameLabels(
        np.zeros((n, NUM_BUTTONS), np.uint8),
        np.zeros((n, NUM_STICK_AXES), np.float32),
        np.zeros(n, np.float32),
        reasons_from_spans(marker["spans"], n) if marker else np.full(n, UNLABELED, np.int8),
        marker["fps"] if marker else None,
        None,
    )
    folder = labels_dir / ACTIONS_DIR / video_id
    if not folder.is_dir():
        if marker is None:
            raise FileNotFoundError(f"{labels_dir}: no labels for video '{video_id}'")
        return labels
    for chunk in iter_chunks(folder):
        start = round(chunk.metadata.original_video.start_time * chunk.metadata.fps)
        stop = min(start + chunk.num_frames, n)
        labels.buttons[start:stop] = chunk.actions.buttons[: stop - start]
        labels.sticks[start:stop] = chunk.actions.sticks[: stop - start]
        if chunk.confidence is not None:
            labels.confidence[start:stop] = chunk.confidence[: stop - start]
        labels.reasons[start:stop] = 0
        labels.fps = labels.fps or chunk.metadata.fps
        thresholds = chunk.metadata.extra.get("label_thresholds", {})
        labels.threshold = thresholds.get("min_confidence", labels.threshold)
    return labels


def draw_confidence_bar(frame: np.ndarray, confidence: float, threshold: float | None) -> None:
    """A bar along the top of `frame` (H, W, 3), in place: its length is the confidence."""
    height, width = frame.shape[:2]
    bar = max(3, height // 40)
    frame[:bar] = BAR_BACKGROUND
    sure = threshold is None or confidence >= threshold
    frame[:bar, : int(round(np.clip(confidence, 0, 1) * width))] = (
        BAR_COLOR if sure else LOW_BAR_COLOR
    )
    if threshold is not None:
        tick = min(width - 1, int(round(threshold * width)))
        frame[:bar, max(0, tick - 1) : tick + 1] = 255


def grey_with_caption(frame: np.ndarray, caption: str) -> np.ndarray:
    """`frame` (H, W, 3) greyed and darkened, with `caption` written in its top-left corner."""
    from PIL import Image, ImageDraw, ImageFont

    grey = (frame.mean(axis=2, keepdims=True) * 0.5 + 30).astype(np.uint8).repeat(3, axis=2)
    image = Image.fromarray(grey)
    height = frame.shape[0]
    font = ImageFont.load_default(size=max(9, height // 24))
    draw = ImageDraw.Draw(image)
    corner = (4, max(4, height // 40 + 2))
    left, top, right, bottom = draw.textbbox(corner, caption, font=font)
    draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=CAPTION_BACKGROUND)
    draw.text(corner, caption, fill=CAPTION_COLOR, font=font)
    return np.asarray(image)


def caption_of(code: int) -> str:
    return "not labeled" if code == UNLABELED else f"dropped: {REASONS[code - 1]}"


def render(config: RenderConfig) -> dict:
    """Write the labeled video; returns frame counts (written, kept, dropped)."""
    from nitrogen_hf.data.video_writer import Mp4Writer
    from nitrogen_hf.envs.overlay import GamepadOverlay

    with open_video(config.video, config.backend) as reader:
        labels = load_frame_labels(config.labels, config.video.stem, reader.num_frames)
        height = (reader.height - reader.height % 2) * config.scale  # H.264 needs even sizes
        width = (reader.width - reader.width % 2) * config.scale
        overlay = GamepadOverlay(height, width)
        step_of = _step_of_frame(reader.num_frames, reader.fps, labels.fps)
        kept = 0
        with Mp4Writer(config.out, round(reader.fps), width, height) as writer:
            for first, frames in reader.iter_batches(32):
                pixels = frames.permute(0, 2, 3, 1).numpy()
                for offset, frame in enumerate(pixels):
                    frame = _scaled(frame, config.scale)[:height, :width]
                    step = min(step_of[first + offset], len(labels.reasons) - 1)
                    code = int(labels.reasons[step])
                    if code == 0:
                        frame = overlay.draw(frame, labels.buttons[step], labels.sticks[step])
                        draw_confidence_bar(frame, float(labels.confidence[step]), labels.threshold)
                        kept += 1
                    else:
                        frame = grey_with_caption(frame, caption_of(code))
                    writer.write(frame)
            written = writer.num_frames
    return {
        "out": str(config.out),
        "frames": written,
        "kept_frames": kept,
        "dropped_frames": written - kept,
    }


def _step_of_frame(num_frames: int, video_fps: float, fps: float | None) -> np.ndarray:
    """(num_frames,) labeled frame shown at each video frame (they differ when fps < video's)."""
    index = np.arange(num_frames)
    if fps is None or fps >= video_fps:
        return index
    return np.floor(index * fps / video_fps + 1e-6).astype(np.int64)


def _scaled(frame: np.ndarray, scale: int) -> np.ndarray:
    return frame if scale == 1 else frame.repeat(scale, axis=0).repeat(scale, axis=1)
