"""``run_demo()``: pick a model server and a telemetry sink, run the scenarios, show the result.

The OpenAI SDK is instrumented for the duration of the demo only (then
restored), and every piece started here (embedded server, exporters, log
capture) is stopped in ``finally``. The exit code is 0 when every scenario
did what it shows (the failing call must fail), else 1; like telemetry in an
application, an unreachable collector is reported but does not fail the run.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import TextIO

from opentelemetry.trace import Status, StatusCode

from otel_llm.demo.backend import Backend, select_backend
from otel_llm.demo.console import Console
from otel_llm.demo.export import ExportMode, Sink, select_sink
from otel_llm.demo.progress import Progress
from otel_llm.demo.scenarios import METRIC_ATTRIBUTES, SCENARIOS, Scene
from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai, uninstrument_openai

__all__ = ["run_demo"]


def run_demo(*, out: TextIO | None = None, err: TextIO | None = None,
             progress: bool | None = None, export: ExportMode = "auto",
             server: ModelServer | None = None) -> int:
    """Run the LangChain callbacks tutorial's scenarios end to end; returns the exit code.

    ``progress``: spinner on ``err`` (default: when ``err`` is a terminal).
    ``export``: ``auto`` (a collector if configured or found), ``otlp`` or ``memory``.
    ``server``: an embedded server to use instead of starting one (tests).
    """
    console = Console(out)
    err = err if err is not None else sys.stderr
    spinner = progress if progress is not None else bool(getattr(err, "isatty", bool)())
    steps = Progress(console, len(SCENARIOS), spinner=spinner, err=err)
    console.line("otel-llm demo: the LangChain callbacks tutorial on the instrumented OpenAI SDK")
    with ExitStack() as stack:
        with steps.waiting("starting"):
            backend = select_backend(server=server)
            stack.callback(backend.close)
            sink = select_sink(export)
            stack.callback(sink.close)
        console.wrap(backend.label, "           ", first="  model:   ")
        console.wrap(sink.label, "           ", first="  traces:  ")
        ok, traces = _run_scenarios(console, steps, backend, sink)
        with steps.waiting("exporting"):
            sink.finish(console, traces)  # export problems are reported, not fatal
        console.line()
        console.line(f"done in {steps.elapsed():.1f} s"
                     + ("" if ok else "; some scenarios failed (see above)"))
    return 0 if ok else 1


def _run_scenarios(console: Console, steps: Progress, backend: Backend,
                   sink: Sink) -> tuple[bool, list[tuple[str, int]]]:
    tracer = sink.tracer_provider.get_tracer("otel_llm.demo")
    handler = sink.handler(metric_attributes=METRIC_ATTRIBUTES)
    scene = Scene(console, backend)
    traces: list[tuple[str, int]] = []
    ok = True
    instrument_openai(callbacks=[handler])
    try:
        for index, scenario in enumerate(SCENARIOS, 1):
            with steps.step(index, scenario.title), \
                    tracer.start_as_current_span(scenario.span_name) as root:
                traces.append((scenario.span_name, root.get_span_context().trace_id))
                try:
                    scenario.run(scene)
                except Exception as exc:  # show it, go on with the next scenario
                    ok = False
                    root.record_exception(exc)
                    root.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                    console.wrap(f"{type(exc).__name__}: {exc}", "    ",
                                 first="  ! this scenario failed: ", max_lines=3)
    finally:
        uninstrument_openai()
        handler.close()
    return ok, traces
