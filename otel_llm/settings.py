"""Environment variables this package reads, in one place, and the checks of their values.

The standard ``OTEL_*`` names are the OpenTelemetry SDK's own: the SDK and its
exporters read most of them themselves; ``otel_llm.configuration`` reads them
only to choose exporters, and ``check_environment()`` rejects invalid values at
start-up with a ``ConfigurationError`` naming the variable (the SDK would log a
warning later and fall back to a default, so a typo would go unnoticed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from otel_llm.errors import ConfigurationError

__all__ = [
    "ATTRIBUTES_BAGGAGE",
    "CAPTURE_MESSAGE_CONTENT",
    "EXPORTER_NAMES",
    "LOGS_EXPORTER",
    "METRICS_EXPORTER",
    "METRIC_ATTRIBUTES",
    "OTLP_ENDPOINT",
    "OTLP_ENDPOINTS",
    "OTLP_HEADER",
    "OTLP_HEADERS",
    "OTLP_PROTOCOL",
    "OTLP_PROTOCOLS",
    "POSITIVE_NUMBERS",
    "PROMETHEUS_HOST",
    "PROMETHEUS_PORT",
    "PROTOCOLS",
    "RESOURCE_ATTRIBUTES",
    "SERVICE_NAME",
    "TRACES_EXPORTER",
    "check_environment",
    "check_headers",
    "check_positive",
    "check_protocol",
    "check_url",
]

# --- this package -------------------------------------------------------------
#: Content capture: ``NO_CONTENT`` (default), ``SPAN_ONLY``, ``EVENT_ONLY``,
#: ``SPAN_AND_EVENT``; ``true``/``false`` are accepted as ``SPAN_ONLY``/``NO_CONTENT``.
#: Same variable as the official GenAI instrumentations, so one switch covers all.
CAPTURE_MESSAGE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
#: Comma-separated attribute keys of ``otel_llm.attributes()`` blocks copied onto the
#: token, duration and cost metrics (``app.feature``); each capped in distinct values.
METRIC_ATTRIBUTES: Final = "OTEL_LLM_METRIC_ATTRIBUTES"
#: ``true``: ``otel_llm.attributes()`` values also go into W3C baggage (sent downstream by
#: OpenTelemetry's HTTP instrumentations) and baggage entries are read as attributes.
ATTRIBUTES_BAGGAGE: Final = "OTEL_LLM_ATTRIBUTES_BAGGAGE"

# --- resource ---------------------------------------------------------------------
#: ``service.name``; wins over ``service.name`` in ``OTEL_RESOURCE_ATTRIBUTES``.
SERVICE_NAME: Final = "OTEL_SERVICE_NAME"
#: ``key=value,key=value`` resource attributes (``deployment.environment.name=prod``).
RESOURCE_ATTRIBUTES: Final = "OTEL_RESOURCE_ATTRIBUTES"

# --- exporter choice: comma-separated ``otlp``, ``console``, ``none`` (or any
# exporter registered under the SDK's ``opentelemetry_<signal>_exporter`` entry points)
TRACES_EXPORTER: Final = "OTEL_TRACES_EXPORTER"
METRICS_EXPORTER: Final = "OTEL_METRICS_EXPORTER"
LOGS_EXPORTER: Final = "OTEL_LOGS_EXPORTER"
EXPORTER_NAMES: Final = {
    "traces": TRACES_EXPORTER,
    "metrics": METRICS_EXPORTER,
    "logs": LOGS_EXPORTER,
}

# --- OTLP: the per-signal variable wins over the general one ------------------------
#: ``http/protobuf`` (the OTLP specification's default, ours) or ``grpc``.
OTLP_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_PROTOCOL"
PROTOCOLS: Final = ("grpc", "http/protobuf")
OTLP_PROTOCOLS: Final = {
    "traces": "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "metrics": "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "logs": "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
}
#: Base URL (``http://collector:4317``); per-signal ones are full URLs for HTTP.
OTLP_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTLP_ENDPOINTS: Final = {
    "traces": "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "metrics": "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "logs": "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
}
#: ``key=value,key=value``, values URL-encoded (``authorization=Bearer%20x``).
OTLP_HEADER: Final = "OTEL_EXPORTER_OTLP_HEADERS"
OTLP_HEADERS: Final = {
    "traces": "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "metrics": "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "logs": "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
}
#: Prometheus pull endpoint when ``OTEL_METRICS_EXPORTER`` names ``prometheus``.
PROMETHEUS_HOST: Final = "OTEL_EXPORTER_PROMETHEUS_HOST"
PROMETHEUS_PORT: Final = "OTEL_EXPORTER_PROMETHEUS_PORT"

#: Numeric SDK variables checked at start-up (name -> smallest valid value).
#: The SDK would log and fall back to a default; a typo then goes unnoticed.
POSITIVE_NUMBERS: Final = {
    "OTEL_EXPORTER_OTLP_TIMEOUT": 0.001,
    "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": 0.001,
    "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT": 0.001,
    "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": 0.001,
    "OTEL_BSP_SCHEDULE_DELAY": 0.0,
    "OTEL_BSP_EXPORT_TIMEOUT": 0.0,
    "OTEL_BSP_MAX_QUEUE_SIZE": 1.0,
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": 1.0,
    "OTEL_BLRP_SCHEDULE_DELAY": 0.0,
    "OTEL_BLRP_MAX_QUEUE_SIZE": 1.0,
    "OTEL_METRIC_EXPORT_INTERVAL": 1.0,
    "OTEL_METRIC_EXPORT_TIMEOUT": 0.0,
}

_HEADER_KEY = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_environment() -> None:
    """Reject invalid values of the variables above, naming the first bad one."""
    env = os.environ
    for name in (OTLP_ENDPOINT, *OTLP_ENDPOINTS.values()):
        if env.get(name, "").strip():
            check_url(name, env[name])
    for name in (OTLP_HEADER, *OTLP_HEADERS.values()):
        if env.get(name, "").strip():
            check_headers(name, env[name])
    for name in (OTLP_PROTOCOL, *OTLP_PROTOCOLS.values()):
        if env.get(name, "").strip():
            check_protocol(name, env[name])
    for name, minimum in POSITIVE_NUMBERS.items():
        if env.get(name, "").strip():
            _check_number(name, env[name], minimum)


def check_url(setting: str, value: str) -> None:
    """An http(s) URL with a host (the OTLP exporters accept nothing else reliably)."""
    try:
        parts = urlsplit(value.strip())
        _ = parts.port  # raises on a bad port
    except ValueError as exc:
        raise ConfigurationError(setting, f"{value!r} is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            setting, f"{value!r} is not an http(s) URL with a host, e.g. http://localhost:4317"
        )


def check_headers(setting: str, headers: Mapping[str, str] | str) -> None:
    """A mapping, or the variables' ``key=value,key=value`` form (values URL-encoded)."""
    if isinstance(headers, str):
        pairs = []
        for item in headers.split(","):
            if item.strip():
                key, sep, value = item.partition("=")
                if not sep:
                    raise ConfigurationError(setting, f"{item.strip()!r} is not key=value")
                pairs.append((key.strip(), value))
    elif isinstance(headers, Mapping):
        pairs = list(headers.items())
    else:
        raise ConfigurationError(setting, "must be a mapping of header name to value")
    for key, value in pairs:
        if not isinstance(key, str) or not _HEADER_KEY.fullmatch(key):
            raise ConfigurationError(setting, f"{key!r} is not a valid header name")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise ConfigurationError(setting, f"the value of {key!r} must be a one-line string")


def check_protocol(setting: str, value: str) -> str:
    """The normalised protocol name."""
    protocol = value.strip().lower()
    if protocol not in PROTOCOLS:
        raise ConfigurationError(
            setting, f"{value!r} is not a supported OTLP protocol ({', '.join(PROTOCOLS)})"
        )
    return protocol


def check_positive(setting: str, value: float | None) -> None:
    """``None`` (not set) or a number of seconds > 0."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(setting, f"must be a number of seconds > 0, got {value!r}")


def _check_number(setting: str, raw: str, minimum: float) -> None:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(setting, f"{raw!r} is not a number") from None
    if not value >= minimum:
        raise ConfigurationError(setting, f"must be >= {minimum:g}, got {raw!r}")
