"""Exporters and resources selected the way the SDK's auto-configuration does.

``otlp`` picks gRPC or HTTP from ``OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL``,
``http/protobuf`` by default (the OTLP specification's default, and the
exporter the ``otlp`` and ``openai`` extras install; gRPC is the ``grpc`` extra
because grpcio alone is ~19 MB). Any other name is looked up under the SDK's
``opentelemetry_<signal>_exporter`` entry points, so a third-party exporter
works by name. Unknown names, and an OTLP protocol whose exporter is not
installed, are a ``ConfigurationError`` at ``configure()`` time naming what to
install, never a failure at export time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Literal

from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource

from otel_llm import settings
from otel_llm._extras import install_line
from otel_llm.configuration import checks
from otel_llm.errors import ConfigurationError

__all__ = [
    "DEFAULT_PROTOCOL",
    "Exporters",
    "Signal",
    "env_int",
    "exporter_names",
    "millis",
    "prometheus",
    "resource",
]

Signal = Literal["traces", "metrics", "logs"]
#: The OTLP specification's default. (The Python SDK's own default is grpc.)
DEFAULT_PROTOCOL = settings.DEFAULT_PROTOCOL
_ENTRY_POINTS = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}
_EXTRAS = {"grpc": "grpc", "http/protobuf": "otlp"}
_HTTP_PATHS = {"traces": "v1/traces", "metrics": "v1/metrics", "logs": "v1/logs"}


class Exporters:
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

    def build(self, signal: Signal, name: str, timeout: float | None = None) -> Any:
        """``timeout`` (OTLP only) overrides the configured one (the queue's probes)."""
        kwargs: dict[str, Any] = {}
        if name == "otlp":
            setting, protocol = checks.protocol_source(signal, self.protocol)
            name = _ENTRY_POINTS[protocol]
            if not entry_points(group=f"opentelemetry_{signal}_exporter", name=name):
                raise ConfigurationError(
                    setting,
                    f"OTLP over {protocol} needs its exporter, which is not installed: "
                    f"{install_line(_EXTRAS[protocol])}",
                )
            if self.endpoint:
                kwargs["endpoint"] = (
                    self.endpoint
                    if protocol == "grpc"
                    else f"{self.endpoint.rstrip('/')}/{_HTTP_PATHS[signal]}"
                )
            if protocol == "grpc":
                kwargs.update(_grpc_options(signal, self.endpoint))
            if self.headers:
                kwargs["headers"] = self.headers
            if timeout or self.timeout:
                kwargs["timeout"] = timeout or self.timeout
        exporter = _load(signal, name)(**kwargs)
        self.built.append(exporter)
        return exporter


#: gRPC channel options: reconnect soon after the collector is back (see ``_grpc_options``).
_RECONNECT_MS = 250
#: (Not ``grpc.min_reconnect_backoff_ms``: gRPC also takes it as the connect timeout, which
#: must stay long enough for a distant collector's TLS handshake.)
_RECONNECT_OPTIONS = (("grpc.initial_reconnect_backoff_ms", _RECONNECT_MS),
                      ("grpc.max_reconnect_backoff_ms", _RECONNECT_MS))


def _grpc_options(signal: Signal, endpoint: str | None) -> dict[str, Any]:
    """What the gRPC exporter cannot take from the variables itself.

    Its variable parser knows only ``gzip`` (``none`` and ``deflate`` raise), so
    the checked compression is passed as an argument; a ``unix:`` socket is
    local, so plain text (the exporter would otherwise attempt TLS on it).

    The channel reconnects at most ``_RECONNECT_MS`` after a failed attempt: gRPC's
    own backoff (1 s, x1.6 per attempt, up to 120 s) left a collector that was down
    for 10 s unused for up to 2.3 s after it came back (the queue's probes fail fast
    on a channel waiting out its backoff). A refused attempt costs a connect call.
    """
    from grpc import Compression

    options: dict[str, Any] = {"channel_options": _RECONNECT_OPTIONS}
    compression = checks.compression_of(signal, "grpc")
    if compression is not None:
        options["compression"] = {
            "gzip": Compression.Gzip,
            "deflate": Compression.Deflate,
            "none": Compression.NoCompression,
        }[compression]
    target = endpoint or os.environ.get(settings.OTLP_ENDPOINTS[signal], "").strip() or (
        os.environ.get(settings.OTLP_ENDPOINT, "").strip()
    )
    if target.startswith("unix:"):
        options["endpoint"] = target
        options["insecure"] = True
    return options


def exporter_names(signal: Signal, argument: str | None, argument_name: str) -> list[str]:
    """``otlp``, ``console``, ``none`` or any exporter registered under the SDK's entry points."""
    setting = argument_name if argument is not None else settings.EXPORTER_NAMES[signal]
    raw = argument if argument is not None else os.environ.get(setting, "").strip() or "otlp"
    names = checks.check_exporter_names(setting, raw)
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


def prometheus(host: str, port: int) -> tuple[MetricReader, Any]:
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


def resource(
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


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()  # already checked by checks.check_environment()
    return int(raw) if raw else default


def millis(seconds: float | None) -> float | None:
    return seconds * 1000 if seconds is not None else None
