"""Worker processes in this interpreter against a real model server: the JSON-lines
protocol, otel-llm's probes and memory run, errors and unavailable contenders."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator

import pytest

from bench.peers import instrumentors
from bench.peers import worker as worker_module
from bench.peers.process import Worker, WorkerError
from bench.peers.verdicts import OPENAI_CHECKS, judge
from bench.peers.worker import serve
from otel_llm.devserver import ModelServer

TRUTH = {"chat": {"input": 21, "output": 20}, "stream": {"input": 21, "output": 200}}


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as srv:
        yield srv


def test_otel_llm_worker_measures_probes_and_tracks_memory(server: ModelServer) -> None:
    """An otel-llm worker times a batch (one span per call, async units of 50 calls),
    passes every correctness probe, and reports RSS samples over a memory run."""
    with Worker("otel-llm", sys.executable, server.base_url) as worker:
        assert worker.available and worker.hello["versions"]["otel-llm"]
        batch = worker.ask(cmd="run", scenario="chat", units=3)
        assert batch["calls"] == 3 and batch["spans"] == 3 and batch["cpu"] > 0
        assert worker.ask(cmd="run", scenario="async-50", units=1)["spans"] == 50
        probes = worker.ask(cmd="probe")
        rows = judge(OPENAI_CHECKS, {"otel-llm": probes}, TRUTH)
        assert [label for label, cells in rows if cells["otel-llm"].ok is False] == []
        memory = worker.ask(cmd="rss", calls=20)
    assert memory["calls"] == 20 and memory["rss_end_mb"] > 10
    assert [n for n, _ in memory["samples"]] == list(range(0, 21))


def test_baseline_worker_emits_nothing_and_survives_a_bad_command(server: ModelServer) -> None:
    """The uninstrumented worker exports no span; an unknown scenario comes back as
    WorkerError with the worker's traceback, and the worker answers the next command."""
    with Worker("none", sys.executable, server.base_url) as worker:
        with pytest.raises(WorkerError, match="not in suite"):
            worker.ask(cmd="run", scenario="lc-invoke", units=1)
        batch = worker.ask(cmd="run", scenario="stream-usage", units=1)
        assert batch["calls"] == 1 and batch["spans"] == 0


def test_unavailable_contender_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """A contender whose package does not import answers ready=false with the reason,
    instead of crashing the run."""
    def missing(telemetry: object) -> None:
        raise ModuleNotFoundError("No module named 'opentelemetry.instrumentation.openai'")

    monkeypatch.setitem(instrumentors.INSTALLERS, "lc-none", missing)
    # the real WorkerTelemetry installs global providers: not in the test process
    monkeypatch.setattr(worker_module, "WorkerTelemetry", lambda service: object())
    answers = io.StringIO()
    serve("lc-none", None, io.StringIO(""), answers)
    hello = json.loads(answers.getvalue())
    assert hello["ready"] is False
    assert "opentelemetry.instrumentation.openai" in hello["unavailable"]
