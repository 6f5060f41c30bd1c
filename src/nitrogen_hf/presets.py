"""Named presets: one lookup for every table of them (training configs, model architectures)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

C = TypeVar("C")


def preset(table: Mapping[str, C], name: str, what: str = "preset") -> C:
    """`table[name]`, or an error that names the closest preset."""
    if name in table:
        return table[name]
    close = difflib.get_close_matches(name, list(table), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown {what} {name!r}{hint} (choose from {', '.join(sorted(table))})")
