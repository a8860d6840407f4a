"""Checks: bad OTEL_* variables and arguments fail at configure(), naming them; good ones export."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from otel_llm.configuration import configure
from otel_llm.errors import ConfigurationError
from otel_llm.testing.collector import GrpcCollector, HttpCollector

from .support import llm_run


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
        # issue #19
        ({"endpoint": "http://user:s3cr3t@collector:4317"}, "endpoint"),
        ({"endpoint": "unix:///tmp/otel.sock", "protocol": "http/protobuf"}, "endpoint"),
        ({"endpoint": "unix://"}, "endpoint"),
        ({"export_timeout": float("inf")}, "export_timeout"),
        ({"export_timeout": float("nan")}, "export_timeout"),
        ({"export_timeout": 7200}, "export_timeout"),
        ({"metric_export_interval": float("inf")}, "metric_export_interval"),
        ({"max_queue_size": 10**12}, "max_queue_size"),
        ({"max_queue_size": 2.5}, "max_queue_size"),
        ({"max_queue_size": True}, "max_queue_size"),
        ({"headers": {"x-key": "caf\u00e9"}}, "headers"),
        ({"headers": {"x-key": "a\x00b"}}, "headers"),
        ({"traces_exporter": "none,otlp"}, "traces_exporter"),
        ({"traces_exporter": " , "}, "traces_exporter"),
        ({"metrics_exporter": "otlp,otlp"}, "metrics_exporter"),
        ({"service_name": "chat\udcffbot"}, "service_name"),
        ({"resource_attributes": {"team": "m\udcffl"}}, "resource_attributes"),
    ],
)
def test_invalid_arguments_name_the_setting(kwargs: dict[str, Any], setting: str) -> None:
    """Each invalid argument raises ConfigurationError naming that argument."""
    with pytest.raises(ConfigurationError) as info:
        configure(install=False, **kwargs)
    assert info.value.setting == setting


#: (variables set, the variable the error must name): the cases rejected before #19 first.
INVALID_ENVIRONMENTS: list[tuple[dict[str, str], str]] = [
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
    ({"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"),
    ({"OTEL_EXPORTER_OTLP_HEADERS": "novalue"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "a=1,b c=2"}, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
    ({"OTEL_METRIC_EXPORT_INTERVAL": "-5"}, "OTEL_METRIC_EXPORT_INTERVAL"),
    ({"OTEL_BSP_SCHEDULE_DELAY": "soon"}, "OTEL_BSP_SCHEDULE_DELAY"),
    ({"OTEL_EXPORTER_OTLP_TIMEOUT": "0"}, "OTEL_EXPORTER_OTLP_TIMEOUT"),
    ({"OTEL_TRACES_EXPORTER": "zipkin-v9"}, "OTEL_TRACES_EXPORTER"),
    # issue #19: compression
    ({"OTEL_EXPORTER_OTLP_COMPRESSION": "brotli"}, "OTEL_EXPORTER_OTLP_COMPRESSION"),
    ({"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "zstd"}, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_COMPRESSION": "lz4"},
     "OTEL_EXPORTER_OTLP_COMPRESSION"),
    # headers, checked after URL-decoding
    ({"OTEL_EXPORTER_OTLP_HEADERS": "x=a%0Ab"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_HEADERS": "x=a%0D%0Ab"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_HEADERS": "x=a%00b"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_HEADERS": "x%0Ay=b"}, "OTEL_EXPORTER_OTLP_HEADERS"),
    ({"OTEL_EXPORTER_OTLP_METRICS_HEADERS": "x=caf%C3%A9"}, "OTEL_EXPORTER_OTLP_METRICS_HEADERS"),
    # samplers and their argument
    ({"OTEL_TRACES_SAMPLER": "bogus"}, "OTEL_TRACES_SAMPLER"),
    ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "abc"},
     "OTEL_TRACES_SAMPLER_ARG"),
    ({"OTEL_TRACES_SAMPLER_ARG": "abc"}, "OTEL_TRACES_SAMPLER_ARG"),
    ({"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"},
     "OTEL_TRACES_SAMPLER_ARG"),
    ({"OTEL_TRACES_SAMPLER_ARG": "nan"}, "OTEL_TRACES_SAMPLER_ARG"),
    # integers with sane bounds
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "1e12"}, "OTEL_BSP_MAX_QUEUE_SIZE"),
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "2.5"}, "OTEL_BSP_MAX_QUEUE_SIZE"),
    ({"OTEL_BSP_MAX_QUEUE_SIZE": "10000000"}, "OTEL_BSP_MAX_QUEUE_SIZE"),
    ({"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "0"}, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
    ({"OTEL_BLRP_EXPORT_TIMEOUT": "-1"}, "OTEL_BLRP_EXPORT_TIMEOUT"),
    ({"OTEL_BLRP_MAX_QUEUE_SIZE": "0x10"}, "OTEL_BLRP_MAX_QUEUE_SIZE"),
    ({"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "abc"}, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"),
    ({"OTEL_SPAN_EVENT_COUNT_LIMIT": "-1"}, "OTEL_SPAN_EVENT_COUNT_LIMIT"),
    ({"OTEL_EXPORTER_PROMETHEUS_PORT": "http"}, "OTEL_EXPORTER_PROMETHEUS_PORT"),
    # numbers: finite, with upper bounds
    ({"OTEL_EXPORTER_OTLP_TIMEOUT": "inf"}, "OTEL_EXPORTER_OTLP_TIMEOUT"),
    ({"OTEL_EXPORTER_OTLP_TIMEOUT": "nan"}, "OTEL_EXPORTER_OTLP_TIMEOUT"),
    ({"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "100000"}, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"),
    ({"OTEL_METRIC_EXPORT_INTERVAL": "inf"}, "OTEL_METRIC_EXPORT_INTERVAL"),
    # exporter lists
    ({"OTEL_TRACES_EXPORTER": "none,otlp"}, "OTEL_TRACES_EXPORTER"),
    ({"OTEL_TRACES_EXPORTER": " , "}, "OTEL_TRACES_EXPORTER"),
    ({"OTEL_METRICS_EXPORTER": "otlp,,console"}, "OTEL_METRICS_EXPORTER"),
    ({"OTEL_TRACES_EXPORTER": "otlp,OTLP"}, "OTEL_TRACES_EXPORTER"),
    # endpoints: credentials, unix sockets only for gRPC
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://user:s3cr3t@collector:4317"},
     "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://t0ken@collector/v1/traces"},
     "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
      "OTEL_EXPORTER_OTLP_ENDPOINT": "unix:///tmp/otel.sock"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    # choices, files, resource, encoding
    ({"OTEL_EXPORTER_OTLP_INSECURE": "yes"}, "OTEL_EXPORTER_OTLP_INSECURE"),
    ({"OTEL_SDK_DISABLED": "maybe"}, "OTEL_SDK_DISABLED"),
    ({"OTEL_METRICS_EXEMPLAR_FILTER": "sometimes"}, "OTEL_METRICS_EXEMPLAR_FILTER"),
    ({"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE": "weekly"},
     "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"),
    ({"OTEL_EXPORTER_OTLP_CERTIFICATE": "/nonexistent/ca.pem"}, "OTEL_EXPORTER_OTLP_CERTIFICATE"),
    ({"OTEL_RESOURCE_ATTRIBUTES": "team=ml,novalue"}, "OTEL_RESOURCE_ATTRIBUTES"),
    ({"OTEL_SERVICE_NAME": "chat\udcffbot"}, "OTEL_SERVICE_NAME"),
]


@pytest.mark.parametrize(("variables", "setting"), INVALID_ENVIRONMENTS)
def test_invalid_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    variables: dict[str, str],
    setting: str,
) -> None:
    """Invalid standard variables fail at start-up, naming the variable (not a later warning,
    a fallback to a default or a raw SDK exception); credentials never reach the message or logs."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError) as info:
        configure(install=False)
    assert info.value.setting == setting
    for secret in ("s3cr3t", "t0ken"):
        assert secret not in str(info.value) and secret not in caplog.text


