"""Find a chunk's source video in the user's own download folder (NitroGen ships no videos)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from nitrogen_hf.data.video import VIDEO_EXTENSIONS


class VideoLocator:
    """Resolves `video_id` to a local file: `<dir>/**/<video_id>.<ext>` or a mapping file.

    A mapping file is CSV with columns `video_id,path` or a JSON object `{video_id: path}`;
    relative paths are taken relative to the mapping file. The mapping wins over the folder.
    """

    def __init__(self, videos_dir: str | Path | None = None, mapping_file: str | Path | None = None):
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
    return {str(vid): (base / str(p)) if not Path(str(p)).is_absolute() else Path(str(p)) for vid, p in pairs}
