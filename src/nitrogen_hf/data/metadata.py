"""`metadata.json` of a NitroGen chunk: parse, validate, derive fps, clip the overlay box.

Required fields missing in a chunk make that chunk invalid (`MetadataError`); optional ones
are absent (`None`). Unknown fields are kept in `extra` so a read-write round trip loses
nothing (pseudo-labels add provenance there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

KNOWN_FIELDS = {
    "uuid",
    "chunk_id",
    "chunk_size",
    "game",
    "controller_type",
    "bbox_controller_overlay",
    "bbox_game_area",
    "original_video",
}


# `duration` may differ from end_time - start_time by rounding (released files: ~1 frame).
DURATION_TOLERANCE = 0.01


class MetadataError(ValueError):
    """A chunk's metadata.json lacks a required field or holds an impossible value."""


@dataclass
class OriginalVideo:
    """Where the chunk sits in its source video (times in seconds)."""

    video_id: str
    start_time: float
    end_time: float
    source: str | None = None
    url: str | None = None
    resolution: tuple[int, int] | None = None  # (height, width)
    duration: float | None = None
    start_frame: int | None = None
    end_frame: int | None = None  # inclusive in released files; not used for counts
    fps: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "video_id": self.video_id,
            "source": self.source,
            "url": self.url,
            "resolution": list(self.resolution) if self.resolution else None,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "duration": self.duration,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "fps": self.fps,
        }
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class ChunkMetadata:
    """One chunk's metadata; `fps` and `overlay_box` are derived, validated views."""

    uuid: str
    chunk_id: str
    chunk_size: int
    original_video: OriginalVideo
    game: str | None = None
    controller_type: str | None = None
    bbox_controller_overlay: tuple[float, float, float, float] | None = None  # x, y, w, h px
    bbox_game_area: dict[str, float] | None = None  # relative xtl, ytl, xbr, ybr
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def video_id(self) -> str:
        return self.original_video.video_id

    @property
    def fps(self) -> float:
        """`original_video.fps` when present, else `chunk_size / duration` (format doc)."""
        video = self.original_video
        if video.fps:
            return float(video.fps)
        duration = video.duration or (video.end_time - video.start_time)
        if not duration or duration <= 0:
            raise MetadataError("cannot derive fps: no original_video.fps and no positive duration")
        return _snap_fps(self.chunk_size / duration)

    @property
    def start_frame(self) -> int:
        """First frame of the chunk in the source video."""
        if self.original_video.start_frame is not None:
            return int(self.original_video.start_frame)
        return round(self.original_video.start_time * self.fps)

    def overlay_box(self) -> tuple[int, int, int, int] | None:
        """Overlay (x, y, w, h) in pixels, clipped to the frame; None if absent or empty."""
        if self.bbox_controller_overlay is None:
            return None
        x, y, w, h = self.bbox_controller_overlay
        x0, y0, x1, y1 = math.floor(x), math.floor(y), math.ceil(x + w), math.ceil(y + h)
        if self.original_video.resolution is not None:
            height, width = self.original_video.resolution
            x0, x1 = max(0, min(x0, width)), max(0, min(x1, width))
            y0, y1 = max(0, min(y0, height)), max(0, min(y1, height))
        x0, y0 = max(0, x0), max(0, y0)
        if x1 <= x0 or y1 <= y0:
            raise MetadataError(
                f"bbox_controller_overlay {list(self.bbox_controller_overlay)} lies outside the "
                f"{self.original_video.resolution} frame: a wrong box or resolution would let "
                "the overlay through unmasked"
            )
        return x0, y0, x1 - x0, y1 - y0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "uuid": self.uuid,
            "chunk_id": self.chunk_id,
            "chunk_size": self.chunk_size,
            "game": self.game,
            "controller_type": self.controller_type,
            "bbox_controller_overlay": (
                list(self.bbox_controller_overlay) if self.bbox_controller_overlay else None
            ),
            "bbox_game_area": self.bbox_game_area,
            "original_video": self.original_video.to_json(),
        }
        out = {k: v for k, v in out.items() if v is not None}
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, data: Any) -> ChunkMetadata:
        """Validate a parsed metadata.json; raises MetadataError naming the bad field."""
        if not isinstance(data, dict):
            raise MetadataError(f"expected a JSON object, got {type(data).__name__}")
        video = data.get("original_video")
        if not isinstance(video, dict):
            raise MetadataError("required field 'original_video' missing")
        original = OriginalVideo(
            video_id=_required_str(video, "video_id", "original_video.video_id"),
            start_time=_required_float(video, "start_time", "original_video.start_time"),
            end_time=_required_float(video, "end_time", "original_video.end_time"),
            source=video.get("source"),
            url=video.get("url"),
            resolution=_resolution(video.get("resolution")),
            duration=_optional_float(video, "duration"),
            start_frame=_optional_int(video, "start_frame"),
            end_frame=_optional_int(video, "end_frame"),
            fps=_optional_float(video, "fps"),
        )
        if original.end_time <= original.start_time:
            raise MetadataError(
                f"original_video.end_time ({original.end_time}) <= start_time ({original.start_time})"
            )
        span = original.end_time - original.start_time
        if (
            original.duration is not None
            and abs(original.duration - span) > DURATION_TOLERANCE * span
        ):
            raise MetadataError(
                f"original_video.duration ({original.duration}) contradicts end_time - start_time "
                f"({span:.6g}); the chunk's fps would be wrong"
            )
        chunk_size = data.get("chunk_size")
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size <= 0:
            raise MetadataError(
                f"required field 'chunk_size' missing or not a positive int: {chunk_size!r}"
            )
        uuid = data.get("uuid") or f"{original.video_id}_chunk_{data.get('chunk_id', '?')}_actions"
        meta = cls(
            uuid=str(uuid),
            chunk_id=str(data.get("chunk_id", "")),
            chunk_size=chunk_size,
            original_video=original,
            game=data.get("game"),
            controller_type=data.get("controller_type"),
            bbox_controller_overlay=_overlay(data.get("bbox_controller_overlay")),
            bbox_game_area=_game_area(data.get("bbox_game_area")),
            extra={k: v for k, v in data.items() if k not in KNOWN_FIELDS},
        )
        meta.fps  # noqa: B018 - validates that fps can be derived
        meta.overlay_box()  # validates the box against the resolution, when there is one
        return meta


