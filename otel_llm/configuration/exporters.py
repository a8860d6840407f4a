"""Exporters and resources selected the way the SDK's auto-configuration does.

``otlp`` picks gRPC or HTTP from ``OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL``; any
other name is looked up under the SDK's ``opentelemetry_<signal>_exporter``
entry points, so a third-party exporter works by name. Unknown names are a
``ConfigurationError`` at ``configure()`` time, never a failure at export time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Literal

from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource

from otel_llm import settings
from otel_llm.errors import ConfigurationError

__all__ = ["Exporters", "Signal", "env_int", "exporter_names", "millis", "prometheus", "resource"]

Signal = Literal["traces", "metrics", "logs"]
_ENTRY_POINTS = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}
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
            if timeout or self.timeout:
                kwargs["timeout"] = timeout or self.timeout
        exporter = _load(signal, name)(**kwargs)
        self.built.append(exporter)
        return exporter


def _env_protocol(signal: Signal) -> str:
    for name in (settings.OTLP_PROTOCOLS[signal], settings.OTLP_PROTOCOL):
        value = os.environ.get(name, "")
        if value.strip():
            return settings.check_protocol(name, value)
    return "grpc"  # the Python SDK's default for "otlp"


def exporter_names(signal: Signal, argument: str | None, argument_name: str) -> list[str]:
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
    raw = os.environ.get(name, "").strip()  # already checked by settings.check_environment()
    return int(float(raw)) if raw else default


def millis(seconds: float | None) -> float | None:
    return seconds * 1000 if seconds is not None else None
