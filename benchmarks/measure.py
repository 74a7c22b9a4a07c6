"""Timing and memory: every figure is the median of several runs with its range, never a single run."""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    median: float  # seconds
    low: float
    high: float
    runs: int
    peak_bytes: int | None = None  # tracemalloc peak of one extra run (Python allocations only)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def timing_of(samples: list[float], peak_bytes: int | None = None) -> Timing:
    return Timing(statistics.median(samples), min(samples), max(samples), len(samples), peak_bytes)


def measure(action: Callable[[], Any], *, runs: int, setup: Callable[[], Any] | None = None, warmup: int = 1,
            memory: bool = True) -> Timing:
    """Time `action` with time.perf_counter over `runs` runs (after `warmup` untimed ones); `setup` runs before
    every run, outside the timing. Peak memory comes from one more run under tracemalloc, timed apart because
    tracing slows Python down.

    Garbage is collected once before the series, not before each run: a full collection also empties Python's
    free lists, so the run after it pays about a millisecond to refill them, which a running server never does
    (and which flattered the ratio of a page to the bare page)."""
    for _ in range(warmup):
        if setup:
            setup()
        action()
    gc.collect()
    samples = []
    for _ in range(runs):
        if setup:
            setup()
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    peak = peak_memory(action, setup) if memory else None
    return timing_of(samples, peak)


def peak_memory(action: Callable[[], Any], setup: Callable[[], Any] | None = None) -> int:
    """Peak bytes Python allocated while `action` ran (tracemalloc; memory of child processes is not seen)."""
    if setup:
        setup()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def timed_call(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started
