"""Function calls per call: exact counting, the worker's ``count`` command on the real model
server, the runner storing it, and the table rendered from results with and without it."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.__main__ import main as bench_main
from bench.peers.calls import count_calls, count_scenarios
from bench.peers.contenders import by_name
from bench.peers.markdown import markdown
from bench.peers.process import Worker, WorkerError
from bench.peers.report import CALLS_TITLE, calls_table, render_terminal, targets
from bench.peers.runner import Plan, _count_calls
from otel_llm.devserver import ModelServer

from .test_report import _info, _result

# --- counting ---------------------------------------------------------------------------


def _one() -> None:
    pass


def _two() -> int:
    return 2


def _three(x: int) -> int:
    return x


def _toy() -> None:
    _one()
    _two()
    _three(len("abc"))
    abs(-1)


def _chunks() -> Iterator[int]:
    yield 1
    yield 2


def test_count_calls_counts_python_entries_and_c_calls_exactly() -> None:
    """A function calling three Python functions and two builtins is four Python calls
    (itself included) and two C calls; each generator resumption is one more call; calling
    a type (``range``) is no C-function call."""
    counts = count_calls(_toy)
    assert (counts.python, counts.c) == (4, 2)
    # sum() is one C call; the generator is entered three times (two items, then the end)
    streamed = count_calls(lambda: sum(_chunks()))
    assert (streamed.python, streamed.c) == (1 + 3, 1)


def test_count_calls_restores_the_previous_profiler_when_the_function_raises() -> None:
    """An error in the counted function propagates and the profiler in place before is
    back (here a sentinel), so no later code runs under the counter."""
    def sentinel(frame: Any, event: str, arg: Any) -> None:
        pass

    def boom() -> None:
        raise RuntimeError("boom")

    sys.setprofile(sentinel)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            count_calls(boom)
        assert sys.getprofile() is sentinel
    finally:
        sys.setprofile(None)


class FakeWorkloads:
    """Units of known cost; logs warm-ups and flushes so the order can be checked."""

    suite = "openai"

    def __init__(self, fail: str = "") -> None:
        self.log: list[str] = []
        self.fail = fail

    def unit(self, scenario: str) -> Callable[[], None]:
        def run() -> None:
            self.log.append(scenario)
            if scenario == self.fail:
                raise RuntimeError(f"{scenario} failed")
            for _ in range(100 if scenario == "async-50" else 1):
                _toy()

        return run


def test_count_scenarios_warms_up_flushes_and_divides_async_units_per_call() -> None:
    """Three warm-ups, then K counted units each after a flush; medians per call: an
    async-50 unit's count is divided by its 50 calls."""
    w = FakeWorkloads()
    flushes: list[int] = []
    counts = count_scenarios(w, lambda: flushes.append(len(w.log)),
                             {"chat": 4, "async-50": 2})
    assert flushes == [3, 4, 5, 6, 10, 11]  # before each counted unit, after the warm-ups
    # Python: run + 4 per _toy; C: log.append, then len and abs per _toy
    assert counts["chat"] == {"python": 1 + 4, "c": 1 + 2, "units": 4,
                              "per_unit": [[5, 3]] * 4}
    assert counts["async-50"]["python"] == (1 + 400) / 50
    assert counts["async-50"]["c"] == (1 + 200) / 50


def test_count_scenarios_leaves_profiler_and_collector_on_after_an_error() -> None:
    """A unit that raises stops the count, but the garbage collector is running again and
    no profiler is left installed."""
    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="chat failed"):
        count_scenarios(FakeWorkloads(fail="chat"), lambda: None, {"chat": 2}, warmup=0)
    assert gc.isenabled() and sys.getprofile() is None


# --- the worker on the real model server --------------------------------------------------

UNITS = {"chat": 5, "stream-usage": 2, "async-50": 2}


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as srv:
        yield srv


