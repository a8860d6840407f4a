"""Where the demo's telemetry goes: a collector when there is one, else the terminal.

OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or the traces endpoint) is set or
a collector accepts a TCP connection on localhost within 0.2 s (port 4317 over
gRPC when the ``grpc`` extra is installed, else 4318 over HTTP); the
pipeline is ``otel_llm.configure()`` (so every ``OTEL_*`` variable applies),
flushed with a bounded wait at the end, followed by a Jaeger link per trace.
A configured endpoint that refuses connections is reported in one line and
not used. A collector that accepts connections but fails or hangs costs at
most the flush timeout and one line of output: the exporters' own warnings
are collected during the demo instead of being printed. Without a collector
everything stays in memory
(``otel_llm.testing.InMemoryTelemetry``) and is rendered as span trees and a
metrics table: what would have been exported.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.trace import TracerProvider

from otel_llm.configuration import Telemetry, configure
from otel_llm.demo.console import Console
from otel_llm.demo.metrics import render_metrics
from otel_llm.demo.spans import render_traces
from otel_llm.errors import ConfigurationError
from otel_llm.settings import (
    OTLP_ENDPOINT,
    OTLP_ENDPOINTS,
    RESOURCE_ATTRIBUTES,
    SERVICE_NAME,
)
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.testing import InMemoryTelemetry

__all__ = [
    "DEFAULT_COLLECTOR",
    "FLUSH_TIMEOUT",
    "JAEGER_URL_ENV",
    "ExportMode",
    "MemorySink",
    "OtlpSink",
    "Sink",
    "collector_answers",
    "select_sink",
]

ExportMode = Literal["auto", "otlp", "memory"]
JAEGER_URL_ENV = "OTEL_LLM_JAEGER_URL"
DEFAULT_JAEGER_URL = "http://localhost:16686"
DEFAULT_COLLECTOR = ("localhost", 4317)
SERVICE = "otel-llm-demo"
#: Seconds the demo waits for the collector at the end (then once more for shutdown).
FLUSH_TIMEOUT = 3.0
_EXPORT_TIMEOUT = 2.0
_PROBE_TIMEOUT = 0.2
_SHOWN = "kept in memory and shown below"
_SHUTDOWN_TIMEOUT = 1.0
_EXPORT_LOGGERS = ("opentelemetry", "otel_llm.configuration")
#: (scenario root span name, trace id) of each trace the demo made
Traces = Sequence[tuple[str, int]]


class Sink(Protocol):
    label: str
    tracer_provider: TracerProvider

    def handler(self, **kwargs: Any) -> OpenTelemetryCallbackHandler:
        """A handler bound to the sink's providers; ``kwargs`` go to its constructor."""
        ...

    def finish(self, console: Console, traces: Traces) -> bool:
        """Show or export what was recorded; False if it could not be delivered."""
        ...

    def close(self) -> None: ...


def collector_answers(host: str = DEFAULT_COLLECTOR[0], port: int = DEFAULT_COLLECTOR[1],
                      timeout: float = _PROBE_TIMEOUT) -> bool:
    """Whether something accepts TCP connections on ``host:port`` (the OTLP gRPC port)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def endpoint_address(endpoint: str) -> tuple[str, int]:
    """Host and port of an OTLP endpoint URL (``http://h:p/...``, ``https://h``, ``h:p``)."""
    parts = urlsplit(endpoint if "//" in endpoint else f"//{endpoint}")
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"https": 443, "http": 80}.get(parts.scheme, DEFAULT_COLLECTOR[1])
    return parts.hostname or DEFAULT_COLLECTOR[0], port or default


def local_collector() -> tuple[int, str]:
    """The port and protocol to look for a local collector on: gRPC's if its exporter is here."""
    if find_spec("opentelemetry.exporter.otlp.proto.grpc") is not None:
        return DEFAULT_COLLECTOR[1], "grpc"
    return 4318, "http/protobuf"


def select_sink(mode: ExportMode = "auto", environ: Mapping[str, str] | None = None) -> Sink:
    """``otlp``, ``memory``, or ``auto``: OTLP if an endpoint is set or a collector answers.

    A configured endpoint that refuses connections is not used: the demo says so
    in one line and shows the telemetry in the terminal instead.
    """
    env = os.environ if environ is None else environ
    endpoint = (env.get(OTLP_ENDPOINTS["traces"], "").strip()
                or env.get(OTLP_ENDPOINT, "").strip())
    if mode == "memory":
        return MemorySink(f"{_SHOWN} (--export memory)")
    port, protocol = local_collector()
    local = f"localhost:{port}"
    if mode == "auto" and not endpoint:
        if not collector_answers(DEFAULT_COLLECTOR[0], port):
            return MemorySink(f"{_SHOWN} (no collector: OTEL_EXPORTER_OTLP_ENDPOINT is not set "
                              f"and nothing answers on {local})")
        return _otlp(f"http://{local}", env, found=protocol)
    if not collector_answers(*endpoint_address(endpoint or local)):
        return MemorySink(f"{_SHOWN}: the collector at {endpoint or local} does "
                          "not answer, nothing was exported")
    return _otlp(endpoint or f"http://{local}", env, found=None if endpoint else protocol)


