"""Timing helpers shared by the benchmark scripts.

The machine the numbers come from may be shared (other jobs, two cores), so batches are timed
with the process's CPU time (`CLOCK`) rather than the wall clock, and no variant is timed alone:
`compare` runs every variant of a table once per round, in a rotating order, and reports per
variant the median over rounds of the time of one call. Ratios between two variants are the
median of the per-round ratios (`Timings.ratio`): a burst of load slows the variants of one round
alike, so the paired ratio moves less than the ratio of two medians.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "tests" / "events"

# The CPU time of this process, not wall time: on a shared machine the wall clock also counts the
# time slices other processes get while a batch runs, the process's CPU time does not.
CLOCK = time.process_time

# Rounds per table (BENCH_ROUNDS overrides; `run.sh --quick` sets a small number).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "41"))
# Wall time of one batch of calls of one variant in one round.
BATCH_SECONDS = float(os.environ.get("BENCH_BATCH_SECONDS", "0.01"))


def load_event(cloud: str, name: str) -> dict[str, Any]:
    """A payload fixture of the test suite (tests/events/<cloud>/<name>), parsed afresh."""
    data: dict[str, Any] = json.loads((EVENTS / cloud / name).read_text(encoding="utf-8"))
    return data


def _calibrate(fn: Callable[[], object]) -> int:
    """How many calls of `fn` take about BATCH_SECONDS."""
    number = 1
    while True:
        took = timeit.timeit(fn, number=number, timer=CLOCK)
        if took >= BATCH_SECONDS / 5:
            return max(1, round(number * BATCH_SECONDS / took))
        number *= 4


class Timings:
    """Per-call times (µs) of each variant, one sample per round."""

    def __init__(self, samples: dict[str, list[float]]) -> None:
        self.samples = samples

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def ratio(self, name: str, base: str) -> float:
        """Median over rounds of time(name) / time(base), paired by round."""
        pairs = zip(self.samples[name], self.samples[base], strict=True)
        return statistics.median(a / b for a, b in pairs)

    def diff(self, name: str, base: str) -> float:
        """Median over rounds of time(name) - time(base) in µs, paired by round."""
        pairs = zip(self.samples[name], self.samples[base], strict=True)
        return statistics.median(a - b for a, b in pairs)

    def spread(self, name: str) -> str:
        """Interquartile range of the per-call times, as "low-high"."""
        q = statistics.quantiles(self.samples[name], n=4)
        return f"{_fmt(q[0])}-{_fmt(q[2])}"


def compare(
    variants: dict[str, Callable[[], object]], *, rounds: int = ROUNDS, per_record: int = 1
) -> Timings:
    """Time every variant in each of `rounds` rounds; µs per call (divided by `per_record`)."""
    for fn in variants.values():
        fn()  # warm caches and lazy imports outside the measurement
    numbers = {name: _calibrate(fn) for name, fn in variants.items()}
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            # timeit turns the garbage collector off while it times, as for every variant here.
            took = timeit.timeit(variants[name], number=numbers[name], timer=CLOCK)
            samples[name].append(took / numbers[name] / per_record * 1e6)
    return Timings(samples)


class log_sink:  # noqa: N801 - used as `with log_sink():`
    """While timing, file descriptors 1 and 2 (stdout and stderr, where polyfn's log lines and
    EMF metrics go) point at /dev/null: every line is still formatted and written (its write
    system call counted in the process's CPU time), and the terminal is not flooded. On Lambda
    the same writes go to a pipe the runtime reads."""

    def __enter__(self) -> None:
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = [os.dup(1), os.dup(2)]
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)

    def __exit__(self, *exc: object) -> None:
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved in zip((1, 2), self.saved, strict=True):
            os.dup2(saved, fd)
            os.close(saved)


def _fmt(us: float) -> str:
    return f"{us:.2f}" if us < 100 else f"{us:.0f}"


def fmt_us(us: float) -> str:
    return _fmt(us)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join([line, sep, *body])


def timing_table(t: Timings, base: str, *, unit: str = "µs", label: str = "variant") -> str:
    """One row per variant: median, interquartile range and paired ratio to `base`."""
    rows = [
        [name, _fmt(t.median(name)), t.spread(name), f"{t.ratio(name, base):.2f}"]
        for name in t.samples
    ]
    return table([label, f"median {unit}", "IQR", f"x {base}"], rows)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