def _count(server: ModelServer, name: str, units: dict[str, int]) -> dict[str, Any]:
    with Worker(name, sys.executable, server.base_url) as worker:
        counts: dict[str, Any] = worker.ask(cmd="count", units=units)["counts"]
    return counts


#: How far two fresh workers' counts may differ. A sync call reads one small response; a
#: stream's count depends on how the socket groups its chunks into reads, and async-50's
#: on how often the event loop wakes its 50 coroutines, which a busy machine changes
#: (seen: 13% on async-50 at load 4 on 2 cores).
SPREAD = {"chat": 0.01, "stream-usage": 0.25, "async-50": 0.25}


def test_baseline_counts_agree_in_two_worker_processes(server: ModelServer) -> None:
    """Two fresh uninstrumented workers count the same calls per call, up to what I/O
    scheduling changes (SPREAD): the figure is reproducible, unlike CPU time."""
    first, second = _count(server, "none", UNITS), _count(server, "none", UNITS)
    assert set(first) == set(UNITS)
    for scenario in UNITS:
        for kind in ("python", "c"):
            a, b = first[scenario][kind], second[scenario][kind]
            assert abs(a - b) <= SPREAD[scenario] * max(a, b), (scenario, kind, a, b)
    assert first["chat"]["python"] > 1000  # the SDK's own work over HTTP is counted


def test_otel_llm_adds_python_and_c_calls_to_a_chat_call(server: ModelServer) -> None:
    """otel-llm's wrapper, handler and OTel SDK records are calls the baseline does not
    make: more Python and more C calls per non-streamed call."""
    base = _count(server, "none", {"chat": 3})["chat"]
    ours = _count(server, "otel-llm", {"chat": 3})["chat"]
    assert ours["python"] > base["python"] + 50
    assert ours["c"] > base["c"] + 50


# --- the runner --------------------------------------------------------------------------


class FakeWorker:
    def __init__(self, name: str, asked: list[tuple[str, dict[str, int]]],
                 fail: bool = False) -> None:
        self.name, self.asked, self.fail = name, asked, fail

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert cmd["cmd"] == "count"
        self.asked.append((self.name, cmd["units"]))
        if self.fail:
            raise WorkerError(f"{self.name} failed on {cmd}")
        return {"counts": {s: {"python": 1.0, "c": 1.0} for s in cmd["units"]}}


def test_runner_counts_every_worker_in_the_scenarios_it_is_timed_in() -> None:
    """Baselines and the SDK floor are counted too; a variant only in its own scenario;
    counting is on by default (so --quick does it)."""
    names = ["none", "sdk-floor", "otel-llm-estimate"]
    plan = Plan(contenders=[by_name(n) for n in names])
    assert plan.calls
    asked: list[tuple[str, dict[str, int]]] = []
    result: dict[str, Any] = {"calls": {}}
    workers: Any = {n: FakeWorker(n, asked) for n in names}
    _count_calls(plan, workers, result, lambda msg: None)
    assert [n for n, _ in asked] == names
    assert list(asked[0][1]) == ["chat", "stream-usage", "stream-no-usage", "async-50"]
    assert asked[0][1]["chat"] == 20
    assert list(result["calls"]["otel-llm-estimate"]) == ["stream-no-usage"]


def test_a_worker_failing_to_count_is_logged_and_left_out() -> None:
    """The count is a supplement: one worker's error is logged, the others are still
    counted, and the run (its timed rounds) goes on."""
    names = ["none", "otel-llm", "sdk-floor"]
    plan = Plan(contenders=[by_name(n) for n in names])
    asked: list[tuple[str, dict[str, int]]] = []
    logged: list[str] = []
    workers: Any = {n: FakeWorker(n, asked, fail=n == "otel-llm") for n in names}
    result: dict[str, Any] = {"calls": {}}
    _count_calls(plan, workers, result, logged.append)
    assert set(result["calls"]) == {"none", "sdk-floor"}
    assert logged[0].startswith("otel-llm: calls not counted: otel-llm failed")


