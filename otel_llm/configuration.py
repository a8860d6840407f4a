"""``configure()``: the one place that builds OpenTelemetry SDK pipelines.

It reads the standard ``OTEL_*`` variables the way the SDK does (the SDK's
exporters, processors and ``Resource.create`` read most of them themselves),
rejects invalid values up front with a ``ConfigurationError`` naming the
setting, and returns a ``Telemetry`` handle whose ``force_flush()`` and
``shutdown()`` are bounded by timeouts and registered with ``atexit``.

Exporting never blocks or raises into the application: spans and log records
go through bounded batch queues, metrics through a periodic reader, each on its
own thread. While a collector keeps failing, span and log batches are dropped
without being encoded (encoding costs more CPU than creating the span, and
competes with the application for the GIL), and the SDK's repeated
export-failure messages are rate-limited to one per kind per minute.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any, Literal

from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from otel_llm import settings
from otel_llm.errors import ConfigurationError
from otel_llm.telemetry import CaptureMode, OpenTelemetryCallbackHandler
from otel_llm.telemetry.content import capture_mode_from_env, parse_capture_mode

__all__ = ["Telemetry", "configure"]

_log = logging.getLogger("otel_llm.configuration")

Signal = Literal["traces", "metrics", "logs"]
_ENTRY_POINTS = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}
_HTTP_PATHS = {"traces": "v1/traces", "metrics": "v1/metrics", "logs": "v1/logs"}
_DEFAULT_QUEUE_SIZE = 2048
_DEFAULT_PROMETHEUS_PORT = 9464


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
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.logger_provider = logger_provider
        self.capture_content = capture_content
        self._owned = owned
        self._exporters = exporters
        self._prometheus_server = prometheus_server
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

        return _bounded(flush, timeout, "force_flush")

    def shutdown(self, timeout: float = 5.0) -> bool:
        """End open runs, export what is left, stop the exporters; idempotent, bounded."""
        with self._lock:
            if self._shut_down:
                return True
            self._shut_down = True
        atexit.unregister(self._at_exit)
        for handler in list(self._handlers):
            handler.close()
        deadline = time.monotonic() + timeout

        def stop() -> bool:
            for provider in self._owned:
                if isinstance(provider, MeterProvider):
                    provider.shutdown(timeout_millis=max(deadline - time.monotonic(), 0) * 1000)
                else:
                    provider.shutdown()
            return True

        done = _bounded(stop, timeout, "shutdown")
        if not done:
            # Abort retries and in-flight requests so the export threads end soon too.
            for exporter in self._exporters:
                _quietly(exporter.shutdown)
        if self._prometheus_server is not None:
            _quietly(self._prometheus_server.shutdown)
            _quietly(self._prometheus_server.server_close)
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
    prometheus_port: int | None = None,
    prometheus_host: str = "127.0.0.1",
    capture_content: CaptureMode | str | bool | None = None,
    install: bool = True,
    on_existing_provider: Literal["reuse", "raise"] = "reuse",
) -> Telemetry:
    """Build tracer, meter (and, for content events, logger) providers with exporters.

    Arguments win over environment variables; environment variables win over
    defaults (OTLP over gRPC to ``localhost:4317``). ``endpoint`` is a base URL
    for both protocols. ``export_timeout`` and ``metric_export_interval`` are in
    seconds. ``max_queue_size`` bounds the span and log queues (default 2048).
    ``prometheus_port`` adds a pull endpoint on ``prometheus_host`` (needs the
    ``prometheus`` extra). A LoggerProvider is built only when
    ``capture_content`` (or its variable) asks for events.

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
    settings.check_environment()
    if endpoint is not None:
        settings.check_url("endpoint", endpoint)
    if protocol is not None:
        protocol = settings.check_protocol("protocol", protocol)
    if headers is not None:
        settings.check_headers("headers", headers)
    settings.check_positive("export_timeout", export_timeout)
    settings.check_positive("metric_export_interval", metric_export_interval)
    if max_queue_size is not None and (not isinstance(max_queue_size, int) or max_queue_size < 1):
        raise ConfigurationError("max_queue_size", f"must be an int >= 1, got {max_queue_size!r}")
    if prometheus_port is not None and (
        not isinstance(prometheus_port, int) or not 0 <= prometheus_port <= 65535
    ):
        raise ConfigurationError("prometheus_port", f"must be 0-65535, got {prometheus_port!r}")

    names = {
        "traces": _exporter_names("traces", traces_exporter, "traces_exporter"),
        "metrics": _exporter_names("metrics", metrics_exporter, "metrics_exporter"),
        "logs": _exporter_names("logs", logs_exporter, "logs_exporter") if mode.as_event else [],
    }
    if "prometheus" in names["metrics"]:
        names["metrics"].remove("prometheus")
        if prometheus_port is None:
            prometheus_port = int(
                os.environ.get(settings.PROMETHEUS_PORT) or _DEFAULT_PROMETHEUS_PORT
            )
            prometheus_host = os.environ.get(settings.PROMETHEUS_HOST) or prometheus_host
    otlp = _Exporters(endpoint, protocol, headers, export_timeout)
    resource = _resource(service_name, service_version, environment, resource_attributes)
    # The SDK rejects a batch larger than its queue: keep them consistent.
    queue = max_queue_size or _env_int("OTEL_BSP_MAX_QUEUE_SIZE", _DEFAULT_QUEUE_SIZE)
    batch = min(queue, _env_int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512))
    owned: list[Any] = []

    tracer_provider = _existing("traces", install, on_existing_provider)
    if tracer_provider is None:
        sdk_tracer = TracerProvider(resource=resource, shutdown_on_exit=False)
        for name in names["traces"]:
            span_exporter = _SpanBreaker(otlp.build("traces", name), name)
            sdk_tracer.add_span_processor(
                BatchSpanProcessor(span_exporter, max_queue_size=queue, max_export_batch_size=batch)
            )
        owned.append(sdk_tracer)
        tracer_provider = sdk_tracer

    prometheus_server = None
    meter_provider = _existing("metrics", install, on_existing_provider)
    if meter_provider is None:
        readers: list[MetricReader] = []
        for name in names["metrics"]:
            exporter = otlp.build("metrics", name)
            if isinstance(exporter, MetricReader):  # a pull exporter registered by name
                readers.append(exporter)
                continue
            readers.append(
                PeriodicExportingMetricReader(
                    exporter,
                    export_interval_millis=_millis(metric_export_interval),
                    export_timeout_millis=_millis(export_timeout),
                )
            )
        if prometheus_port is not None:
            reader, prometheus_server = _prometheus(prometheus_host, prometheus_port)
            readers.append(reader)
        sdk_meter = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=False)
        owned.append(sdk_meter)
        meter_provider = sdk_meter

    logger_provider: _logs.LoggerProvider | None = None
    if mode.as_event:
        logger_provider = _existing("logs", install, on_existing_provider)
        if logger_provider is None:
            sdk_logger = LoggerProvider(resource=resource, shutdown_on_exit=False)
            for name in names["logs"]:
                log_exporter = _LogBreaker(otlp.build("logs", name), name)
                sdk_logger.add_log_record_processor(
                    BatchLogRecordProcessor(
                        log_exporter, max_queue_size=queue, max_export_batch_size=batch
                    )
                )
            owned.append(sdk_logger)
            logger_provider = sdk_logger

    if install:
        _install(owned)
    _rate_limit_export_logs()
    return Telemetry(
        tracer_provider, meter_provider, logger_provider, mode, owned, otlp.built, prometheus_server
    )


