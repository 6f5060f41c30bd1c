"""Settings of a `nitrogen-hf label` job (the filters have their own config in filters.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from nitrogen_hf.data.video import Backend
from nitrogen_hf.labeling.filters import FilterConfig

Engine = Literal["local", "ray"]


@dataclass(frozen=True)
class RayConfig:
    """How `--engine ray` spreads videos over a cluster (see labeling/ray_engine.py)."""

    address: str | None = None  # None: $RAY_ADDRESS if set, else a fresh local cluster
    workers: int = 2  # actors, each holding one copy of the IDM
    cpus_per_worker: float = 1.0  # decode + CPU inference threads of one actor
    gpus_per_worker: float | None = None  # None: 1 when the cluster has GPUs, else 0


@dataclass
class LabelConfig:
    """One labeling job: which IDM, which videos, where to write, what to keep."""

    model: str  # IDM folder (save_pretrained) or Hub id
    videos: Sequence[str | Path]  # folders (searched recursively), files or glob patterns
    out: Path
    game: str | None = None  # written to every chunk's metadata
    filters: FilterConfig = field(default_factory=FilterConfig)
    fps: float | None = None  # action rate; None = the video's. Use the IDM's training rate.
    segment_seconds: float = 20.0  # labels per IDM pass (+ context): bounds memory, not labels
    chunk_seconds: float = 20.0  # NitroGen chunk length
    # torchcodec can scale while decoding (see decoding.py); off by default: full decode plus
    # `prepare_frames` (uint8 fast path) is as fast on CPU and gives exactly the training pixels.
    resize_in_decoder: bool = False
    backend: Backend = "auto"
    decode_threads: int = 1  # FFmpeg threads per video; workers already run in parallel
    decode_batch: int = 32  # frames decoded at once (a 720p batch is ~90 MB)
    batch_size: int = 64  # IDM windows per forward pass
    device: str = "auto"  # "auto": cuda when available
    engine: Engine = "local"
    ray: RayConfig = field(default_factory=RayConfig)
    progress: bool = True  # tqdm bar over videos (local engine)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if isinstance(self.videos, str | Path):
            self.videos = [self.videos]
        if self.engine not in ("local", "ray"):
            raise ValueError(f"engine must be 'local' or 'ray', got {self.engine!r}")
        if self.fps is not None and self.fps <= 0:
            raise ValueError(f"fps must be > 0, got {self.fps}")
        if self.segment_seconds <= 0 or self.chunk_seconds <= 0:
            raise ValueError(
                f"segment_seconds ({self.segment_seconds}) and chunk_seconds "
                f"({self.chunk_seconds}) must be > 0"
            )
