"""Timing helpers shared by the benchmark scripts: medians of repeated timeit runs."""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable


def per_call_us(fn: Callable[[], object], *, number: int = 2000, repeat: int = 15) -> float:
    """Median time of one call in microseconds (timeit: `repeat` runs of `number` calls)."""
    fn()  # warm caches and lazy imports outside the measurement
    runs = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, sep, *body])
