"""Find a chunk's source video in the user's own download folder (NitroGen ships no videos)
and check that it holds the chunk's frames."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nitrogen_hf.data.nitrogen_reader import Chunk
from nitrogen_hf.data.skips import SkipLog
from nitrogen_hf.data.video import (
    VIDEO_EXTENSIONS,
    UntrustedTiming,
    VideoError,
    open_video,
    variable_frame_times,
    video_frame_indices,
)


class VideoLocator:
    """Resolves `video_id` to a local file: `<dir>/**/<video_id>.<ext>` or a mapping file.

    A mapping file is CSV with columns `video_id,path` or a JSON object `{video_id: path}`;
    relative paths are taken relative to the mapping file. The mapping wins over the folder.
    """

    def __init__(
        self, videos_dir: str | Path | None = None, mapping_file: str | Path | None = None
    ):
        self.videos_dir = Path(videos_dir) if videos_dir else None
        self._paths: dict[str, Path] = {}
        if self.videos_dir is not None:
            if not self.videos_dir.is_dir():
                raise FileNotFoundError(f"{self.videos_dir}: video folder not found")
            for path in sorted(self.videos_dir.rglob("*")):
                if path.suffix.lower() in VIDEO_EXTENSIONS and not path.name.startswith("."):
                    self._paths.setdefault(path.stem, path)
        if mapping_file is not None:
            self._paths.update(read_video_map(Path(mapping_file)))

    def __len__(self) -> int:
        return len(self._paths)

    def locate(self, video_id: str) -> Path | None:
        """The video's path, or None when the user has not downloaded it."""
        path = self._paths.get(video_id)
        return path if path is not None and path.is_file() else None


def read_video_map(mapping_file: Path) -> dict[str, Path]:
    """Parse a CSV (`video_id,path`) or JSON (`{video_id: path}`) mapping file."""
    if not mapping_file.is_file():
        raise FileNotFoundError(f"{mapping_file}: video mapping file not found")
    base = mapping_file.parent
    if mapping_file.suffix.lower() == ".json":
        data = json.loads(mapping_file.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{mapping_file}: expected a JSON object {{video_id: path}}")
        pairs = data.items()
    else:
        with mapping_file.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"video_id", "path"} <= set(reader.fieldnames):
                raise ValueError(f"{mapping_file}: CSV needs the columns 'video_id' and 'path'")
            pairs = [(row["video_id"], row["path"]) for row in reader]
    return {
        str(vid): (base / str(p)) if not Path(str(p)).is_absolute() else Path(str(p))
        for vid, p in pairs
    }


@dataclass(frozen=True, eq=False)
class VideoInfo:
    """What a probe tells about a video file; `frame_times` only for variable-rate videos."""

    path: Path
    fps: float
    num_frames: int
    height: int
    width: int
    frame_times: np.ndarray | None = None  # (N,) seconds; None: frame i is shown at i / fps

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps

    def frame_indices(self, start_time: float, steps, fps: float) -> np.ndarray:
        """Video frame on screen at each chunk step, by timestamp."""
        return video_frame_indices(start_time, steps, fps, self.fps, self.frame_times)


class VideoJoiner:
    """Joins chunks to their local videos, probing each video once.

    `join(chunk, skips)` returns the chunk's `VideoInfo`, or records why it cannot be used
    (`missing_video`, `unreadable_video`, `untrusted_timing`, `video_too_short`) and returns
    None. Variable-frame-rate videos are read by timestamp (`VideoInfo.frame_times`).
    """

    def __init__(self, locator: VideoLocator, backend: str = "auto"):
        self.locator = locator
        self.backend = backend
        self._probes: dict[str, VideoInfo | str] = {}

    def probe(self, video_id: str) -> VideoInfo | str:
        """VideoInfo, or the reason it failed ('missing_video: ...')."""
        if video_id not in self._probes:
            self._probes[video_id] = self._probe(video_id)
        return self._probes[video_id]

    def _probe(self, video_id: str) -> VideoInfo | str:
        path = self.locator.locate(video_id)
        if path is None:
            return f"missing_video: no local file for video_id '{video_id}'"
        try:
            with open_video(path, self.backend) as reader:
                size = (reader.fps, reader.num_frames, reader.height, reader.width)
        except VideoError as error:
            return f"unreadable_video: {error}"
        try:
            times = variable_frame_times(path, size[0])
        except UntrustedTiming as error:
            return f"untrusted_timing: {error}"
        except VideoError as error:
            return f"unreadable_video: {error}"
        if times is not None and len(times) != size[1]:
            return f"untrusted_timing: {path}: {len(times)} timestamps for {size[1]} frames"
        return VideoInfo(path, *size, frame_times=times)

    def join(self, chunk: Chunk, skips: SkipLog) -> VideoInfo | None:
        info = self.probe(chunk.video_id)
        if isinstance(info, str):
            kind, message = info.split(": ", 1)
            skips.add(kind, chunk.location, message)
            return None
        start_time = chunk.metadata.original_video.start_time
        last_needed = int(
            info.frame_indices(start_time, [chunk.num_frames - 1], chunk.metadata.fps)[0]
        )
        if last_needed >= info.num_frames:
            skips.add(
                "video_too_short",
                chunk.location,
                f"{info.path} has {info.num_frames} frames but the chunk needs frame {last_needed}",
            )
            return None
        return info
