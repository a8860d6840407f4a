"""From rounds to figures: medians, spreads and ratios to the same round's baseline.

A ratio is computed per round (contender / baseline, both measured in that
round) and the median over rounds is reported, so slow phases of a shared
machine cancel out instead of blurring the comparison. Spreads are half the
inter-quartile range: relative (``±%``) for times, absolute (``±x``) for ratios.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench._stats import median_spread

__all__ = ["Figure", "calls_added", "mean_spans", "ratios", "summarize"]


@dataclass(frozen=True)
class Figure:
    """One contender in one scenario, for one measure (``cpu`` or ``wall``)."""

    median_ms: float
    spread: float  # relative half-IQR of the per-call time
    ratio: float | None  # median over rounds of contender / baseline; None for the baseline
    ratio_spread: float  # absolute half-IQR of the per-round ratios
    rounds: int

    def as_dict(self) -> dict[str, Any]:
        return {"median_ms": self.median_ms, "spread": self.spread, "ratio": self.ratio,
                "ratio_spread": self.ratio_spread, "rounds": self.rounds}


def ratios(values: list[float], baseline: list[float]) -> list[float]:
    """Per-round ratios; rounds missing on either side (a shorter list) are dropped."""
    return [v / b for v, b in zip(values, baseline, strict=False) if b > 0]


def _figure(values: list[float], baseline: list[float] | None) -> Figure:
    med, spread = median_spread(values)
    if baseline is None:
        return Figure(med * 1e3, spread, None, 0.0, len(values))
    rs = ratios(values, baseline)
    r_med, r_rel = median_spread(rs) if rs else (float("nan"), 0.0)
    return Figure(med * 1e3, spread, r_med, r_rel * r_med, len(values))


def summarize(rounds: dict[str, dict[str, list[dict[str, float]]]],
              baselines: dict[str, str]) -> dict[str, dict[str, dict[str, Figure]]]:
    """``scenario -> contender -> measure -> Figure``.

    ``baselines`` maps each contender to its baseline's name (itself for a baseline).
    """
    out: dict[str, dict[str, dict[str, Figure]]] = {}
    for scenario, by_contender in rounds.items():
        out[scenario] = {}
        for name, series in by_contender.items():
            base_name = baselines[name]
            base = by_contender.get(base_name) if base_name != name else None
            if base_name != name and base is None:
                continue  # no baseline measured for this scenario
            out[scenario][name] = {
                measure: _figure([row[measure] for row in series],
                                 None if base is None else [row[measure] for row in base])
                for measure in ("cpu", "wall")
            }
    return out


def mean_spans(rounds: dict[str, dict[str, list[dict[str, float]]]]
               ) -> dict[str, dict[str, float]]:
    """Spans exported per call during the timed batches (a dropped or duplicated span shows)."""
    return {scenario: {name: statistics.fmean(r["spans"] for r in series)
                       for name, series in by_contender.items() if series}
            for scenario, by_contender in rounds.items()}


def calls_added(calls: dict[str, dict[str, dict[str, Any]]], baselines: dict[str, str]
                ) -> dict[str, dict[str, tuple[int, int]]]:
    """``contender -> scenario -> (Python calls, C calls)`` per call above its baseline's.

    Counts come from :mod:`bench.peers.calls`; baselines and scenarios their baseline was
    not counted in are left out.
    """
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for name, by_scenario in calls.items():
        base = calls.get(baselines[name])
        if base is None or baselines[name] == name:
            continue
        out[name] = {s: (round(c["python"] - base[s]["python"]), round(c["c"] - base[s]["c"]))
                     for s, c in by_scenario.items() if s in base}
    return out
