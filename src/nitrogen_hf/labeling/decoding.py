"""Open a video for labeling: decoded straight to the IDM's input size when torchcodec can.

Full decode + `prepare_frames` converts every pixel of a 720p frame to RGB and then resizes
it; torchcodec's Resize transform lets FFmpeg scale while it converts from YUV, which is
several times cheaper on large videos (see scripts/bench_label.py) and gives frames within a
grey level of `prepare_frames` (antialiased bilinear both). Frames then still go through
`prepare_frames`, which leaves frames already at the model size untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nitrogen_hf.data.video import (
    Backend,
    TorchCodecReader,
    VideoError,
    VideoReader,
    open_video,
    torchcodec_available,
)


class ScaledTorchCodecReader(TorchCodecReader):
    """A torchcodec reader whose frames come out at `size` (height, width).

    `height`/`width` are those of the frames it returns; `source_size` is the file's own.
    """

    def __init__(self, path: str | Path, size: Sequence[int], num_threads: int = 1):
        from torchcodec.decoders import VideoDecoder
        from torchcodec.transforms import Resize

        self.path = Path(path)
        try:
            self._decoder = VideoDecoder(
                str(path),
                device="cpu",
                num_ffmpeg_threads=num_threads,
                transforms=[Resize(tuple(size))],
            )
        except Exception as error:  # torchcodec raises RuntimeError/ValueError variants
            raise VideoError(f"{path}: cannot open with torchcodec: {error}") from error
        meta = self._decoder.metadata
        self.fps = float(meta.average_fps)
        self.num_frames = int(meta.num_frames)
        self.source_size = (int(meta.height), int(meta.width))
        self.height, self.width = int(size[0]), int(size[1])


def open_for_labeling(
    path: str | Path,
    size: Sequence[int],
    backend: Backend = "auto",
    resize_in_decoder: bool = True,
    num_threads: int = 1,
) -> VideoReader:
    """A reader for `path`; frames come at `size` when `resize_in_decoder` and torchcodec allow."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: video file not found")
    if resize_in_decoder and backend != "pyav" and torchcodec_available():
        return ScaledTorchCodecReader(path, size, num_threads)
    return open_video(path, backend, num_threads)


def source_size(reader: VideoReader) -> tuple[int, int]:
    """(height, width) of the video file, whatever size the reader delivers frames at."""
    return getattr(reader, "source_size", (reader.height, reader.width))
