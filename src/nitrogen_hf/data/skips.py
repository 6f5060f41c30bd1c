"""A record of what a job skipped and why, so bad input is reported and never silently lost."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

logger = logging.getLogger("nitrogen_hf")


@dataclass(frozen=True)
class Skip:
    """One skipped item: `kind` is a short machine-readable reason, `path` names the file."""

    kind: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}: {self.message}"


@dataclass
class SkipLog:
    """Collects skips across a job; logs each one as it happens."""

    skips: list[Skip] = field(default_factory=list)
    quiet: bool = False

    def add(self, kind: str, path: object, message: str) -> None:
        skip = Skip(kind, str(path), message)
        self.skips.append(skip)
        if not self.quiet:
            logger.warning("skipped %s", skip)

    def extend(self, other: SkipLog) -> None:
        self.skips.extend(other.skips)

    def __len__(self) -> int:
        return len(self.skips)

    def counts(self) -> dict[str, int]:
        """Number of skips per kind, most common first."""
        return dict(Counter(s.kind for s in self.skips).most_common())

    def to_json(self, max_items: int = 1000) -> dict:
        return {
            "total": len(self.skips),
            "by_kind": self.counts(),
            "items": [s.__dict__ for s in self.skips[:max_items]],
        }