class _Exporters:
    """Builds exporters by name; OTLP settings left ``None`` are read from env by the exporter."""

    def __init__(
        self,
        endpoint: str | None,
        protocol: str | None,
        headers: Mapping[str, str] | None,
        timeout: float | None,
    ) -> None:
        self.endpoint = endpoint
        self.protocol = protocol
        self.headers = dict(headers) if headers else None
        self.timeout = timeout
        self.built: list[Any] = []

    def build(self, signal: Signal, name: str) -> Any:
        kwargs: dict[str, Any] = {}
        if name == "otlp":
            protocol = self.protocol or _env_protocol(signal)
            name = _ENTRY_POINTS[protocol]
            if self.endpoint:
                kwargs["endpoint"] = (
                    self.endpoint
                    if protocol == "grpc"
                    else f"{self.endpoint.rstrip('/')}/{_HTTP_PATHS[signal]}"
                )
            if self.headers:
                kwargs["headers"] = self.headers
            if self.timeout:
                kwargs["timeout"] = self.timeout
        exporter = _load(signal, name)(**kwargs)
        self.built.append(exporter)
        return exporter


def _env_protocol(signal: Signal) -> str:
    for name in (settings.OTLP_PROTOCOLS[signal], settings.OTLP_PROTOCOL):
        value = os.environ.get(name, "")
        if value.strip():
            return settings.check_protocol(name, value)
    return "grpc"  # the Python SDK's default for "otlp"


