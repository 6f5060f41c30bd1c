"""Shared fixtures: a hand-written shard in NitroGen's public layout, with its flaws."""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nitrogen_hf.actions import BUTTONS
from nitrogen_hf.data.video_writer import write_mp4

from helpers import moving_square_video


def action_table(num_rows: int, seed: int, drop: tuple[str, ...] = ()) -> pa.Table:
    """A NitroGen-style actions parquet table (17 button columns, as released)."""
    rng = np.random.default_rng(seed)
    released = [
        b for b in BUTTONS if b not in ("right_bottom", "right_left", "right_right", "right_up")
    ]
    columns = {b: (rng.random(num_rows) < 0.3).astype(np.uint8) for b in released if b not in drop}
    for stick in ("j_left", "j_right"):
        if stick not in drop:
            columns[stick] = [
                list(map(float, v)) for v in rng.uniform(-1, 1, (num_rows, 2)).round(3)
            ]
    return pa.table(columns)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def metadata(
    video_id: str, chunk: int, size: int, fps: float | None, rate: float = 30, **fields
) -> dict:
    """metadata.json of a chunk of `size` rows at `rate` fps; `fps=None` leaves the field out."""
    duration = size / (fps or rate)
    video = {
        "video_id": video_id,
        "source": "youtube",
        "url": f"https://example.invalid/{video_id}",
        "resolution": [48, 64],
        "start_time": chunk * duration,
        "end_time": (chunk + 1) * duration,
        "duration": duration,
        "start_frame": chunk * size,
        "end_frame": (chunk + 1) * size,
    }
    if fps is not None:
        video["fps"] = fps
    data = {
        "uuid": f"{video_id}_chunk_{chunk:04d}_actions",
        "chunk_id": f"{chunk:04d}",
        "chunk_size": size,
        "game": "celeste",
        "controller_type": "xboxone",
        "bbox_controller_overlay": [40, 30, 40, 30],  # overflows the 64x48 frame
        "bbox_game_area": {"xtl": 0.0, "ytl": 0.0, "xbr": 1.0, "ybr": 1.0},
        "original_video": video,
    }
    data.update(fields)
    return data


@dataclass
class NitroGenFixture:
    shard: Path  # .tar.gz
    folder: Path  # the same shard extracted
    videos: Path
    expected_good: set[str]  # chunk uuids that must read
    expected_errors: dict[str, int]  # reader skips by kind
    expected_video_errors: dict[str, int]  # join skips by kind (with --videos)


def _chunk_files() -> dict[str, dict[str, bytes]]:
    """Chunk folder name -> file name -> bytes, covering each case of the format doc."""
    files: dict[str, dict[str, bytes]] = {}

    def add(video_id: str, chunk: int, meta: dict | bytes, **parquets: bytes) -> None:
        folder = f"SHARD_0000/{video_id}/{video_id}_chunk_{chunk:04d}"
        raw = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
        files[folder] = {"metadata.json": raw, **{f"{k}.parquet": v for k, v in parquets.items()}}

    for c in range(2):  # 30 fps, fps given, overlay overflows, processed + raw parquet
        add(
            "vid30",
            c,
            metadata("vid30", c, 30, 30),
            actions_processed=parquet_bytes(action_table(30, c)),
            actions_raw=parquet_bytes(action_table(30, 99)),
        )
    # 60 fps derived from chunk_size / duration; optional fields missing; raw parquet only.
    meta60 = metadata("vid60", 0, 60, None, rate=60)
    for key in ("controller_type", "bbox_controller_overlay", "bbox_game_area"):
        del meta60[key]
    add("vid60", 0, meta60, actions_raw=parquet_bytes(action_table(60, 1)))
    # A button column and a stick missing: unobserved, still readable. Its video is absent.
    add(
        "novideo",
        0,
        metadata("novideo", 0, 30, 30),
        actions_processed=parquet_bytes(action_table(30, 2, drop=("west", "j_right"))),
    )
    add("corrupt", 0, metadata("corrupt", 0, 30, 30), actions_processed=b"PAR1 this is not parquet")
    add(
        "badjson",
        0,
        b'{"uuid": "badjson_chunk_0000_actions", ',
        actions_processed=parquet_bytes(action_table(30, 3)),
    )
    no_size = metadata("nosize", 0, 30, 30)
    del no_size["chunk_size"]
    add("nosize", 0, no_size, actions_processed=parquet_bytes(action_table(30, 4)))
    add(
        "nocols",
        0,
        metadata("nocols", 0, 30, 30),
        actions_processed=parquet_bytes(pa.table({"frame": list(range(30))})),
    )
    add(
        "truncated",
        0,
        metadata("truncated", 0, 30, 30),
        actions_processed=parquet_bytes(action_table(30, 5)),
    )
    add(
        "short",
        0,
        metadata("short", 0, 30, 30),
        actions_processed=parquet_bytes(action_table(30, 6)),
    )
    return files


@pytest.fixture(scope="session")
def nitrogen_fixture(tmp_path_factory: pytest.TempPathFactory) -> NitroGenFixture:
    root = tmp_path_factory.mktemp("nitrogen")
    files = _chunk_files()
    shard = root / "SHARD_0000.tar.gz"
    with tarfile.open(shard, "w:gz") as archive:
        for folder, members in files.items():
            for name, data in members.items():
                info = tarfile.TarInfo(f"{folder}/{name}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    folder = root / "extracted"
    for chunk_folder, members in files.items():
        (folder / chunk_folder).mkdir(parents=True)
        for name, data in members.items():
            (folder / chunk_folder / name).write_bytes(data)
    videos = root / "videos"
    write_mp4(videos / "vid30.mp4", moving_square_video(60), fps=30)
    write_mp4(videos / "vid60.mp4", moving_square_video(60, seed=1), fps=60)
    # A truncated download: the header survives, the frames the chunk needs do not.
    full = write_mp4(
        root / "truncated_full.mp4", moving_square_video(30, seed=2), fps=30
    ).read_bytes()
    (videos / "truncated.mp4").write_bytes(full[: len(full) // 3])
    write_mp4(videos / "short.mp4", moving_square_video(16, seed=3), fps=30)
    return NitroGenFixture(
        shard=shard,
        folder=folder,
        videos=videos,
        expected_good={
            "vid30_chunk_0000_actions",
            "vid30_chunk_0001_actions",
            "vid60_chunk_0000_actions",
            "novideo_chunk_0000_actions",
            "truncated_chunk_0000_actions",
            "short_chunk_0000_actions",
        },
        expected_errors={
            "corrupt_parquet": 1,
            "bad_json": 1,
            "bad_metadata": 1,
            "missing_column": 1,
        },
        expected_video_errors={"missing_video": 1, "unreadable_video": 1, "video_too_short": 1},
    )
