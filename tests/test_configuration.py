"""configure(): validation, resources, providers, real OTLP export, and behaviour under faults.

The OTLP receivers are in-process: a gRPC server built from the collector's
service stubs and a tiny HTTP server decoding the protobuf bodies, both on
127.0.0.1:0. Fault tests use short export timeouts to stay fast.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import subprocess
import sys
import textwrap
import threading
import tracemalloc
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry._logs import _internal as logs_internal
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.util._once import Once

from otel_llm import semconv
from otel_llm.configuration import Telemetry, configure, guard
from otel_llm.errors import ConfigurationError
from otel_llm.schema import AIMessage, ChatGeneration, HumanMessage, LLMResult
from otel_llm.telemetry import CaptureMode, OpenTelemetryCallbackHandler
from otel_llm.testing.collector import GrpcCollector, HttpCollector, dead_endpoint

MODEL = "gpt-4o-mini"
MESSAGES = [[HumanMessage("Hello")]]
PARAMS = {"model": MODEL, "base_url": "https://api.openai.com/v1", "temperature": 0.2}
RESULT = LLMResult(
    generations=[
        [ChatGeneration(message=AIMessage("Hi"), generation_info={"finish_reason": "stop"})]
    ],
    llm_output={"token_usage": {"prompt_tokens": 7, "completion_tokens": 3}, "id": "chatcmpl-1"},
)


def llm_run(handler: OpenTelemetryCallbackHandler | None, tokens: int = 10) -> None:
    """One streamed chat run as the manager would report it (no handler: the bare app work)."""
    run_id = uuid.uuid4()
    pieces = []
    if handler is not None:
        handler.on_chat_model_start(
            {},
            MESSAGES,
            run_id=run_id,
            metadata={"ls_provider": "openai"},
            invocation_params=PARAMS,
        )
    for i in range(tokens):
        pieces.append(str(i))
        if handler is not None:
            handler.on_llm_new_token(pieces[-1], run_id=run_id)
    "".join(pieces)
    if handler is not None:
        handler.on_llm_end(RESULT, run_id=run_id)


# --- fixtures ------------------------------------------------------------------------------


def _reset_otel_globals() -> None:
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    trace._PROXY_TRACER_PROVIDER = trace.ProxyTracerProvider()
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    metrics_internal._PROXY_METER_PROVIDER = metrics_internal._ProxyMeterProvider()
    logs_internal._LOGGER_PROVIDER_SET_ONCE = Once()
    logs_internal._LOGGER_PROVIDER = None
    logs_internal._PROXY_LOGGER_PROVIDER = logs_internal.ProxyLoggerProvider()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No OTEL_* variable from the shell, fresh global providers, fresh log rate limits."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    _reset_otel_globals()
    guard.EXPORT_LOG_FILTER.reset()
    yield
    _reset_otel_globals()


@pytest.fixture
def handles() -> Iterator[list[Telemetry]]:
    """Configured handles to shut down after the test, whatever happens."""
    made: list[Telemetry] = []
    yield made
    for handle in made:
        handle.shutdown(timeout=1.0)


@pytest.fixture
def make(handles: list[Telemetry]) -> Callable[..., Telemetry]:
    def build(**kwargs: Any) -> Telemetry:
        kwargs.setdefault("install", False)
        handle = configure(**kwargs)
        handles.append(handle)
        return handle

    return build


def attrs_of(key_values: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in key_values}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    return getattr(value, kind) if kind else None


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"endpoint": "localhost:4317"}, "endpoint"),
        ({"endpoint": "ftp://collector:4317"}, "endpoint"),
        ({"endpoint": "http://collector:99999"}, "endpoint"),
        ({"protocol": "http/json"}, "protocol"),
        ({"protocol": "carrier-pigeon"}, "protocol"),
        ({"export_timeout": -1}, "export_timeout"),
        ({"export_timeout": 0}, "export_timeout"),
        ({"metric_export_interval": -5}, "metric_export_interval"),
        ({"headers": {"bad header": "x"}}, "headers"),
        ({"headers": {"x-key": "a\nb"}}, "headers"),
        ({"traces_exporter": "jaeger-thrift"}, "traces_exporter"),
        ({"metrics_exporter": "nope"}, "metrics_exporter"),
        ({"capture_content": "ALL"}, "capture_content"),
        ({"max_queue_size": 0}, "max_queue_size"),
        ({"prometheus_port": 70000}, "prometheus_port"),
        ({"on_existing_provider": "replace"}, "on_existing_provider"),
    ],
)
def test_invalid_arguments_name_the_setting(kwargs: dict[str, Any], setting: str) -> None:
    """Each invalid argument raises ConfigurationError naming that argument."""
    with pytest.raises(ConfigurationError) as info:
        configure(install=False, **kwargs)
    assert info.value.setting == setting


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "udp"),
        ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "novalue"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=1,b c=2"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "-5"),
        ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
        ("OTEL_TRACES_EXPORTER", "zipkin-v9"),
    ],
)
def test_invalid_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """Invalid standard variables fail at start-up, naming the variable (not a later warning)."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as info:
        configure(install=False)
    assert info.value.setting == name


