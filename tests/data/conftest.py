"""Tiny NitroGen corpora for the hub-dataset and window tests: a few mp4s plus chunks.

Frame `i` of every video carries its own index as 8 black/white blocks (bits) in its top-left
corner, so tests can tell which video frame a sample holds without trusting the decoder.
Videos are encoded losslessly (crf 0) so pixel comparisons are exact.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from nitrogen_hf.actions import BUTTONS, STICKS, GamepadActions, mask_for_buttons
from nitrogen_hf.data.metadata import ChunkMetadata, OriginalVideo
from nitrogen_hf.data.nitrogen_writer import write_chunk
from nitrogen_hf.data.video_writer import write_mp4

HEIGHT, WIDTH = 48, 64
BIT_BLOCK = 8  # px side of one bit of the frame-index code: 2 rows x 4 blocks, top-left
OVERLAY_BOX = (48, 32, 16, 16)  # x, y, w, h: bottom-right corner
# The 17 button columns of the released data (no right-stick-as-buttons) plus both sticks.
RELEASED_OBSERVED = mask_for_buttons(
    [b for b in BUTTONS if b not in ("right_bottom", "right_left", "right_right", "right_up")],
    STICKS,
)


def _bit_blocks() -> list[tuple[int, int]]:
    """(row, col) of the top-left corner of each bit's block, least significant first."""
    return [(r * BIT_BLOCK, c * BIT_BLOCK) for r in range(2) for c in range(4)]


def frame_index_of(frames, source_width: int = WIDTH) -> np.ndarray:
    """Video frame index coded in `(..., 3, H, W)` frames, resized from `source_width` x HEIGHT."""
    frames = np.asarray(frames)
    sy, sx = frames.shape[-2] / HEIGHT, frames.shape[-1] / source_width
    index = np.zeros(frames.shape[:-3], int)
    for bit, (y, x) in enumerate(_bit_blocks()):
        centre = frames[..., 0, int((y + BIT_BLOCK / 2) * sy), int((x + BIT_BLOCK / 2) * sx)]
        index += (centre > 127).astype(int) << bit
    return index