# --- the report --------------------------------------------------------------------------


def _with_calls() -> dict[str, Any]:
    result = _result(1.02, 1.30)
    result["contenders"]["otel-llm-estimate"] = _info("otel-llm-estimate", "0.1.0")
    scen = ("chat", "stream-usage", "stream-no-usage", "async-50")

    def counts(py: float, c: float) -> dict[str, dict[str, float]]:
        return {s: {"python": py, "c": c, "units": 5} for s in scen}

    result["calls"] = {
        "none": counts(3824.0, 3529.0),
        "otel-llm": {**counts(4295.0, 4024.0), "async-50": {"python": 7165.84, "c": 5063.86}},
        "openllmetry": counts(4900.0, 4100.0),
        "otel-llm-estimate": {"stream-no-usage": {"python": 3900.0, "c": 3600.0}},
        "lc-none": {"lc-invoke": {"python": 1000.0, "c": 800.0}},
        "lc-openllmetry": {"lc-invoke": {"python": 1250.0, "c": 900.0}},
    }
    result["calls"]["none"]["async-50"] = {"python": 6680.86, "c": 4559.96}
    return result


def _cells(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("|")[1:-1]] for line in table.splitlines()[2:]]


def test_calls_table_shows_calls_added_above_the_baseline() -> None:
    """Rows are contenders, cells Python / C calls per call minus the baseline's, rounded
    (async per call); the baseline row shows its own counts; a variant shows '-' where it
    was not counted; each suite has its own table."""
    result = _with_calls()
    rows = {cells[0]: cells[1:] for cells in _cells(calls_table(result, "openai"))}
    assert rows["no instrumentation (its own)"][0] == "3,824 / 3,529"
    assert rows["otel-llm"] == ["+471 / +495"] * 3 + ["+485 / +504"]  # 7165.84 - 6680.86
    assert rows["OpenLLMetry"][0] == "+1,076 / +571"
    assert rows["otel-llm, stream_usage=False"] == ["-", "-", "+76 / +71", "-"]
    assert "+250 / +100" in calls_table(result, "langchain")


def test_reports_place_the_table_after_each_suite_summary_and_judge_targets_by_calls() -> None:
    """Terminal and RESULTS.md put the calls table right after that suite's CPU summary,
    RESULTS.md with the sentence saying what it counts; the targets list judges the counts
    (none here: the fixture counts no floor)"""
    result = _with_calls()
    text = render_terminal(result)
    assert text.index("summary (openai)") < text.index(f"{CALLS_TITLE} (openai)") \
        < text.index("correctness (openai)")
    assert text.index("summary (langchain)") < text.index(f"{CALLS_TITLE} (langchain)")
    md = markdown(result, {"cpu": "Test CPU"}, None, "python -m bench")
    openai_at = md.index(f"### {CALLS_TITLE}")
    assert md.index("| CPU vs none") < openai_at < md.index("### non-streamed chat call")
    assert md.index("## LangChain") < md.rindex(f"### {CALLS_TITLE}")
    assert "does not see the work inside C extensions (pydantic-core, tiktoken)" in md
    assert [t for t, _ in targets(result)] == [t for t, _ in targets(_result(1.02, 1.30))]
    assert "## Targets (issue #17) for otel-llm in this run" in md


def test_a_result_saved_before_counting_still_renders(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """A result JSON without "calls" re-renders with ``--report``: every other table, no
    calls table, in the terminal and in RESULTS.md."""
    result = _result(1.02, 1.30)
    assert "calls" not in result
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps(result))
    assert bench_main(["--report", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "summary (openai)" in out and CALLS_TITLE not in out
    md = markdown(result, {"cpu": "Test CPU"}, None, "python -m bench")
    assert "## Memory" in md and CALLS_TITLE not in md