def test_invalid_capture_env_warns_and_captures_nothing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """The content variable fails closed: a warning and NO_CONTENT, not an exception."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "maybe")
    handle = make(traces_exporter="none", metrics_exporter="none")
    assert handle.capture_content is CaptureMode.NO_CONTENT
    assert handle.logger_provider is None
    assert "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT" in caplog.text


# --- resource and providers ----------------------------------------------------------------


def test_resource_from_arguments(make: Any) -> None:
    """service.name, service.version and deployment.environment.name from arguments."""
    handle = make(
        service_name="chatbot",
        service_version="1.4.0",
        environment="prod",
        resource_attributes={"team": "ml"},
        traces_exporter="none",
        metrics_exporter="none",
    )
    attrs = handle.tracer_provider.resource.attributes
    assert attrs["service.name"] == "chatbot"
    assert attrs["service.version"] == "1.4.0"
    assert attrs["deployment.environment.name"] == "prod"
    assert attrs["team"] == "ml"


def test_resource_precedence(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    """Argument > OTEL_SERVICE_NAME > service.name in OTEL_RESOURCE_ATTRIBUTES."""
    monkeypatch.setenv(
        "OTEL_RESOURCE_ATTRIBUTES", "service.name=ra,deployment.environment.name=dev"
    )
    monkeypatch.setenv("OTEL_SERVICE_NAME", "env")
    from_env = make(traces_exporter="none", metrics_exporter="none")
    assert from_env.tracer_provider.resource.attributes["service.name"] == "env"
    assert from_env.tracer_provider.resource.attributes["deployment.environment.name"] == "dev"
    from_arg = make(service_name="arg", traces_exporter="none", metrics_exporter="none")
    assert from_arg.tracer_provider.resource.attributes["service.name"] == "arg"


def test_install_sets_the_global_providers(handles: list[Telemetry]) -> None:
    """install=True makes the built providers the global ones."""
    handle = configure(traces_exporter="none", metrics_exporter="none")
    handles.append(handle)
    assert trace.get_tracer_provider() is handle.tracer_provider
    assert metrics.get_meter_provider() is handle.meter_provider


def test_existing_sdk_provider_is_reused_not_replaced(
    handles: list[Telemetry], caplog: pytest.LogCaptureFixture
) -> None:
    """An application's own SDK TracerProvider stays; it is reused (logged) and not shut down."""
    app_provider = TracerProvider()
    trace.set_tracer_provider(app_provider)
    with caplog.at_level(logging.INFO, logger="otel_llm.configuration"):
        handle = configure(traces_exporter="none", metrics_exporter="none")
    handles.append(handle)
    assert handle.tracer_provider is app_provider
    assert trace.get_tracer_provider() is app_provider
    assert "reusing the application's TracerProvider" in caplog.text
    handle.shutdown(timeout=1.0)
    span = app_provider.get_tracer("x").start_span("still works")
    assert span.is_recording()


def test_existing_provider_can_be_refused() -> None:
    """on_existing_provider='raise' refuses to run with someone else's provider."""
    trace.set_tracer_provider(TracerProvider())
    with pytest.raises(ConfigurationError) as info:
        configure(on_existing_provider="raise", traces_exporter="none", metrics_exporter="none")
    assert info.value.setting == "on_existing_provider"


def test_logger_provider_only_for_content_events(make: Any) -> None:
    """A LoggerProvider is built only when the capture mode emits events."""
    quiet = make(traces_exporter="none", metrics_exporter="none", logs_exporter="none")
    assert quiet.logger_provider is None
    events = make(
        traces_exporter="none",
        metrics_exporter="none",
        logs_exporter="console",
        capture_content="EVENT_ONLY",
        max_queue_size=100,  # smaller than the SDK's default batch: must still be accepted
    )
    assert events.logger_provider is not None
    assert events.handler().capture_content is CaptureMode.EVENT_ONLY