def _exporter_names(signal: Signal, argument: str | None, argument_name: str) -> list[str]:
    """``otlp``, ``console``, ``none`` or any exporter registered under the SDK's entry points."""
    setting = argument_name if argument is not None else settings.EXPORTER_NAMES[signal]
    raw = argument if argument is not None else os.environ.get(setting, "otlp")
    names = [n.strip().lower() for n in raw.split(",") if n.strip()]
    if not names or "none" in names:
        return []
    for name in names:
        if name == "otlp" or (signal == "metrics" and name == "prometheus"):
            continue
        if not entry_points(group=f"opentelemetry_{signal}_exporter", name=name):
            raise ConfigurationError(setting, f"unknown {signal} exporter {name!r}")
    return names


def _load(signal: Signal, name: str) -> Callable[..., Any]:
    found = entry_points(group=f"opentelemetry_{signal}_exporter", name=name)
    if not found:
        raise ConfigurationError(f"{signal}_exporter", f"exporter {name!r} is not installed")
    loaded: Callable[..., Any] = next(iter(found)).load()
    return loaded


def _prometheus(host: str, port: int) -> tuple[MetricReader, Any]:
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry, start_http_server
    except ImportError as exc:
        raise ConfigurationError(
            "prometheus_port", "needs the prometheus extra: pip install 'otel-llm[prometheus]'"
        ) from exc
    registry = CollectorRegistry(auto_describe=True)
    reader = PrometheusMetricReader(registry=registry)
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigurationError(
            "prometheus_port", f"cannot listen on {host}:{port}: {exc}"
        ) from exc
    return reader, server


def _resource(
    service_name: str | None,
    service_version: str | None,
    environment: str | None,
    extra: Mapping[str, Any] | None,
) -> Resource:
    """Arguments over ``OTEL_SERVICE_NAME`` over ``OTEL_RESOURCE_ATTRIBUTES`` (SDK merge order)."""
    attributes: dict[str, Any] = dict(extra or {})
    for key, value in (
        ("service.name", service_name),
        ("service.version", service_version),
        ("deployment.environment.name", environment),
    ):
        if value is not None:
            attributes[key] = value
    return Resource.create(attributes)


def _existing(signal: Signal, install: bool, policy: Literal["reuse", "raise"]) -> Any:
    """The application's own SDK provider for ``signal``, if it installed one."""
    if not install:
        return None
    current: Any
    sdk_type: type
    if signal == "traces":
        current, sdk_type = trace.get_tracer_provider(), TracerProvider
    elif signal == "metrics":
        current, sdk_type = metrics.get_meter_provider(), MeterProvider
    else:
        current, sdk_type = _logs.get_logger_provider(), LoggerProvider
    if not isinstance(current, sdk_type):
        return None
    if policy == "raise":
        raise ConfigurationError(
            "on_existing_provider",
            f"the application already installed a {type(current).__name__} for {signal}",
        )
    _log.info(
        "otel-llm: reusing the application's %s for %s; its exporters stay as they are",
        type(current).__name__,
        signal,
    )
    return current


def _install(owned: list[Any]) -> None:
    setters: list[tuple[type, Callable[[Any], None], Callable[[], Any]]] = [
        (TracerProvider, trace.set_tracer_provider, trace.get_tracer_provider),
        (MeterProvider, metrics.set_meter_provider, metrics.get_meter_provider),
        (LoggerProvider, _logs.set_logger_provider, _logs.get_logger_provider),
    ]
    for provider in owned:
        for kind, setter, getter in setters:
            if isinstance(provider, kind):
                setter(provider)
                if getter() is not provider:
                    _log.warning(
                        "otel-llm: a global %s was already set and cannot be replaced; use "
                        "Telemetry.handler() to get a handler bound to otel-llm's providers",
                        kind.__name__,
                    )


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()  # already checked by settings.check_environment()
    return int(float(raw)) if raw else default


def _millis(seconds: float | None) -> float | None:
    return seconds * 1000 if seconds is not None else None


# --- export in the background: breakers, bounded waits, quiet logs --------------------------


