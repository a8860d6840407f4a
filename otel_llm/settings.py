"""Environment variables this package reads or passes on, in one place.

The standard ``OTEL_*`` names are the OpenTelemetry SDK's own: the SDK and its
exporters read most of them themselves; ``otel_llm.configuration`` reads them
to choose exporters, and ``otel_llm.configuration.checks`` rejects invalid
values at start-up with a ``ConfigurationError`` naming the variable (the SDK
would log a warning later and fall back to a default, or fail every export, so
a typo would go unnoticed).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ATTRIBUTES_BAGGAGE",
    "CAPTURE_MESSAGE_CONTENT",
    "CHOICES",
    "DEFAULT_PROTOCOL",
    "EXPORTER_NAMES",
    "LOGS_EXPORTER",
    "METRICS_EXPORTER",
    "METRIC_ATTRIBUTES",
    "NUMBERS",
    "OTLP_COMPRESSION",
    "OTLP_COMPRESSIONS",
    "OTLP_ENDPOINT",
    "OTLP_ENDPOINTS",
    "OTLP_FILES",
    "OTLP_HEADER",
    "OTLP_HEADERS",
    "OTLP_INSECURE",
    "OTLP_PROTOCOL",
    "OTLP_PROTOCOLS",
    "PROMETHEUS_HOST",
    "PROMETHEUS_PORT",
    "PROTOCOLS",
    "RESOURCE_ATTRIBUTES",
    "SAMPLERS",
    "SERVICE_NAME",
    "TRACES_EXPORTER",
    "TRACES_SAMPLER",
    "TRACES_SAMPLER_ARG",
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
DEFAULT_PROTOCOL: Final = "http/protobuf"
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

#: Compression of OTLP exports: ``gzip``, ``none`` (and ``deflate``).
OTLP_COMPRESSION: Final = "OTEL_EXPORTER_OTLP_COMPRESSION"
OTLP_COMPRESSIONS: Final = {
    "traces": "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "metrics": "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
    "logs": "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
}
#: ``true``/``false``: plain-text gRPC (``http://`` endpoints are plain text anyway).
OTLP_INSECURE: Final = ("OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_TRACES_INSECURE",
                        "OTEL_EXPORTER_OTLP_METRICS_INSECURE", "OTEL_EXPORTER_OTLP_LOGS_INSECURE")
#: Files the exporters read at start-up (TLS): they must exist.
OTLP_FILES: Final = tuple(
    f"OTEL_EXPORTER_OTLP{signal}_{kind}"
    for signal in ("", "_TRACES", "_METRICS", "_LOGS")
    for kind in ("CERTIFICATE", "CLIENT_KEY", "CLIENT_CERTIFICATE")
)
#: Sampler of the TracerProvider ``configure()`` builds, and its ratio argument.
TRACES_SAMPLER: Final = "OTEL_TRACES_SAMPLER"
TRACES_SAMPLER_ARG: Final = "OTEL_TRACES_SAMPLER_ARG"
SAMPLERS: Final = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)

#: Numeric SDK variables: name -> (integer only, smallest, largest valid value). The SDK
#: would log and fall back to a default (or, for span limits, raise a bare ValueError).
#: OTLP timeouts are seconds in the Python exporters; BSP/BLRP/metric times milliseconds.
NUMBERS: Final = {
    **{
        f"OTEL_EXPORTER_OTLP{signal}_TIMEOUT": (False, 0.001, 3600.0)
        for signal in ("", "_TRACES", "_METRICS", "_LOGS")
    },
    **{
        f"OTEL_{processor}_{name}": (True, low, high)
        for processor in ("BSP", "BLRP")
        for name, low, high in (
            ("SCHEDULE_DELAY", 0, 3_600_000),
            ("EXPORT_TIMEOUT", 0, 3_600_000),
            ("MAX_QUEUE_SIZE", 1, 1_000_000),
            ("MAX_EXPORT_BATCH_SIZE", 1, 1_000_000),
        )
    },
    "OTEL_METRIC_EXPORT_INTERVAL": (False, 1.0, 86_400_000.0),
    PROMETHEUS_PORT: (True, 0, 65535),
    "OTEL_METRIC_EXPORT_TIMEOUT": (False, 0.0, 3_600_000.0),
    **{
        f"OTEL_{name}": (True, 0, 1_000_000)
        for name in (
            "ATTRIBUTE_COUNT_LIMIT",
            "SPAN_ATTRIBUTE_COUNT_LIMIT",
            "SPAN_EVENT_COUNT_LIMIT",
            "SPAN_LINK_COUNT_LIMIT",
            "EVENT_ATTRIBUTE_COUNT_LIMIT",
            "LINK_ATTRIBUTE_COUNT_LIMIT",
            "LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
        )
    },
    **{
        f"OTEL_{name}": (True, 0, 100_000_000)
        for name in (
            "ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        )
    },
}

#: Variables with a fixed set of values (lower case; the SDK lower-cases them too).
CHOICES: Final = {
    TRACES_SAMPLER: SAMPLERS,
    **{name: ("true", "false") for name in (*OTLP_INSECURE, "OTEL_SDK_DISABLED")},
    "OTEL_METRICS_EXEMPLAR_FILTER": ("always_on", "always_off", "trace_based"),
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": ("cumulative", "delta", "lowmemory"),
    "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": (
        "explicit_bucket_histogram",
        "base2_exponential_bucket_histogram",
    ),
}