def test_console_exporter(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """traces_exporter='console' loads the SDK's console exporter by its entry-point name."""
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExportResult

    printed: list[str] = []

    def export(self: Any, spans: Any) -> SpanExportResult:
        printed.extend(s.name for s in spans)
        return SpanExportResult.SUCCESS

    monkeypatch.setattr(ConsoleSpanExporter, "export", export)
    handle = make(traces_exporter="console", metrics_exporter="none")
    llm_run(handle.handler())
    assert handle.force_flush(timeout=5)
    assert printed == [f"chat {MODEL}"]


def test_shutdown_is_idempotent_and_ends_open_runs(make: Any) -> None:
    """shutdown() ends runs still open in its handlers, exports them, and can be called twice."""
    with GrpcCollector() as collector:
        handle = make(endpoint=collector.endpoint, metrics_exporter="none")
        handler = handle.handler()
        handler.on_chat_model_start({}, MESSAGES, run_id=uuid.uuid4(), invocation_params=PARAMS)
        assert handle.shutdown(timeout=5) is True
        assert handle.shutdown(timeout=5) is True
        [span] = collector.received.spans()
        assert span.status.code == span.status.STATUS_CODE_ERROR
        assert handler.open_runs == 0


@pytest.mark.prometheus
def test_prometheus_endpoint_on_loopback(make: Any) -> None:
    """prometheus_port serves the metrics under their Prometheus names, on 127.0.0.1 only."""
    handle = make(traces_exporter="none", metrics_exporter="none", prometheus_port=0)
    llm_run(handle.handler())
    assert handle._prometheus_server.server_address[0] == "127.0.0.1"
    with urllib.request.urlopen(f"http://127.0.0.1:{handle.prometheus_port}/metrics") as reply:
        text = reply.read().decode()
    for metric in (semconv.METRIC_OPERATION_DURATION, semconv.METRIC_TOKEN_USAGE):
        assert f"{semconv.PROMETHEUS_NAMES[metric]}_bucket{{" in text
    assert 'gen_ai_token_type="input"' in text


# --- real OTLP export ----------------------------------------------------------------------


def test_spans_and_histograms_arrive_over_grpc(make: Any) -> None:
    """configure() -> OTLP/gRPC: attributes, resource, custom headers and histograms intact."""
    with GrpcCollector() as collector:
        handle = make(
            endpoint=collector.endpoint,
            protocol="grpc",
            headers={"x-api-key": "s3cret"},
            service_name="chatbot",
            environment="test",
        )
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        [span] = collector.received.spans()
        assert span.name == f"chat {MODEL}"
        assert span.kind == span.SPAN_KIND_CLIENT
        attrs = attrs_of(span.attributes)
        assert attrs[semconv.GEN_AI_REQUEST_MODEL] == MODEL
        assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 7
        assert attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.2
        assert attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
        resource = attrs_of(collector.received.traces[0].resource_spans[0].resource.attributes)
        assert resource["service.name"] == "chatbot"
        assert resource["deployment.environment.name"] == "test"
        assert all(h.get("x-api-key") == "s3cret" for h in collector.received.headers)
        [duration] = collector.received.metric(semconv.METRIC_OPERATION_DURATION)
        assert duration.unit == "s"
        point = duration.histogram.data_points[0]
        assert list(point.explicit_bounds) == list(semconv.DURATION_BUCKETS)
        assert attrs_of(point.attributes)[semconv.GEN_AI_PROVIDER_NAME] == "openai"
        tokens = collector.received.metric(semconv.METRIC_TOKEN_USAGE)[0].histogram.data_points
        assert sorted(p.sum for p in tokens) == [3, 7]


def test_http_protobuf_from_environment(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    """Only standard variables: OTLP/HTTP endpoint, headers, service name, resource attributes."""
    with HttpCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=acme,authorization=Bearer%20tok")
        monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
        monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging")
        handle = make()
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        [span] = collector.received.spans()
        assert attrs_of(span.attributes)[semconv.GEN_AI_OPERATION_NAME] == "chat"
        resource = attrs_of(collector.received.traces[0].resource_spans[0].resource.attributes)
        assert resource["service.name"] == "from-env"
        assert resource["deployment.environment.name"] == "staging"
        assert collector.received.metric(semconv.METRIC_TOKEN_USAGE)
        for headers in collector.received.headers:
            assert headers["x-tenant"] == "acme"
            assert headers["authorization"] == "Bearer tok"
            assert headers["content-type"] == "application/x-protobuf"


def test_per_signal_variables_win(monkeypatch: pytest.MonkeyPatch, make: Any) -> None:
    """Traces over HTTP to one receiver, metrics over gRPC to another, via per-signal variables."""
    with HttpCollector() as http_rx, GrpcCollector() as grpc_rx:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", grpc_rx.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", f"{http_rx.endpoint}/v1/traces")
        handle = make()
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        assert len(http_rx.received.spans()) == 1 and grpc_rx.received.spans() == []
        assert grpc_rx.received.metric(semconv.METRIC_OPERATION_DURATION)


def test_content_events_exported_as_logs(make: Any) -> None:
    """EVENT_ONLY content travels as an OTLP log record tied to the span."""
    with GrpcCollector() as collector:
        handle = make(endpoint=collector.endpoint, capture_content="EVENT_ONLY")
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        [span] = collector.received.spans()
        records = [
            r
            for req in collector.received.logs
            for rl in req.resource_logs
            for sl in rl.scope_logs
            for r in sl.log_records
        ]
        [record] = records
        assert record.event_name == semconv.EVENT_INFERENCE_DETAILS
        assert record.span_id == span.span_id
        assert "Hello" in attrs_of(record.attributes)[semconv.GEN_AI_INPUT_MESSAGES]


def test_a_short_script_loses_nothing(tmp_path: Path) -> None:
    """A script that never calls shutdown still exports: the handle is registered with atexit."""
    with HttpCollector() as collector:
        script = tmp_path / "script.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import uuid
                from otel_llm.configuration import configure
                from otel_llm.schema import HumanMessage
                handle = configure(endpoint={collector.endpoint!r}, protocol="http/protobuf")
                handler = handle.handler()
                handler.on_chat_model_start(
                    {{}}, [[HumanMessage("hi")]], run_id=uuid.uuid4(),
                    invocation_params={{"model": "m"}},
                )
                print("exiting with the run still open")
                """
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        done = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        [span] = collector.received.spans()
        assert span.name == "chat m"
        assert collector.received.metrics


# --- faults --------------------------------------------------------------------------------


FAULTS = [
    ("grpc", "down"),
    ("grpc", "hang"),
    ("grpc", "error"),
    ("http/protobuf", "down"),
    ("http/protobuf", "hang"),
    ("http/protobuf", "error"),
]


class _Seen(logging.Handler):
    """Sets an event when a log message containing ``text`` is emitted (wait, don't sleep)."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.DEBUG)
        self.text = text
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@contextlib.contextmanager
def _watch(text: str) -> Iterator[threading.Event]:
    seen = _Seen(text)
    root = logging.getLogger()
    root.addHandler(seen)
    try:
        yield seen.event
    finally:
        root.removeHandler(seen)


def _collector(protocol: str, fault: str) -> Any:
    if fault == "down":
        return None
    return GrpcCollector(fault) if protocol == "grpc" else HttpCollector(fault)


@pytest.mark.parametrize(("protocol", "fault"), FAULTS)
def test_faulty_collector_never_reaches_the_app(
    protocol: str,
    fault: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    make: Any,
) -> None:
    """Collector down / hanging / failing: no raise into the app, runs end, logged once.

    The app keeps running while the exporters meet the fault (until the failure
    is logged, then 2,000 more runs). The added latency is a benchmark figure
    (``bench/fault_bench.py``), never a test budget.
    """
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    collector = _collector(protocol, fault)
    with collector or contextlib.nullcontext(), _watch("traces (otlp) export failed") as failed:
        endpoint = collector.endpoint if collector else dead_endpoint()
        handle = make(
            endpoint=endpoint,
            protocol=protocol,
            export_timeout=0.2,
            metric_export_interval=0.2,
            max_queue_size=256,
        )
        caplog.set_level(logging.WARNING)
        handler = handle.handler()
        for _ in range(100_000):  # until the first export has met the fault (an event)
            llm_run(handler)
            if failed.wait(0.001):
                break
        assert failed.is_set(), "the fault should have been met and logged"
        for _ in range(2000):
            llm_run(handler)
        handle.shutdown(timeout=1.0)
    assert handler.failures.counts() == {}
    assert handler.open_runs == 0
    if collector is not None:
        assert collector.received.attempts > 0
        assert collector.received.spans() == []
    # Over a thousand spans dropped: a handful of log lines, each message once.
    messages = [(r.name, r.msg) for r in caplog.records]
    assert len(messages) == len(set(messages)), messages
    assert len(messages) <= 6, messages
    failures = [r for r in caplog.records if "traces (otlp) export failed" in r.getMessage()]
    assert len(failures) == 1


def test_memory_stays_bounded_with_a_hanging_collector(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make: Any
) -> None:
    """Exports stuck for the whole test: the queue cap bounds memory; drops are logged at most
    once (newer SDKs, 1.45 for one, log every dropped span, which the limiter folds; 1.39 drops
    silently)."""
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    caplog.set_level(logging.WARNING)
    with GrpcCollector("hang") as collector:
        handle = make(
            endpoint=collector.endpoint,
            export_timeout=30,  # the first export hangs until the collector is stopped
            metrics_exporter="none",
            max_queue_size=200,
        )
        handler = handle.handler()
        # The worker takes at most one batch (<= the queue size) into the export that hangs;
        # whatever else arrives fills the queue: after twice its size it is full.
        for _ in range(2 * 200):
            llm_run(handler, tokens=3)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            for _ in range(3000):
                llm_run(handler, tokens=3)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        assert collector.received.spans() == []  # nothing got through: exports are stuck
        growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        # 3,000 more spans kept in memory would be several MB.
        assert growth < 1_000_000, f"grew {growth} bytes"
        assert handler.open_runs == 0
    dropped = [r for r in caplog.records if "Queue full" in r.getMessage()]
    assert len(dropped) <= 1  # newer SDKs log this once per dropped span without the limiter


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_shutdown_with_a_dead_collector_returns(protocol: str, make: Any) -> None:
    """Long export timeouts and retries pending: shutdown still returns and the handle is closed.

    How long it takes is a benchmark figure (``bench/fault_bench.py``).
    """
    with HttpCollector("hang") if protocol == "http/protobuf" else contextlib.nullcontext():
        handle = make(
            endpoint=dead_endpoint(), protocol=protocol, export_timeout=10, max_queue_size=2048
        )
        handler = handle.handler()
        for _ in range(1500):
            llm_run(handler, tokens=2)
        handle.shutdown(timeout=1.0)
    assert handler.open_runs == 0
    handle.shutdown(timeout=1.0)  # idempotent


def test_rate_limited_log_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The export-log filter lets one record per message through per interval, then counts."""
    now = [100.0]
    monkeypatch.setattr(guard.time, "monotonic", lambda: now[0])
    limiter = guard.OncePerInterval(interval=0.2)
    record = logging.LogRecord(
        "opentelemetry.x", logging.ERROR, __file__, 1, "Failed %s", ("a",), None
    )
    assert limiter.filter(record)
    assert not limiter.filter(
        logging.LogRecord("opentelemetry.x", 40, "", 1, "Failed %s", ("b",), None)
    )
    assert limiter.filter(logging.LogRecord("opentelemetry.x", 40, "", 1, "Other", (), None))
    now[0] += 0.25
    later = logging.LogRecord("opentelemetry.x", 40, "", 1, "Failed %s", ("c",), None)
    assert limiter.filter(later)
    assert later.getMessage() == "Failed c [1 similar messages suppressed in the last 0.2 s]"


class _FlakyExporter:
    """Records the batches it is given; fails while ``down`` is set."""

    def __init__(self) -> None:
        self.down = True
        self.batches: list[int] = []

    def export(self, batch: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        self.batches.append(len(batch))
        return SpanExportResult.FAILURE if self.down else SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 0) -> bool:
        return True


def test_breaker_stops_encoding_during_an_outage_then_probes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After a failure batches are dropped unsent; probes are small; recovery is logged once."""
    now = [100.0]
    monkeypatch.setattr(guard.time, "monotonic", lambda: now[0])
    inner = _FlakyExporter()
    breaker = guard.SpanBreaker(inner, "otlp")  # type: ignore[arg-type]
    batch = list(range(100))
    caplog.set_level(logging.WARNING, logger="otel_llm.configuration")
    assert breaker.export(batch).name == "FAILURE"  # type: ignore[arg-type]
    assert breaker.export(batch).name == "FAILURE"  # type: ignore[arg-type]  # open: not sent
    assert inner.batches == [100]
    now[0] += 1.1
    breaker.export(batch)  # type: ignore[arg-type]  # half-open: a probe of 8 fails
    assert inner.batches == [100, 8]
    now[0] += 1.1  # back-off doubled to 2 s: still open
    breaker.export(batch)  # type: ignore[arg-type]
    assert inner.batches == [100, 8]
    now[0] += 1.0
    inner.down = False
    assert breaker.export(batch).name == "SUCCESS"  # type: ignore[arg-type]
    assert inner.batches == [100, 8, 8, 92]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "export failed" in messages[0]
    assert "works again; 400 items were dropped meanwhile" in messages[1]