def _snap_fps(fps: float) -> float:
    """Round a derived fps to the nearest common rate when within 1% (600/20.03 -> 30)."""
    for common in (24.0, 25.0, 30.0, 50.0, 60.0, 15.0, 120.0):
        if abs(fps - common) / common < 0.01:
            return common
    return fps


def _required_str(obj: dict, key: str, name: str) -> str:
    value = obj.get(key)
    if value is None or value == "":
        raise MetadataError(f"required field '{name}' missing")
    return str(value)


def _required_float(obj: dict, key: str, name: str) -> float:
    value = obj.get(key)
    if value is None:
        raise MetadataError(f"required field '{name}' missing")
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise MetadataError(f"field '{name}' is not a number: {value!r}") from error


def _optional_float(obj: dict, key: str) -> float | None:
    value = obj.get(key)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError) as error:
        raise MetadataError(f"field 'original_video.{key}' is not a number: {value!r}") from error


def _optional_int(obj: dict, key: str) -> int | None:
    value = _optional_float(obj, key)
    return None if value is None else int(value)


def _resolution(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2 or min(value) <= 0:
        raise MetadataError(f"original_video.resolution must be [height, width], got {value!r}")
    return int(value[0]), int(value[1])


def _overlay(value: Any) -> tuple[float, float, float, float] | None:
    """The overlay box, refused when masking it could not work: the overlay shows the answer."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise MetadataError(f"bbox_controller_overlay must be [x, y, w, h], got {value!r}")
    try:
        box = tuple(float(v) for v in value)
    except (TypeError, ValueError) as error:
        raise MetadataError(f"bbox_controller_overlay is not numbers: {value!r}") from error
    if not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
        raise MetadataError(
            f"bbox_controller_overlay {list(value)} has no positive width and height: the "
            "overlay could not be masked and would leak the actions into the model's input"
        )
    return box  # type: ignore[return-value]


def _game_area(value: Any) -> dict[str, float] | None:
    if value is None:
        return None
    keys = ("xtl", "ytl", "xbr", "ybr")
    if not isinstance(value, dict) or any(k not in value for k in keys):
        raise MetadataError(f"bbox_game_area must have {keys}, got {value!r}")
    return {k: float(value[k]) for k in keys}
