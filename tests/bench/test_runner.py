"""Interleaving: every round runs every scenario for every contender, in a rotated order."""

from __future__ import annotations

from typing import Any

import pytest

from bench.peers.contenders import by_name, select
from bench.peers.runner import Plan, _rounds


class FakeWorker:
    """Answers ``run`` like a worker whose calls cost ``cost`` s CPU; logs who ran when."""

    def __init__(self, name: str, cost: float, log: list[tuple[str, str]]) -> None:
        self.name, self.cost, self.log = name, cost, log

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert cmd["cmd"] == "run"
        self.log.append((cmd["scenario"], self.name))
        calls = cmd["units"] * (50 if cmd["scenario"] == "async-50" else 1)
        return {"cpu": self.cost * calls, "wall": 2 * self.cost * calls, "calls": calls,
                "spans": calls if self.name != "none" else 0}


def _plan(names: list[str], rounds: int) -> Plan:
    return Plan(contenders=[by_name(n) for n in names], rounds=rounds,
                units={"chat": 4, "stream-usage": 1, "stream-no-usage": 1, "async-50": 1})


def test_order_rotates_each_round_so_no_contender_always_goes_first() -> None:
    """With three contenders and three rounds, each runs first in one round of ``chat``."""
    log: list[tuple[str, str]] = []
    names = ["none", "otel-llm", "openllmetry"]
    workers: Any = {n: FakeWorker(n, 0.001, log) for n in names}
    result: dict[str, Any] = {}
    _rounds(_plan(names, 3), workers, result, lambda msg: None)
    chat = [n for s, n in log if s == "chat"]
    firsts = [chat[i * 3] for i in range(3)]
    assert sorted(firsts) == sorted(names)
    assert len(log) == 3 * 3 * 4  # rounds x contenders x scenarios


def test_times_are_stored_per_call_and_variants_run_only_their_scenarios() -> None:
    """Batch CPU is divided by the calls it made (an async-50 unit is 50 calls); the
    estimate variant runs only the stream without usage."""
    log: list[tuple[str, str]] = []
    names = ["none", "otel-llm-estimate"]
    workers: Any = {n: FakeWorker(n, 0.002, log) for n in names}
    result: dict[str, Any] = {}
    _rounds(_plan(names, 2), workers, result, lambda msg: None)
    rounds = result["rounds"]
    assert set(rounds["stream-no-usage"]) == {"none", "otel-llm-estimate"}
    assert set(rounds["chat"]) == {"none"}
    assert rounds["async-50"]["none"][0] == {"cpu": 0.002, "wall": 0.004, "spans": 0.0}
    assert rounds["stream-no-usage"]["otel-llm-estimate"][1]["spans"] == 1.0


def test_select_keeps_baselines_and_rejects_unknown_names() -> None:
    """``--only openllmetry`` still runs the baseline; a typo fails before anything starts."""
    names = [c.name for c in select(["openllmetry"], ["openai", "langchain"])]
    assert names == ["none", "openllmetry", "lc-none"]
    with pytest.raises(KeyError, match="openllmetery"):
        select(["openllmetery"], ["openai"])
