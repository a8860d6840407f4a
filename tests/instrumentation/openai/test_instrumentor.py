"""OpenAIInstrumentor: the OpenTelemetry entry point, in process and under
``opentelemetry-instrument`` (zero code).

The zero-code test needs the package's entry point
``[project.entry-points.opentelemetry_instrumentor] otel_llm_openai =
"otel_llm.instrumentation.openai:OpenAIInstrumentor"`` to be installed.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points, requires
from pathlib import Path

import openai
import pytest
from openai.resources.chat.completions.completions import Completions
from packaging.requirements import Requirement

from otel_llm import semconv
from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import OpenAIInstrumentor, is_instrumented, openai_callbacks
from otel_llm.testing.collector import GrpcCollector
from otel_llm.testing.otel import InMemoryTelemetry

from .support import USER, Recorder

SCRIPT = textwrap.dedent("""
    import os
    import openai

    # No OpenTelemetry code at all: opentelemetry-instrument and the distro set it up.
    client = openai.OpenAI(base_url=os.environ["DEVSERVER_URL"], api_key="sk-test")
    messages = [{"role": "user", "content": "hi"}]
    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    for _ in client.chat.completions.create(model="gpt-4o-mini+len=7", messages=messages,
                                            stream=True):
        pass
""")



def test_entry_point_is_registered() -> None:
    """The installed package exposes the instrumentor under opentelemetry_instrumentor."""
    found = {ep.name: ep.value for ep in entry_points(group="opentelemetry_instrumentor")}
    assert found.get("otel_llm_openai") == "otel_llm.instrumentation.openai:OpenAIInstrumentor"


def test_zero_code_with_opentelemetry_instrument(server: ModelServer, tmp_path: Path) -> None:
    """`opentelemetry-instrument python app.py` with the `instrument` extra's distro and
    exporter, on an app with no OpenTelemetry code: its two calls reach a real OTLP receiver
    as two chat spans, the streamed one with usage."""
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    with GrpcCollector() as collector:  # the distro's default protocol
        env = {**os.environ, "DEVSERVER_URL": server.base_url,
               "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
               "OTEL_SERVICE_NAME": "zero-code", "OTEL_LOGS_EXPORTER": "none"}
        env.pop("OTEL_EXPORTER_OTLP_PROTOCOL", None)
        tool = Path(sys.executable).parent / "opentelemetry-instrument"
        done = subprocess.run([str(tool), sys.executable, str(script)], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        spans = collector.received.spans()  # the SDK flushed at the app's exit
    assert sorted(s.name for s in spans) == ["chat gpt-4o-mini", "chat gpt-4o-mini+len=7"]
    streamed = next(s for s in spans if s.name == "chat gpt-4o-mini+len=7")
    attributes = {kv.key: kv.value for kv in streamed.attributes}
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS].int_value == 7
    assert attributes[semconv.GEN_AI_PROVIDER_NAME].string_value == "openai"


def test_instrumentor_in_process(client: openai.OpenAI) -> None:
    """instrument(tracer_provider=, meter_provider=) installs the OpenTelemetry handler with
    those providers (it accepts the SDKs the ``openai`` extra allows: the same version
    range); uninstrument() restores the SDK."""
    original = Completions.create
    instrumentor = OpenAIInstrumentor()
    [declared] = [Requirement(r) for r in requires("otel-llm") or ()
                  if Requirement(r).name == "openai"]
    [accepted] = [Requirement(r) for r in instrumentor.instrumentation_dependencies()]
    assert accepted.name == "openai" and accepted.specifier == declared.specifier
    with InMemoryTelemetry() as otel:
        instrumentor.instrument(tracer_provider=otel.tracer_provider,
                                meter_provider=otel.meter_provider)
        try:
            assert is_instrumented()
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
            span = otel.span("chat gpt-4o-mini")
            assert (span.attributes or {})[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
        finally:
            instrumentor.uninstrument()
    assert Completions.create is original and not is_instrumented()


def test_instrumentor_without_telemetry_module(client: openai.OpenAI,
                                               monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    """If otel_llm.telemetry cannot be imported, the SDK is still instrumented (scoped
    handlers work) and the missing handler is logged."""
    monkeypatch.setitem(sys.modules, "otel_llm.telemetry", None)  # import raises ImportError
    instrumentor = OpenAIInstrumentor()
    with caplog.at_level(logging.WARNING):
        instrumentor.instrument()
    try:
        assert is_instrumented()
        assert "otel_llm.telemetry is unavailable" in caplog.text
        scoped = Recorder()
        with openai_callbacks(scoped):
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        assert scoped.hooks == ["chat_start", "end"]
    finally:
        instrumentor.uninstrument()