@pytest.mark.parametrize(
    "variables",
    [
        {"OTEL_EXPORTER_OTLP_COMPRESSION": "none"},
        {"OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP"},
        {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "deflate"},
        {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_COMPRESSION": "none"},
        {"OTEL_TRACES_SAMPLER": "ParentBased_TraceIdRatio", "OTEL_TRACES_SAMPLER_ARG": "1"},
        {"OTEL_BSP_MAX_QUEUE_SIZE": "4096", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "+256"},
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "2.5", "OTEL_TRACES_EXPORTER": " otlp "},
        {"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Basic%20dXNlcjpwYXNz,x-tenant=acme"},
    ],
)
def test_valid_environments_export_for_real(
    monkeypatch: pytest.MonkeyPatch, make: Any, variables: dict[str, str]
) -> None:
    """Accepted values work end to end: spans reach a real receiver (gRPC compression 'none'
    and 'deflate' used to raise inside the SDK's exporter)."""
    http = variables.get("OTEL_EXPORTER_OTLP_PROTOCOL") == "http/protobuf"
    with HttpCollector() if http else GrpcCollector() as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf" if http else "grpc")
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        handle = make(metrics_exporter="none")
        llm_run(handle.handler())
        assert handle.force_flush(timeout=10)
        assert len(collector.received.spans()) == 1
