"""``configure()``: the one place that builds OpenTelemetry SDK pipelines.

It reads the standard ``OTEL_*`` variables the way the SDK does (the SDK's
exporters, processors and ``Resource.create`` read most of them themselves),
rejects invalid values up front with a ``ConfigurationError`` naming the
setting, and returns a ``Telemetry`` handle whose ``force_flush()`` and
``shutdown()`` are bounded by timeouts and registered with ``atexit``.

Exporting never blocks or raises into the application: spans and log records
go through bounded queues (:mod:`~otel_llm.configuration.queue`), metrics
through the SDK's periodic reader (cumulative, so an outage leaves no reset),
each on its own thread. While a collector is down, what the queue holds waits
for it, nothing is encoded, and an empty probe request finds out when it is
back; the SDK's repeated export-failure messages from these pipelines (not from
exporters the application built) are rate-limited to one per kind per minute.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

from otel_llm import settings
from otel_llm.attribution import propagate_in_baggage
from otel_llm.configuration import checks
from otel_llm.configuration.delivery import Delivery
from otel_llm.configuration.exporters import (
    Exporters,
    env_int,
    exporter_names,
    millis,
    prometheus,
)
from otel_llm.configuration.exporters import (
    resource as build_resource,
)
from otel_llm.configuration.guard import bounded, own, quietly, rate_limit_export_logs
from otel_llm.configuration.processors import QueuedLogRecordProcessor, QueuedSpanProcessor
from otel_llm.configuration.providers import existing
from otel_llm.configuration.providers import install as install_globals
from otel_llm.configuration.queue import ExportQueue, QueueStats
from otel_llm.errors import ConfigurationError
from otel_llm.telemetry import CaptureMode, OpenTelemetryCallbackHandler
from otel_llm.telemetry.content import capture_mode_from_env, parse_capture_mode
from otel_llm.telemetry.dimensions import DEFAULT_VALUE_CAP, MetricDimensions

__all__ = ["Telemetry", "configure"]

_log = logging.getLogger("otel_llm.configuration")

_DEFAULT_QUEUE_SIZE = 2048
_MAX_QUEUE_SIZE = 1_000_000  # the same bound as OTEL_BSP_MAX_QUEUE_SIZE's check
_DEFAULT_PROMETHEUS_PORT = 9464
# An empty request: a collector that is up answers at once. Shorter than the SDK's first
# retry back-off (0.8-1.2 s), so a probe is one attempt; every 0.5 s, so the first
# delivery after an outage comes within about a second.
_PROBE_TIMEOUT = 0.5
_PROBE_INTERVAL = 0.5


class Telemetry:
    """What ``configure()`` built. Providers it reused from the application are not shut down."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider,
        meter_provider: metrics.MeterProvider,
        logger_provider: _logs.LoggerProvider | None,
        capture_content: CaptureMode,
        owned: list[Any],
        exporters: list[Any],
        prometheus_server: Any = None,
        dimensions: MetricDimensions | None = None,
        queues: list[ExportQueue[Any]] | None = None,
        shutdown_timeout: float = 3.0,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.logger_provider = logger_provider
        self.capture_content = capture_content
        self._owned = owned
        self._exporters = exporters
        self._prometheus_server = prometheus_server
        self._dimensions = dimensions if dimensions is not None else MetricDimensions()
        self._queues = queues or []
        self.shutdown_timeout = shutdown_timeout
        self._handlers: weakref.WeakSet[OpenTelemetryCallbackHandler] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._shut_down = False
        atexit.register(self._at_exit)

    @property
    def prometheus_port(self) -> int | None:
        """The port the Prometheus endpoint listens on (useful with ``prometheus_port=0``)."""
        server = self._prometheus_server
        return int(server.server_port) if server is not None else None

    def handler(self, **kwargs: Any) -> OpenTelemetryCallbackHandler:
        """A callback handler bound to these providers; ``kwargs`` go to its constructor."""
        kwargs.setdefault("tracer_provider", self.tracer_provider)
        kwargs.setdefault("meter_provider", self.meter_provider)
        kwargs.setdefault("logger_provider", self.logger_provider)
        kwargs.setdefault("capture_content", self.capture_content)
        if "metric_attributes" not in kwargs:  # one cap of distinct values for all our handlers
            kwargs["metric_attributes"] = self._dimensions
        handler = OpenTelemetryCallbackHandler(**kwargs)
        self._handlers.add(handler)
        return handler

    def force_flush(self, timeout: float = 5.0) -> bool:
        """Export what is queued; ``False`` if that did not finish within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout

        def flush() -> bool:
            ok = True
            for provider in self._owned:
                left = max(deadline - time.monotonic(), 0.0)
                ok = provider.force_flush(timeout_millis=int(left * 1000)) is not False and ok
            return ok

        return bounded(flush, timeout, "force_flush")

    def export_stats(self) -> dict[str, QueueStats]:
        """Per span/log exporter (e.g. ``"traces (otlp)"``): queued, delivered, dropped, ..."""
        return {queue.what: queue.stats() for queue in self._queues}

    def shutdown(self, timeout: float | None = None) -> bool:
        """End open runs, export what is left, stop the exporters; idempotent, bounded.

        ``timeout`` defaults to ``configure(shutdown_timeout=)`` (3 s). Items that
        could not be delivered by then (a dead collector) are counted in one
        warning and stay in :meth:`export_stats` as ``queued``.
        """
        with self._lock:
            if self._shut_down:
                return True
            self._shut_down = True
        atexit.unregister(self._at_exit)
        for handler in list(self._handlers):
            handler.close()
        if timeout is None:
            timeout = self.shutdown_timeout
        deadline = time.monotonic() + timeout
        for queue in self._queues:  # all send their last batches at once, to one deadline
            queue.stop(timeout)

        def stop() -> bool:
            for provider in self._owned:
                if isinstance(provider, MeterProvider):
                    provider.shutdown(timeout_millis=max(deadline - time.monotonic(), 0) * 1000)
                else:
                    provider.shutdown()
            return True

        done = bounded(stop, timeout, "shutdown")
        if not done:
            # Abort retries and in-flight requests so the export threads end soon too.
            for exporter in self._exporters:
                quietly(exporter.shutdown)
        left = {q.what: (q.stats().queued, q.why_down()) for q in self._queues}
        if any(count for count, _ in left.values()):
            _log.warning(
                "otel-llm: shutdown: items that could not be delivered: %s",
                ", ".join(
                    f"{what}: {count}" + (f" ({why})" if why else "")
                    for what, (count, why) in left.items()
                    if count
                ),
            )
        if self._prometheus_server is not None:
            quietly(self._prometheus_server.shutdown)
            quietly(self._prometheus_server.server_close)
        return done

    def _at_exit(self) -> None:
        self.shutdown()


def configure(
    *,
    service_name: str | None = None,
    service_version: str | None = None,
    environment: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    endpoint: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    traces_exporter: str | None = None,
    metrics_exporter: str | None = None,
    logs_exporter: str | None = None,
    export_timeout: float | None = None,
    metric_export_interval: float | None = None,
    max_queue_size: int | None = None,
    shutdown_timeout: float = 3.0,
    prometheus_port: int | None = None,
    prometheus_host: str = "127.0.0.1",
    capture_content: CaptureMode | str | bool | None = None,
    metric_attributes: Sequence[str] | str | None = None,
    metric_attribute_cap: int = DEFAULT_VALUE_CAP,
    attributes_in_baggage: bool | None = None,
    install: bool = True,
    on_existing_provider: Literal["reuse", "raise"] = "reuse",
) -> Telemetry:
    """Build tracer, meter (and, for content events, logger) providers with exporters.

    Arguments win over environment variables; environment variables win over
    defaults (OTLP over http/protobuf to ``localhost:4318``, the specification's
    default; ``protocol="grpc"`` needs the ``grpc`` extra). ``endpoint`` is a base URL
    for both protocols. ``export_timeout`` and ``metric_export_interval`` are in
    seconds. ``max_queue_size`` bounds the span and log queues (default 2048);
    ``shutdown_timeout`` bounds ``shutdown()`` (default 3 s).
    ``prometheus_port`` adds a pull endpoint on ``prometheus_host`` (needs the
    ``prometheus`` extra). A LoggerProvider is built only when
    ``capture_content`` (or its variable) asks for events.

    ``metric_attributes`` (else ``OTEL_LLM_METRIC_ATTRIBUTES``) lists the
    ``otel_llm.attributes()`` keys copied onto the handlers' metrics, each capped at
    ``metric_attribute_cap`` distinct values. ``attributes_in_baggage=True`` (else
    ``OTEL_LLM_ATTRIBUTES_BAGGAGE``) also sends those values downstream in W3C baggage.

    With ``install=True`` the providers become the global ones, unless the
    application already installed SDK providers: those are reused as they are
    (their exporters untouched, not shut down by the handle), or
    ``on_existing_provider="raise"`` refuses.
    """
    if on_existing_provider not in ("reuse", "raise"):
        raise ConfigurationError("on_existing_provider", f"{on_existing_provider!r}: reuse|raise")
    mode = (
        capture_mode_from_env()
        if capture_content is None
        else parse_capture_mode(capture_content, "capture_content")
    )
    checks.check_environment()
    dimensions = MetricDimensions(metric_attributes, metric_attribute_cap)
    if protocol is not None:
        protocol = checks.check_protocol("protocol", protocol)
    if endpoint is not None:
        checks.check_url("endpoint", endpoint, protocol or checks.protocol_of("traces", None))
    if headers is not None:
        checks.check_headers("headers", headers)
    for setting, text in (
        ("service_name", service_name),
        ("service_version", service_version),
        ("environment", environment),
        ("resource_attributes", resource_attributes),
    ):
        checks.check_text(setting, text)
    checks.check_positive("export_timeout", export_timeout)
    checks.check_positive("metric_export_interval", metric_export_interval, maximum=86_400)
    checks.check_positive("shutdown_timeout", shutdown_timeout)
    if max_queue_size is not None and (
        not isinstance(max_queue_size, int)
        or isinstance(max_queue_size, bool)
        or not 1 <= max_queue_size <= _MAX_QUEUE_SIZE
    ):
        message = f"must be an int from 1 to {_MAX_QUEUE_SIZE:,}, got {max_queue_size!r}"
        raise ConfigurationError("max_queue_size", message)
    if prometheus_port is not None and (
        not isinstance(prometheus_port, int) or not 0 <= prometheus_port <= 65535
    ):
        raise ConfigurationError("prometheus_port", f"must be 0-65535, got {prometheus_port!r}")

    if attributes_in_baggage is not None:
        propagate_in_baggage(attributes_in_baggage)
    names = {
        "traces": exporter_names("traces", traces_exporter, "traces_exporter"),
        "metrics": exporter_names("metrics", metrics_exporter, "metrics_exporter"),
        "logs": exporter_names("logs", logs_exporter, "logs_exporter") if mode.as_event else [],
    }
    if "prometheus" in names["metrics"]:
        names["metrics"].remove("prometheus")
        if prometheus_port is None:
            prometheus_port = int(
                os.environ.get(settings.PROMETHEUS_PORT) or _DEFAULT_PROMETHEUS_PORT
            )
            prometheus_host = os.environ.get(settings.PROMETHEUS_HOST) or prometheus_host
    otlp = Exporters(endpoint, protocol, headers, export_timeout)
    resource = build_resource(service_name, service_version, environment, resource_attributes)
    # The SDK rejects a batch larger than its queue: keep them consistent.
    queue = max_queue_size or env_int("OTEL_BSP_MAX_QUEUE_SIZE", _DEFAULT_QUEUE_SIZE)
    batch = min(queue, env_int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512))
    owned: list[Any] = []
    queues: list[ExportQueue[Any]] = []
    probe_timeout = min(_PROBE_TIMEOUT, export_timeout or _PROBE_TIMEOUT)

    def export_queue(signal: Literal["traces", "logs"], name: str, delay_ms: int) -> Any:
        success = SpanExportResult.SUCCESS if signal == "traces" else LogRecordExportResult.SUCCESS
        probe = otlp.build(signal, name, timeout=probe_timeout) if name == "otlp" else None
        delivery = Delivery(otlp.build(signal, name), success, probe)
        made: ExportQueue[Any] = ExportQueue(
            delivery, f"{signal} ({name})", max_queue_size=queue, max_batch=batch,
            schedule_delay=delay_ms / 1000, shutdown_timeout=shutdown_timeout,
            probe_interval=_PROBE_INTERVAL,
        )
        queues.append(made)
        own(made)
        return made

    tracer_provider = existing("traces", install, on_existing_provider)
    if tracer_provider is None:
        sdk_tracer = TracerProvider(resource=resource, shutdown_on_exit=False)
        for name in names["traces"]:
            delay = env_int("OTEL_BSP_SCHEDULE_DELAY", 5000)
            sdk_tracer.add_span_processor(QueuedSpanProcessor(export_queue("traces", name, delay)))
        owned.append(sdk_tracer)
        tracer_provider = sdk_tracer

    prometheus_server = None
    meter_provider = existing("metrics", install, on_existing_provider)
    if meter_provider is None:
        readers: list[MetricReader] = []
        for name in names["metrics"]:
            exporter = otlp.build("metrics", name)
            if isinstance(exporter, MetricReader):  # a pull exporter registered by name
                readers.append(exporter)
                continue
            periodic = PeriodicExportingMetricReader(
                exporter,
                export_interval_millis=millis(metric_export_interval),
                export_timeout_millis=millis(export_timeout),
            )
            own(periodic)
            readers.append(periodic)
        if prometheus_port is not None:
            reader, prometheus_server = prometheus(prometheus_host, prometheus_port)
            readers.append(reader)
        sdk_meter = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
        owned.append(sdk_meter)
        meter_provider = sdk_meter

    logger_provider: _logs.LoggerProvider | None = None
    if mode.as_event:
        logger_provider = existing("logs", install, on_existing_provider)
        if logger_provider is None:
            sdk_logger = LoggerProvider(resource=resource, shutdown_on_exit=False)
            for name in names["logs"]:
                delay = env_int("OTEL_BLRP_SCHEDULE_DELAY", 1000)
                sdk_logger.add_log_record_processor(
                    QueuedLogRecordProcessor(export_queue("logs", name, delay))
                )
            owned.append(sdk_logger)
            logger_provider = sdk_logger

    if install:
        install_globals(owned)
    own(*owned, *otlp.built)
    rate_limit_export_logs()
    return Telemetry(
        tracer_provider, meter_provider, logger_provider, mode, owned, otlp.built,
        prometheus_server, dimensions, queues, shutdown_timeout,
    )
