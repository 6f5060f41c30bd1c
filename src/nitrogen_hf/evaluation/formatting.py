"""How numbers read in reports, tables and cards: one set of rules for every markdown we write."""

from __future__ import annotations


def fmt(value, digits: int = 3) -> str:
    """A table cell: n/a for None, thousands separators for ints, `digits` decimals for floats."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_rate(value: float | None) -> str:
    """Learning rates and such: shortest exact form (0.0003, 1e-05)."""
    return "n/a" if value is None else f"{value:g}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def fmt_percent(value: float | None) -> str:
    """A fraction as a whole percentage: 0.234 -> 23%."""
    return "n/a" if value is None else f"{100 * value:.0f}%"
