"""Weighted mixture of sample streams (e.g. overlay ground truth + IDM pseudo-labels).

Each draw picks a source with probability proportional to its weight; a source that runs
out starts its next epoch, so weights hold for any run length. Every source keeps its own
rank/worker sharding; the choice of source is seeded per (seed, epoch, rank, worker).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class MixtureSource:
    """One named stream with its sampling weight (weights need not sum to 1)."""

    name: str
    dataset: torch.utils.data.IterableDataset
    weight: float = 1.0


def parse_source_spec(spec: str) -> tuple[str, str, float]:
    """'NAME=PATH[:WEIGHT]' -> (name, path, weight); the weight defaults to 1."""
    if "=" not in spec:
        raise ValueError(f"data source {spec!r}: expected NAME=PATH[:WEIGHT], e.g. truth=ds/:0.5")
    name, rest = spec.split("=", 1)
    path, weight = rest, 1.0
    head, sep, tail = rest.rpartition(":")
    if sep and head:
        try:
            path, weight = head, float(tail)
        except ValueError:
            path, weight = rest, 1.0  # a ':' inside the path (e.g. a URL), not a weight
    if not name or not path or weight <= 0:
        raise ValueError(f"data source {spec!r}: need a name, a path and a positive weight")
    return name, path, weight


class MixtureDataset(torch.utils.data.IterableDataset):
    """Endless weighted interleaving of several iterable datasets; adds a `source` key."""

    def __init__(self, sources: Sequence[MixtureSource], seed: int = 0):
        if not sources:
            raise ValueError("a mixture needs at least one source")
        if len({s.name for s in sources}) != len(sources):
            raise ValueError(f"source names must be unique: {[s.name for s in sources]}")
        weights = np.array([s.weight for s in sources], dtype=np.float64)
        if (weights <= 0).any():
            raise ValueError(f"weights must be positive: {weights.tolist()}")
        self.sources = list(sources)
        self.probabilities = weights / weights.sum()
        self.seed = seed
        self._epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    def set_epoch(self, epoch: int) -> None:
        self._epoch.fill_(epoch)

    @property
    def skipped(self) -> dict[str, dict[str, int]]:
        """Chunks each source skipped (see `WindowDataset.skipped`), by source name."""
        return {s.name: dict(getattr(s.dataset, "skipped", {})) for s in self.sources}

    def __iter__(self) -> Iterator[dict]:
        worker = torch.utils.data.get_worker_info()
        rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
        rng = np.random.default_rng([self.seed, int(self._epoch), rank, worker.id if worker else 0])
        streams = [self._endless(i) for i in range(len(self.sources))]
        while True:
            index = int(rng.choice(len(streams), p=self.probabilities))
            sample = next(streams[index])
            yield {**sample, "source": self.sources[index].name}

    def _endless(self, index: int) -> Iterator[dict]:
        source, epoch = self.sources[index], int(self._epoch)
        while True:
            if hasattr(source.dataset, "set_epoch"):
                source.dataset.set_epoch(epoch)
            empty = True
            for sample in source.dataset:
                empty = False
                yield sample
            if empty:
                raise RuntimeError(f"mixture source '{source.name}' yielded no samples")
            epoch += 1
