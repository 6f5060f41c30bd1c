"""Small data builders shared by tests (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import numpy as np


def moving_square_video(
    num_frames: int, height: int = 48, width: int = 64, seed: int = 0
) -> np.ndarray:
    """(N, H, W, 3) uint8 frames with a square that moves, so every frame differs."""
    rng = np.random.default_rng(seed)
    frames = np.full((num_frames, height, width, 3), 40, np.uint8)
    color = rng.integers(80, 255, 3)
    for i in range(num_frames):
        x, y = (3 * i) % (width - 8), (2 * i) % (height - 8)
        frames[i, y : y + 8, x : x + 8] = color
    return frames


def sprite_game(num_frames: int, seed: int, size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """A tiny game whose action is visible: a sprite moves with the d-pad, flashes on `south`.

    Returns frames (N, size, size, 3) uint8 and Atari-style env actions (N,) where frame t+1
    shows the effect of action t. Actions are held for a few frames, like a person would.
    """
    from nitrogen_hf.actions import ATARI_ACTIONS

    moves = {
        "NOOP": (0, 0),
        "FIRE": (0, 0),
        "UP": (0, -3),
        "DOWN": (0, 3),
        "LEFT": (-3, 0),
        "RIGHT": (3, 0),
    }
    names = list(moves)
    rng = np.random.default_rng(seed)
    frames = np.zeros((num_frames, size, size, 3), np.uint8)
    frames[:] = (30, 30, 60)
    actions = np.zeros(num_frames, np.int64)
    x, y, current = size // 2, size // 2, "NOOP"
    for t in range(num_frames):
        color = (250, 80, 80) if t > 0 and names[actions[t - 1]] == "FIRE" else (80, 250, 80)
        frames[t, y - 3 : y + 3, x - 3 : x + 3] = color
        if rng.random() < 0.3:
            current = names[rng.integers(len(names))]
        actions[t] = names.index(current)
        dx, dy = moves[current]
        x, y = int(np.clip(x + dx, 4, size - 4)), int(np.clip(y + dy, 4, size - 4))
    # Map our 6-name order onto the ALE action indices.
    return frames, np.array([ATARI_ACTIONS.index(names[a]) for a in actions])


def make_sprite_dataset(root, num_videos: int = 6, num_frames: int = 120, chunk: int = 60):
    """Videos + NitroGen chunks of `sprite_game`, built into a dataset with a validation split.

    Video ids are chosen so that the validation split (fraction 0.34) is never empty.
    Returns the dataset folder.
    """
    from pathlib import Path

    from nitrogen_hf.actions import ATARI_ACTIONS, AtariActionMap
    from nitrogen_hf.data.build import BuildConfig, build_dataset, split_of
    from nitrogen_hf.data.metadata import ChunkMetadata, OriginalVideo
    from nitrogen_hf.data.nitrogen_writer import write_chunk
    from nitrogen_hf.data.video_writer import write_mp4

    root = Path(root)
    mapping = AtariActionMap(ATARI_ACTIONS)
    ids = [f"sprite-{k:03d}" for k in range(num_videos)]
    while not any(split_of(v, 0.34) == "validation" for v in ids):
        ids[-1] = f"sprite-{int(ids[-1][-3:]) + 1:03d}"  # try the next id for the last video
    for index, video_id in enumerate(ids):
        frames, actions = sprite_game(num_frames, seed=index)
        write_mp4(root / "videos" / f"{video_id}.mp4", frames, fps=30)
        gamepad = mapping.to_gamepad(actions)
        for c, start in enumerate(range(0, num_frames, chunk)):
            video = OriginalVideo(
                video_id,
                start / 30,
                (start + chunk) / 30,
                source="test",
                fps=30,
                resolution=frames.shape[1:3],
                start_frame=start,
            )
            meta = ChunkMetadata(
                f"{video_id}_chunk_{c:04d}_actions", f"{c:04d}", chunk, video, game="sprite"
            )
            write_chunk(root / "actions", meta, gamepad[start : start + chunk])
    build_dataset(
        BuildConfig(
            actions=[root / "actions"],
            videos=root / "videos",
            out=root / "dataset",
            validation_fraction=0.34,
            progress=False,
        )
    )
    return root / "dataset"


def iterate_in_process_group(rank: int, dataset_dir: str, out_dir: str) -> None:
    """One DDP rank: the dataset exists before the process group, as in train-idm."""
    import json
    from pathlib import Path

    import torch.distributed as dist

    from nitrogen_hf.data.hub_dataset import load_chunk_dataset
    from nitrogen_hf.data.windows import WindowConfig, WindowDataset

    dataset = WindowDataset(
        load_chunk_dataset(dataset_dir), WindowConfig.idm(2, frame_size=(12, 16), stride=2)
    )
    dist.init_process_group("gloo", init_method=f"file://{out_dir}/pg", rank=rank, world_size=2)
    keys = [[s["uuid"], s["start_frame"]] for s in dataset]
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(keys))
    dist.destroy_process_group()


def write_vfr_mp4(path, frames, times) -> None:
    """An H.264 mp4 whose frame i is presented at `times[i]` seconds (variable frame rate, as
    screen recordings and streaming-site downloads often are)."""
    from fractions import Fraction
    from pathlib import Path

    import av

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"crf": "10", "g": "10", "bf": "0"}
        for frame, seconds in zip(frames, times, strict=True):
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts, video_frame.time_base = round(seconds * 1000), Fraction(1, 1000)
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def gray_ramp_vfr(num_frames: int = 40):
    """Frames whose grey level 6 i names frame i; the first half at 30 fps, the rest at 10."""
    half = num_frames // 2
    times = np.concatenate([np.arange(half) / 30, half / 30 + np.arange(num_frames - half) / 10])
    frames = np.zeros((num_frames, 32, 32, 3), np.uint8)
    for i in range(num_frames):
        frames[i] = 6 * i
    return frames, times