def synthetic_frames(num_frames: int, overlay: str = "noise", seed: int = 0) -> np.ndarray:
    """(N, H, W, 3) uint8: index patch, a moving square, and an overlay box (noise or zeros)."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((num_frames, HEIGHT, WIDTH, 3), np.uint8)
    x, y, w, h = OVERLAY_BOX
    for i in range(num_frames):
        for bit, (top, left) in enumerate(_bit_blocks()):
            frames[i, top : top + BIT_BLOCK, left : left + BIT_BLOCK] = 255 * ((i >> bit) & 1)
        left = (3 * i) % 40
        frames[i, 20:28, left : left + 8] = (255, 200, 40)
        if overlay == "noise":
            frames[i, y : y + h, x : x + w] = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return frames


def make_video(
    path: Path, num_frames: int, fps: int, overlay: str = "noise", seed: int = 0
) -> Path:
    return write_mp4(
        path, synthetic_frames(num_frames, overlay, seed), fps, crf=0, keyframe_interval=10
    )


def random_actions(
    num_frames: int, seed: int, observed: np.ndarray | None = None
) -> GamepadActions:
    rng = np.random.default_rng(seed)
    observed = RELEASED_OBSERVED if observed is None else observed
    buttons = rng.integers(0, 2, (num_frames, len(BUTTONS))) * observed[: len(BUTTONS)]
    sticks = rng.uniform(-1, 1, (num_frames, 4)).astype(np.float32) * observed[len(BUTTONS) :]
    return GamepadActions(buttons, sticks, observed)


@dataclass
class ChunkSpec:
    """What a test expects for one written chunk."""

    metadata: ChunkMetadata
    actions: GamepadActions
    confidence: np.ndarray | None = None
    identifiable: np.ndarray | None = None  # (N, 25) int8 probe masks, -1 = not probed
    video: str | None = None  # file name under videos/, None when absent on purpose


@dataclass
class Corpus:
    root: Path
    actions: list[Path]  # actions roots to pass to build_dataset
    videos: Path
    chunks: dict[str, ChunkSpec] = field(default_factory=dict)  # by uuid

    def usable(self) -> dict[str, ChunkSpec]:
        return {u: c for u, c in self.chunks.items() if c.metadata.video_id.startswith("vid_ok")}


def chunk_metadata(
    video_id: str,
    index: int,
    start: float,
    end: float,
    rows: int,
    fps: float | None = None,
    overlay: tuple | None = OVERLAY_BOX,
    game: str = "alpha",
    extra: dict | None = None,
    game_area: dict | None = None,
) -> ChunkMetadata:
    video = OriginalVideo(
        video_id=video_id,
        start_time=start,
        end_time=end,
        source="youtube",
        url=f"https://example.com/{video_id}",
        resolution=(HEIGHT, WIDTH),
        duration=end - start,
        fps=fps,
    )
    return ChunkMetadata(
        uuid=f"{video_id}_chunk_{index:04d}_actions",
        chunk_id=f"{index:04d}",
        chunk_size=rows,
        original_video=video,
        game=game,
        controller_type="xboxone",
        bbox_controller_overlay=overlay,
        bbox_game_area=game_area,
        extra=extra or {},
    )


def _tar_folder(folder: Path, shard: Path) -> Path:
    with tarfile.open(shard, "w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.add(path, arcname=path.relative_to(folder).as_posix())
    return shard


def build_corpus(root: Path) -> Corpus:
    """Ground truth as a .tar.gz shard, pseudo-labels as a folder, and broken cases.

    vid_ok_a: 30 fps, 90 frames, overlay; three 1 s chunks.
    vid_ok_b: 60 fps, 120 frames, no overlay, game area; a 60 fps chunk (ground truth) and a
      30 fps pseudo-labelled chunk (every other video frame).
    vid_missing (no file), vid_bad (not a video), vid_short (20 frames, chunk needs 30).
    """
    videos = root / "videos"
    make_video(videos / "vid_ok_a.mp4", 90, 30)
    make_video(videos / "vid_ok_b.mp4", 120, 60, overlay="zeros")
    make_video(videos / "vid_short.mp4", 20, 30)
    (videos / "vid_bad.mp4").write_bytes(b"this is not an mp4 file" * 10)
    area = {"xtl": 0.0, "ytl": 0.0, "xbr": 0.75, "ybr": 1.0}
    specs = [
        ChunkSpec(
            chunk_metadata("vid_ok_a", i, float(i), i + 1.0, 30),
            random_actions(30, i),
            video="vid_ok_a.mp4",
        )
        for i in range(3)
    ]
    specs.append(
        ChunkSpec(
            chunk_metadata(
                "vid_ok_b", 0, 0.5, 1.5, 60, fps=60, overlay=None, game="beta", game_area=area
            ),
            random_actions(60, 10),
            video="vid_ok_b.mp4",
        )
    )
    specs += [
        ChunkSpec(chunk_metadata("vid_missing", 0, 0.0, 1.0, 30), random_actions(30, 11)),
        ChunkSpec(
            chunk_metadata("vid_bad", 0, 0.0, 1.0, 30), random_actions(30, 12), video="vid_bad.mp4"
        ),
        ChunkSpec(
            chunk_metadata("vid_short", 0, 0.0, 1.0, 30),
            random_actions(30, 13),
            video="vid_short.mp4",
        ),
    ]
    probed = np.full((30, 25), -1, np.int8)
    probed[::10] = np.random.default_rng(5).integers(0, 2, (3, 25))  # frames 0, 10, 20
    specs[0].identifiable = probed
    gt_folder = root / "gt_folder"
    for spec in specs:
        write_chunk(gt_folder, spec.metadata, spec.actions, identifiable=spec.identifiable)
    shard = _tar_folder(gt_folder, root / "SHARD_0000.tar.gz")

    pseudo_extra = {"label_source": "idm", "idm_checkpoint": "ckpt-7", "filter": "idle"}
    pseudo = ChunkSpec(
        chunk_metadata("vid_ok_b", 1, 1.5, 2.0, 15, overlay=None, game="beta", extra=pseudo_extra),
        random_actions(15, 14, observed=np.ones(25, bool)),
        confidence=np.linspace(0.5, 1.0, 15, dtype=np.float32),
        video="vid_ok_b.mp4",
    )
    pseudo_root = root / "pseudo"
    write_chunk(pseudo_root, pseudo.metadata, pseudo.actions, pseudo.confidence)
    specs.append(pseudo)
    return Corpus(root, [shard, pseudo_root], videos, {s.metadata.uuid: s for s in specs})


@pytest.fixture(scope="session")
def hub_corpus(tmp_path_factory) -> Corpus:
    return build_corpus(tmp_path_factory.mktemp("hub_corpus"))


@pytest.fixture(scope="session")
def hub_built(hub_corpus, tmp_path_factory):
    """The corpus built into a dataset folder (train and validation by video)."""
    from nitrogen_hf.data.build import BuildConfig, build_dataset

    out = tmp_path_factory.mktemp("hub_built")
    config = BuildConfig(
        actions=hub_corpus.actions,
        videos=hub_corpus.videos,
        out=out,
        validation_fraction=0.25,
        rows_per_shard=1,
        progress=False,
    )
    return out, build_dataset(config)


@pytest.fixture(scope="session")
def hub_kit() -> SimpleNamespace:
    """The helpers above, for test modules (importing from conftest breaks with nested conftests)."""
    return SimpleNamespace(
        HEIGHT=HEIGHT,
        WIDTH=WIDTH,
        OVERLAY_BOX=OVERLAY_BOX,
        frame_index_of=frame_index_of,
        synthetic_frames=synthetic_frames,
        make_video=make_video,
        random_actions=random_actions,
        chunk_metadata=chunk_metadata,
        build_corpus=build_corpus,
    )
