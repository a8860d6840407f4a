"""Round math: per-round ratios to the same round's baseline, medians and spreads."""

from __future__ import annotations

import math

from bench.peers.results import mean_spans, ratios, summarize


def _rows(cpu: list[float], spans: float = 1.0) -> list[dict[str, float]]:
    return [{"cpu": c, "wall": 2 * c, "spans": spans} for c in cpu]


def test_ratio_pairs_each_round_with_its_own_baseline() -> None:
    """A contender always 10% slower than the baseline of its round reads 1.10x even when
    the machine's speed swings 3x between rounds (the ratio of medians would not)."""
    rounds = {"chat": {"none": _rows([1.0, 3.0, 1.0, 3.0, 2.0], 0.0),
                       "x": _rows([1.1, 3.3, 1.1, 3.3, 2.2])}}
    figs = summarize(rounds, {"none": "none", "x": "none"})
    x = figs["chat"]["x"]["cpu"]
    assert math.isclose(x.ratio or 0.0, 1.1)
    assert x.ratio_spread < 1e-9
    assert math.isclose(figs["chat"]["x"]["wall"].ratio or 0.0, 1.1)
    assert math.isclose(x.median_ms, 2200.0)


def test_baseline_has_no_ratio_and_relative_spread() -> None:
    """The baseline's own figure has ratio None; spread is half the IQR over the median."""
    figs = summarize({"chat": {"none": _rows([1.0, 2.0, 3.0, 4.0, 5.0])}}, {"none": "none"})
    f = figs["chat"]["none"]["cpu"]
    assert f.ratio is None
    assert math.isclose(f.median_ms, 3000.0)
    assert math.isclose(f.spread, (4.5 - 1.5) / 2 / 3.0)


def test_scenario_without_its_baseline_is_left_out() -> None:
    """A contender measured in a scenario its baseline did not run is not given a ratio."""
    figs = summarize({"only": {"x": _rows([1.0, 1.0])}}, {"x": "none"})
    assert figs["only"] == {}


def test_ratios_skip_missing_rounds_and_zero_baselines() -> None:
    """Rounds are paired by index; a zero baseline (a clock that did not move) is dropped."""
    assert ratios([2.0, 3.0, 4.0], [1.0, 0.0]) == [2.0]


def test_mean_spans_per_call() -> None:
    """Spans exported per call in the timed batches are averaged per scenario and contender."""
    rounds = {"chat": {"x": [{"cpu": 1, "wall": 1, "spans": 1.0},
                             {"cpu": 1, "wall": 1, "spans": 2.0}]}}
    assert mean_spans(rounds) == {"chat": {"x": 1.5}}