class _Breaker:
    """Stops paying for exports while the collector keeps failing.

    After a failed export, batches are dropped without being encoded for a
    back-off period (1 s, doubling up to 60 s); then a probe of a few items is
    sent, and the rest of that batch only if the probe got through. The first
    failure and the recovery are logged once each, with the number dropped.
    Only the processor's worker thread calls ``export`` (under its lock).
    """

    PROBE = 8
    MAX_BACKOFF = 60.0

    def __init__(self, exporter: Any, what: str) -> None:
        self._exporter = exporter
        self._what = what
        self._failures = 0
        self._dropped = 0
        self._closed_until = 0.0

    def _export(self, batch: Sequence[Any]) -> bool:
        if time.monotonic() < self._closed_until:
            self._dropped += len(batch)
            return False
        if self._failures:
            head, tail = list(batch[: self.PROBE]), list(batch[self.PROBE :])
            sent = self._send(head) and (not tail or self._send(tail))
        else:
            sent = self._send(batch)
        if sent:
            if self._failures:
                _log.warning(
                    "otel-llm: %s export works again; %d items were dropped meanwhile",
                    self._what,
                    self._dropped,
                )
                self._failures = self._dropped = 0
            return True
        self._failures += 1
        self._dropped += len(batch)
        backoff = min(2.0 ** (self._failures - 1), self.MAX_BACKOFF)
        self._closed_until = time.monotonic() + backoff
        if self._failures == 1:
            _log.warning(
                "otel-llm: %s export failed; dropping batches unsent, retrying after 1 s "
                "and then up to every %g s until it works (the application is not affected)",
                self._what,
                self.MAX_BACKOFF,
            )
        return False

    def _send(self, batch: Sequence[Any]) -> bool:
        try:
            return bool(self._exporter.export(batch) == self._success)
        except Exception:
            _log.debug("otel-llm: %s exporter raised", self._what, exc_info=True)
            return False

    _success: Any = None

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return bool(self._exporter.force_flush(timeout_millis))


class _SpanBreaker(_Breaker, SpanExporter):
    _success = SpanExportResult.SUCCESS

    def __init__(self, exporter: SpanExporter, name: str) -> None:
        super().__init__(exporter, f"traces ({name})")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS if self._export(spans) else SpanExportResult.FAILURE


class _LogBreaker(_Breaker, LogRecordExporter):
    _success = LogRecordExportResult.SUCCESS

    def __init__(self, exporter: LogRecordExporter, name: str) -> None:
        super().__init__(exporter, f"logs ({name})")

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return (
            LogRecordExportResult.SUCCESS if self._export(batch) else LogRecordExportResult.FAILURE
        )


def _bounded(fn: Callable[[], bool], timeout: float, what: str) -> bool:
    """Run ``fn`` on a daemon thread; give up waiting after ``timeout`` seconds."""
    result: list[bool] = []

    def target() -> None:
        try:
            result.append(fn())
        except Exception:
            _log.warning("otel-llm: %s failed", what, exc_info=True)
            result.append(False)

    thread = threading.Thread(target=target, name=f"otel-llm-{what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        _log.warning("otel-llm: %s did not finish within %.1f s; not waiting longer", what, timeout)
        return False
    return bool(result and result[0])


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:
        _log.debug("otel-llm: ignored error while stopping %r", fn, exc_info=True)


class _OncePerInterval(logging.Filter):
    """Lets the first record of each message template through per interval, counts the rest.

    The SDK logs one line per failed batch (and one per dropped span when its
    queue is full): with a collector down that is a line every few seconds,
    forever. One per minute, with a count, says the same.
    """

    def __init__(self, interval: float) -> None:
        super().__init__()
        self.interval = interval
        self._seen: dict[tuple[str, Any], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget what was seen (tests)."""
        with self._lock:
            self._seen.clear()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        now = time.monotonic()
        with self._lock:
            last, suppressed = self._seen.get(key, (None, 0))
            if last is not None and now - last < self.interval:
                self._seen[key] = (last, suppressed + 1)
                return False
            self._seen[key] = (now, 0)
        if suppressed:
            record.msg = (
                f"{record.getMessage()} [{suppressed} similar messages suppressed "
                f"in the last {self.interval:g} s]"
            )
            record.args = None
        return True


_EXPORT_LOG_FILTER = _OncePerInterval(60.0)
_EXPORT_LOGGER_PREFIXES = ("opentelemetry.exporter", "opentelemetry.sdk")


def _rate_limit_export_logs() -> None:
    """Attach the filter to the SDK's export-path loggers (records do not inherit filters)."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (
            isinstance(logger, logging.Logger)
            and name.startswith(_EXPORT_LOGGER_PREFIXES)
            and _EXPORT_LOG_FILTER not in logger.filters
        ):
            logger.addFilter(_EXPORT_LOG_FILTER)