def _otlp(endpoint: str, env: Mapping[str, str], found: str | None = None) -> Sink:
    """``found``: the protocol of a collector the demo found itself (none: configured by env)."""
    named = bool(env.get(SERVICE_NAME)) or "service.name=" in env.get(RESOURCE_ATTRIBUTES, "")
    timeouts = ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT")
    try:
        telemetry = configure(
            service_name=None if named else SERVICE,
            endpoint=endpoint if found else None,
            protocol=found,
            # An exporter that gives up before the demo stops waiting leaves nothing behind.
            export_timeout=None if any(env.get(t) for t in timeouts) else _EXPORT_TIMEOUT,
            install=False,  # the demo passes its providers explicitly; globals stay untouched
        )
    except ConfigurationError as exc:
        return MemorySink(f"{_SHOWN} (not exported: {exc})")
    provider = telemetry.tracer_provider
    resource = provider.resource if isinstance(provider, SdkTracerProvider) else None
    service = resource.attributes.get("service.name", SERVICE) if resource else SERVICE
    found_note = ", found a collector there" if found else ""
    return OtlpSink(telemetry, f"OTLP to {endpoint}{found_note} (service {service})", endpoint,
                    env)


class MemorySink:
    """In-memory providers; ``finish`` renders the span trees and the metrics table."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.telemetry = InMemoryTelemetry(resource={"service.name": SERVICE})
        self.tracer_provider: TracerProvider = self.telemetry.tracer_provider

    def handler(self, **kwargs: Any) -> OpenTelemetryCallbackHandler:
        return self.telemetry.handler(**kwargs)

    def finish(self, console: Console, traces: Traces) -> bool:
        console.line()
        console.line("=" * min(console.width, 79))
        console.line("What would have been exported (set OTEL_EXPORTER_OTLP_ENDPOINT to")
        console.line("send it to a collector, e.g. the stack in deploy/)")
        render_traces(console, self.telemetry.spans())
        render_metrics(console, {name: self.telemetry.metric_points(name)
                                 for name in sorted(self.telemetry.metric_names())})
        return True

    def close(self) -> None:
        self.telemetry.shutdown()


class _Collected(logging.Handler):
    """Keeps the exporters' warnings (retries, failures) instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a malformed record must not break the demo
            self.messages.append(str(record.msg))


class OtlpSink:
    """``configure()``'s pipeline; ``finish`` flushes (bounded) and prints Jaeger links."""

    def __init__(self, telemetry: Telemetry, label: str, endpoint: str,
                 environ: Mapping[str, str]) -> None:
        self.label = label
        self.telemetry = telemetry
        self.tracer_provider: TracerProvider = telemetry.tracer_provider
        self.endpoint = endpoint
        self.jaeger = (environ.get(JAEGER_URL_ENV, "").strip() or DEFAULT_JAEGER_URL).rstrip("/")
        self.collected = _Collected()
        self._saved: list[tuple[logging.Logger, bool]] = []
        for name in _EXPORT_LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.propagate))
            logger.addHandler(self.collected)
            logger.propagate = False
        self._closed = False

    def handler(self, **kwargs: Any) -> OpenTelemetryCallbackHandler:
        return self.telemetry.handler(**kwargs)

    def finish(self, console: Console, traces: Traces) -> bool:
        flushed = self.telemetry.force_flush(timeout=FLUSH_TIMEOUT)
        self.telemetry.shutdown(timeout=_SHUTDOWN_TIMEOUT)
        console.line()
        if flushed and not self.collected.messages:
            console.line(f"Exported to {self.endpoint}. The traces in Jaeger:")
            for name, trace_id in traces:
                label = name.removeprefix("demo: ")
                link = f"{self.jaeger}/trace/{trace_id:032x}"
                if 2 + max(len(label), 15) + 1 + len(link) > console.width:
                    console.line(f"  {label}")
                    console.line(f"    {link}")
                else:
                    console.line(f"  {label:<15} {link}")
            return True
        why = (self.collected.messages[0] if self.collected.messages
               else f"no answer within {FLUSH_TIMEOUT:g} s")
        console.wrap(f"export to {self.endpoint} failed: {why}. The spans and metrics were "
                     "dropped; is the collector healthy?", "  ", first="! ", max_lines=4)
        return False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.telemetry.shutdown(timeout=_SHUTDOWN_TIMEOUT)
        for logger, propagate in self._saved:
            logger.removeHandler(self.collected)
            logger.propagate = propagate
