"""LangChainInstrumentor: the ``opentelemetry_instrumentor`` entry point for LangChain, under
``opentelemetry-instrument`` (zero code) and in process.

The zero-code test needs the package's entry points (``otel_llm_langchain`` and
``otel_llm_openai``) installed, as ``make venv`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

from otel_llm import semconv
from otel_llm.devserver import ModelServer
from otel_llm.integrations.langchain import LangChainInstrumentor
from otel_llm.integrations.langchain._instrument import installed
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.testing import InMemoryTelemetry

from .chains import prompt_model_parser
from .conftest import ModelFactory

APP = textwrap.dedent("""
    import json
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import PromptTemplate
    from langchain_openai import ChatOpenAI
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    # The app's own tracing setup; it never imports otel_llm. With opentelemetry-distro
    # installed, opentelemetry-instrument has already set an SDK provider: add to that one.
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    llm = ChatOpenAI(model="gpt-4o-mini+len=3")  # the endpoint comes from OPENAI_BASE_URL
    chain = PromptTemplate.from_template("1 + {number} = ") | llm | StrOutputParser()
    chain.invoke({"number": 2})
    for _ in llm.stream("hi"):
        pass
    spans = exporter.get_finished_spans()
    ids = {s.context.span_id: s.name for s in spans}
    print(json.dumps([{"name": s.name, "parent": ids.get(s.parent.span_id) if s.parent else None,
                       "attributes": dict(s.attributes)} for s in spans]))
""")


def test_entry_point_is_registered() -> None:
    """The installed package exposes the LangChain instrumentor under opentelemetry_instrumentor."""
    found = {ep.name: ep.value for ep in entry_points(group="opentelemetry_instrumentor")}
    assert found.get("otel_llm_langchain") == \
        "otel_llm.integrations.langchain:LangChainInstrumentor"


def test_zero_code_traces_langchain_with_one_span_per_llm_call(server: ModelServer,
                                                               tmp_path: Path) -> None:
    """`opentelemetry-instrument python app.py` with both entry points active: the chain is one
    tree (workflow over chat; the prompt and parser steps get no span), the stream one chat span, no second span
    from the OpenAI SDK layer, and the endpoint from OPENAI_BASE_URL on both chat spans."""
    app = tmp_path / "app.py"
    app.write_text(APP)
    env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test",
           "OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none",
           "OTEL_LOGS_EXPORTER": "none"}
    tool = Path(sys.executable).parent / "opentelemetry-instrument"
    done = subprocess.run([str(tool), sys.executable, str(app)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    seq = "invoke_workflow RunnableSequence"
    assert sorted((s["name"], s["parent"] or "") for s in spans) == sorted([
        (seq, ""), ("chat gpt-4o-mini+len=3", seq), ("chat gpt-4o-mini+len=3", "")])
    host, port = server.url.removeprefix("http://").split(":")
    for chat in (s for s in spans if s["name"].startswith("chat")):
        assert chat["attributes"][semconv.SERVER_ADDRESS] == host
        assert chat["attributes"][semconv.SERVER_PORT] == int(port)
        assert chat["attributes"][semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 3


def test_instrumentor_in_process(otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """instrument(tracer_provider=, meter_provider=) adds an OTel handler with those providers
    to every LangChain run; uninstrument() stops it."""
    instrumentor = LangChainInstrumentor()
    assert instrumentor.instrumentation_dependencies() == ("langchain-core >= 1.5",)
    instrumentor.instrument(tracer_provider=otel.tracer_provider,
                            meter_provider=otel.meter_provider)
    try:
        assert [type(h) for h in installed()] == [OpenTelemetryCallbackHandler]
        prompt_model_parser(chat_model()).invoke({"topic": "x"})
    finally:
        instrumentor.uninstrument()
    assert len(otel.spans()) == 2  # the sequence and its model (no prompt / parser spans)
    prompt_model_parser(chat_model()).invoke({"topic": "x"})
    assert len(otel.spans()) == 2 and installed() == ()
