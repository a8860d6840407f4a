"""Function calls per call: a deterministic companion to the CPU ratios.

On a shared machine CPU ratios spread by ±0.1 between rounds; the number of
function calls a unit makes does not. Inside a worker, after a few warm-up
units, each of ``K`` units runs under ``sys.setprofile`` counting two events:

- ``call``: every entry into a Python frame (a generator or coroutine resuming
  counts again: a stream's chunks and an event loop's steps show);
- ``c_call``: every call of a C function or method (builtins, ``dict.get``...).

Only the thread that runs the unit (the main thread) is profiled, so the span
processor's export thread is not counted; nor is the work *inside* a C call
(pydantic-core validation, tiktoken encoding): this is not CPU time. The
collector is paused during the counted units (it runs before each) so no
finalizer lands in a random unit, spans are flushed before each unit so every
unit starts from an empty queue, and the figure is the median over units (the
first unit after a warm-up can differ by a call or two).
"""

from __future__ import annotations

import gc
import statistics
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

from bench.peers.scenarios import SCENARIOS, calls_per_unit

__all__ = ["CALL_UNITS", "WARMUP_UNITS", "Counts", "count_calls", "count_scenarios"]

#: Counted units per scenario (an ``async-50`` unit is 50 calls); a few seconds per worker.
CALL_UNITS = {"chat": 20, "stream-usage": 5, "stream-no-usage": 5, "async-50": 5,
              "lc-invoke": 20, "lc-stream": 5}
WARMUP_UNITS = 3


@dataclass(frozen=True)
class Counts:
    """Profile events of one run of a function, that function's own entry included."""

    python: int  # "call" events
    c: int  # "c_call" events


def count_calls(fn: Callable[[], object]) -> Counts:
    """Run ``fn`` on this thread under a counting profiler; the previous profiler comes back
    even when ``fn`` raises."""
    counts = [0, 0]

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            counts[0] += 1
        elif event == "c_call":
            counts[1] += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(previous)
    return Counts(counts[0], counts[1] - 1)  # minus the c_call of that last setprofile


def _counted_units(unit: Callable[[], object], k: int,
                   flush: Callable[[], None]) -> list[Counts]:
    was_enabled = gc.isenabled()
    out = []
    try:
        for _ in range(k):
            flush()
            gc.collect()
            gc.disable()
            out.append(count_calls(unit))
            if was_enabled:
                gc.enable()
    finally:
        if was_enabled:
            gc.enable()
    return out


def count_scenarios(workloads: Any, flush: Callable[[], None],
                    units: Mapping[str, int] | None = None,
                    warmup: int = WARMUP_UNITS) -> dict[str, dict[str, Any]]:
    """``scenario -> {"python", "c": median per call, "units": K, "per_unit": [[py, c], ...]}``.

    ``units`` maps scenario to K (default: every scenario of the workloads' suite, with
    ``CALL_UNITS``); ``flush`` exports pending spans (outside the counted region).
    """
    if units is None:
        units = {s: CALL_UNITS[s] for s in SCENARIOS[workloads.suite]}
    out: dict[str, dict[str, Any]] = {}
    for scenario, k in units.items():
        unit = workloads.unit(scenario)
        for _ in range(warmup):
            unit()
        per_unit = _counted_units(unit, k, flush)
        calls = calls_per_unit(scenario)
        out[scenario] = {
            "python": statistics.median_low(c.python for c in per_unit) / calls,
            "c": statistics.median_low(c.c for c in per_unit) / calls,
            "units": k,
            "per_unit": [[c.python, c.c] for c in per_unit],
        }
    return out
