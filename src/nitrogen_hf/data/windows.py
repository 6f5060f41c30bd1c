"""Training samples cut from chunk rows: T consecutive frames with the actions of A steps.

One layout serves both models. The IDM takes T frames and the T-1 transitions between them
(`action_offset=0`); the policy takes C context frames and H actions from the last one
(`action_offset=C-1`). Windows stay inside a chunk, whose frames are decoded once, in
sequential batches, masked at native resolution and resized (`prepare_frames`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import datasets
import numpy as np
import torch
from datasets.distributed import split_dataset_by_node

from nitrogen_hf.actions import GamepadActions
from nitrogen_hf.data.frames import DEFAULT_MASK_MARGIN, prepare_frames
from nitrogen_hf.data.nitrogen_reader import ChunkError
from nitrogen_hf.data.video import Backend, VideoError, VideoReader, open_video, video_frame_indices

logger = logging.getLogger("nitrogen_hf")
T = TypeVar("T")
# Why a chunk's windows can be skipped (ChunkError kinds), counted for training summaries.
SKIP_KINDS = ("missing_video", "unreadable_video", "video_too_short")


@dataclass(frozen=True)
class WindowConfig:
    """Which frames and actions make one sample, and how samples are ordered."""

    num_frames: int = 2  # T frames per sample
    num_actions: int = 1  # A action steps per sample
    action_offset: int = 0  # step of the first action, relative to the first frame
    frame_size: tuple[int, int] = (256, 256)  # model input (h, w); NitroGen uses 256x256
    stride: int = 1  # steps between the starts of consecutive windows of a chunk
    mask_margin: float = DEFAULT_MASK_MARGIN  # overlay margin, fraction of the short side
    shuffle: bool = True
    seed: int = 0
    shuffle_buffer: int = 64  # chunk rows shuffled by `datasets` before decoding (actions only)
    # Decoded chunks whose windows are interleaved, so a batch mixes chunks; memory is this
    # many chunks of model-size frames (600 x 3 x 256 x 256 B = 118 MB for a 20 s 30 fps chunk).
    chunks_in_flight: int = 4
    decode_batch: int = 32  # frames per decode call; bounds native-resolution memory
    backend: Backend = "auto"

    def __post_init__(self) -> None:
        if min(self.num_frames, self.num_actions, self.stride, self.chunks_in_flight) < 1:
            raise ValueError(
                f"num_frames, num_actions, stride, chunks_in_flight must be >= 1: {self}"
            )

    @classmethod
    def idm(cls, num_frames: int = 2, **overrides) -> WindowConfig:
        """T frames and the T-1 transitions between them."""
        return cls(num_frames=num_frames, num_actions=num_frames - 1, action_offset=0, **overrides)

    @classmethod
    def policy(cls, context_frames: int = 1, horizon: int = 16, **overrides) -> WindowConfig:
        """C context frames and the H actions that start at the last one."""
        return cls(
            num_frames=context_frames,
            num_actions=horizon,
            action_offset=context_frames - 1,
            **overrides,
        )


# --- pure helpers -----------------------------------------------------------------------------
def window_starts(num_steps: int, config: WindowConfig) -> range:
    """First steps of the windows of a chunk of `num_steps`; frames and actions stay inside."""
    first = max(0, -config.action_offset)
    last = min(num_steps - config.num_frames, num_steps - config.action_offset - config.num_actions)
    return range(first, last + 1, config.stride)


def needed_steps(starts: range, num_frames: int) -> np.ndarray:
    """(K,) sorted chunk steps whose frames some window uses."""
    if len(starts) == 0:
        return np.zeros(0, np.int64)
    steps = np.asarray(starts)[:, None] + np.arange(num_frames)[None, :]
    return np.unique(steps)


def interleave(groups: Iterable[list[T]], in_flight: int, rng: np.random.Generator) -> Iterator[T]:
    """Items of `in_flight` groups at a time, each group in random order, groups picked at random.

    Windows of one chunk are near-duplicates; drawing from several chunks at once keeps a
    batch diverse with memory bounded by `in_flight` chunks (a window buffer would need
    thousands of windows to span a 1,200-step chunk).
    """
    active: list[list[T]] = []
    for group in groups:
        if group:
            active.append([group[j] for j in rng.permutation(len(group))])
        while len(active) >= in_flight:
            yield _pop_random(active, rng)
    while active:
        yield _pop_random(active, rng)


def _pop_random(active: list[list[T]], rng: np.random.Generator) -> T:
    k = int(rng.integers(len(active)))
    item = active[k].pop()
    if not active[k]:
        active.pop(k)
    return item


def collate_windows(samples: list[dict]) -> dict:
    """Batch samples: tensors stacked (`frames` -> (B, T, 3, H, W)), ints to a tensor, str lists."""
    batch = {}
    for key, first in samples[0].items():
        values = [s[key] for s in samples]
        if isinstance(first, torch.Tensor):
            batch[key] = torch.stack(values)
        elif isinstance(first, int):
            batch[key] = torch.tensor(values, dtype=torch.int64)
        else:
            batch[key] = values
    return batch


# --- one chunk ----------------------------------------------------------------------------------
def chunk_frame_indices(row: dict, steps: np.ndarray, reader: VideoReader) -> np.ndarray:
    """Video frame of each chunk step in the opened file (its fps may differ from the build's)."""
    if row.get("frame_index") is not None:  # variable frame rate: found by timestamp at build
        indices = np.asarray(row["frame_index"], np.int64)[np.asarray(steps)]
    else:
        indices = video_frame_indices(row["start_time"], steps, row["fps"], reader.fps)
    if len(indices) and indices[-1] >= reader.num_frames:
        raise ChunkError(
            "video_too_short",
            f"{reader.path}: chunk needs frame {indices[-1]}, video has {reader.num_frames}",
        )
    return indices


def decode_frames(
    reader: VideoReader, indices: np.ndarray, row: dict, config: WindowConfig
) -> torch.Tensor:
    """(K, 3, h, w) uint8 model-input frames: decoded in sequential batches, masked, resized."""
    out = []
    for first in range(0, len(indices), config.decode_batch):
        raw = reader.get_frames(indices[first : first + config.decode_batch].tolist())
        out.append(
            prepare_frames(
                raw,
                config.frame_size,
                row["overlay_box"],
                row["resolution"],
                row["game_area"],
                config.mask_margin,
            )
        )
    return torch.cat(out)


def cut_windows(
    row: dict, frames: torch.Tensor, steps: np.ndarray, indices: np.ndarray, config: WindowConfig
) -> Iterator[dict]:
    """Samples of one chunk from its decoded `frames` (one per entry of `steps`)."""
    actions = GamepadActions(
        np.asarray(row["buttons"]), np.asarray(row["sticks"]), np.asarray(row["observed"])
    )
    vectors = actions.to_vector()  # (N, 25)
    confidence = np.ones(len(actions), np.float32)
    if row["confidence"] is not None:
        confidence = np.asarray(row["confidence"], np.float32)
    observed = torch.from_numpy(actions.observed.copy())
    for start in window_starts(len(actions), config):
        first = int(np.searchsorted(steps, start))  # the window's steps are consecutive in `steps`
        first_action = start + config.action_offset
        span = slice(first_action, first_action + config.num_actions)
        yield {
            "frames": frames[first : first + config.num_frames],  # (T, 3, h, w) uint8 view
            "actions": torch.from_numpy(vectors[span].copy()),  # (A, 25) float32
            "observed": observed,  # (25,) bool
            "confidence": torch.from_numpy(confidence[span].copy()),  # (A,) float32
            "game": row["game"] or "",
            "label_source": row["label_source"],
            "video_id": row["video_id"],
            "uuid": row["uuid"],
            "start_frame": int(indices[first]),
        }


class ReaderCache:
    """Keeps the last opened video, since consecutive chunks often share one."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self.path: str | None = None
        self.reader: VideoReader | None = None

    def open(self, path: str) -> VideoReader:
        if path != self.path:
            self.close()
            self.reader, self.path = open_video(Path(path), self.backend), path
        return self.reader

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        self.reader, self.path = None, None


# --- the dataset --------------------------------------------------------------------------------
def resolve_rank(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """Explicit (rank, world_size), else torch.distributed's when initialised, else (0, 1)."""
    if rank is not None or world_size is not None:
        if rank is None or world_size is None or not 0 <= rank < world_size:
            raise ValueError(
                f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}"
            )
        return rank, world_size
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class WindowDataset(torch.utils.data.IterableDataset):
    """Streams samples from chunk rows; each chunk is read by exactly one (rank, worker) per epoch.

    The stream of chunk rows is split with `split_dataset_by_node` over rank x DataLoader
    workers and read with `.iter()`, which, unlike `iter(dataset)`, does not split again by
    worker. Pass rank/world_size explicitly, or leave them out: torch.distributed is asked
    when iteration starts, so a dataset built before the process group exists (e.g. before
    Accelerate starts) still splits by rank.
    """

    def __init__(
        self,
        chunks: datasets.IterableDataset | datasets.Dataset,
        config: WindowConfig | None = None,
        rank: int | None = None,
        world_size: int | None = None,
    ):
        if isinstance(chunks, datasets.Dataset):
            chunks = chunks.to_iterable_dataset()
        self.chunks = chunks
        self.config = config or WindowConfig()
        if rank is not None or world_size is not None:
            resolve_rank(rank, world_size)  # validate now
        self.rank, self.world_size = rank, world_size
        # In shared memory so that persistent DataLoader workers see set_epoch, and their skip
        # counts reach the training summary.
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()
        self._counted_epoch = torch.full((), -1, dtype=torch.int64).share_memory_()
        self._skipped = torch.zeros(len(SKIP_KINDS), dtype=torch.int64).share_memory_()

    @property
    def epoch(self) -> int:
        return int(self._epoch)

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle chunks and windows for a new epoch (same order on every rank)."""
        self._epoch.fill_(epoch)
        if int(self._counted_epoch) < 0:
            self._counted_epoch.fill_(epoch)

    @property
    def skipped(self) -> dict[str, int]:
        """Chunks this process skipped in its first pass over the data, by reason (each chunk
        is read once per pass, so these are distinct chunks; sum them over ranks)."""
        counts = zip(SKIP_KINDS, self._skipped.tolist(), strict=True)
        return {kind: int(n) for kind, n in counts if n}

    def stream_index(self) -> tuple[int, int]:
        """(index, count) of this reader among all ranks x DataLoader workers."""
        worker = torch.utils.data.get_worker_info()
        worker_id, num_workers = (worker.id, worker.num_workers) if worker else (0, 1)
        rank, world_size = resolve_rank(self.rank, self.world_size)
        return rank * num_workers + worker_id, world_size * num_workers

    def rows(self) -> Iterator[dict]:
        """This reader's chunk rows for the current epoch."""
        index, count = self.stream_index()
        chunks = self.chunks
        if self.config.shuffle:
            # One input shard at a time: interleaving shards makes `datasets` sleep 5 s at the
            # end of every pass, and `interleave` mixes chunks anyway.
            chunks = chunks.shuffle(
                seed=self.config.seed,
                buffer_size=self.config.shuffle_buffer,
                max_buffer_input_shards=1,
            )
        chunks = split_dataset_by_node(chunks, rank=index, world_size=count)
        chunks.set_epoch(self.epoch)
        for batch in chunks.iter(batch_size=1):
            yield {key: values[0] for key, values in batch.items()}

    def __iter__(self) -> Iterator[dict]:
        readers = ReaderCache(self.config.backend)
        if self.config.shuffle:
            rng = np.random.default_rng([self.config.seed, self.epoch, *self.stream_index()])
            groups = (list(self.chunk_samples(row, readers)) for row in self.rows())
            samples = interleave(groups, self.config.chunks_in_flight, rng)
        else:
            samples = (s for row in self.rows() for s in self.chunk_samples(row, readers))
        try:
            yield from samples
        finally:
            readers.close()

    def chunk_samples(self, row: dict, readers: ReaderCache) -> Iterator[dict]:
        """All windows of one chunk; a chunk whose video fails is logged, counted and skipped."""
        steps = needed_steps(window_starts(row["num_frames"], self.config), self.config.num_frames)
        if len(steps) == 0:
            return
        try:
            indices, frames = load_chunk_frames(row, steps, readers, self.config)
        except ChunkError as error:
            readers.close()
            counted = int(self._counted_epoch)
            if (counted < 0 or self.epoch == counted) and error.kind in SKIP_KINDS:
                self._skipped[SKIP_KINDS.index(error.kind)] += 1
            logger.warning(
                "reader %d/%d skipped chunk %s: %s: %s", *self.stream_index(), row["uuid"],
                error.kind, error,
            )  # fmt: skip
            return
        yield from cut_windows(row, frames, steps, indices, self.config)


def load_chunk_frames(
    row: dict, steps: np.ndarray, readers: ReaderCache, config: WindowConfig
) -> tuple[np.ndarray, torch.Tensor]:
    """(video indices, model-input frames) of the chunk steps; ChunkError says why not."""
    path = row["video_path"]
    if path is None or not Path(path).is_file():
        raise ChunkError(
            "missing_video", f"no local video for video_id '{row['video_id']}' ({path})"
        )
    try:
        reader = readers.open(path)
    except VideoError as error:
        raise ChunkError("unreadable_video", str(error)) from error
    indices = chunk_frame_indices(row, steps, reader)
    try:
        return indices, decode_frames(reader, indices, row, config)
    except VideoError as error:
        raise ChunkError("unreadable_video", str(error)) from error


def window_loader(
    dataset: WindowDataset, batch_size: int, num_workers: int = 0, **loader_kwargs
) -> torch.utils.data.DataLoader:
    """A DataLoader over a WindowDataset with `collate_windows` (do not let Accelerate re-shard it)."""
    loader_kwargs.setdefault("persistent_workers", num_workers > 0)
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=collate_windows,
        **loader_kwargs,
    )
