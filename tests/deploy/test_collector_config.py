"""Structural checks of deploy/otel-collector.yaml (no collector binary is installable here).

On a machine with Docker the full check is
``docker run --rm -v "$PWD/deploy/otel-collector.yaml:/cfg.yaml:ro"
otel/opentelemetry-collector-contrib:0.159.0 validate --config=/cfg.yaml``.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import pytest
import yaml
from deploy_support import COLLECTOR_CONFIG, COMPOSE_FILE, load_yaml

#: Component types of otelcol-contrib 0.159 this repository may use (small, explicit allowlist).
KNOWN_TYPES = {
    "receivers": {"otlp", "prometheus", "hostmetrics", "filelog", "jaeger", "zipkin"},
    "processors": {
        "memory_limiter",
        "batch",
        "tail_sampling",
        "resource",
        "resourcedetection",
        "attributes",
        "filter",
        "transform",
        "k8sattributes",
        "probabilistic_sampler",
        "groupbytrace",
    },
    "exporters": {
        "otlp_grpc",
        "otlp_http",
        "loadbalancing",
        "prometheus",
        "prometheusremotewrite",
        "debug",
        "file",
    },
    "extensions": {"health_check", "pprof", "zpages", "file_storage"},
    "connectors": {"spanmetrics", "forward", "routing"},
}
#: Names renamed in v0.144 (they only warn today and will be removed).
DEPRECATED_TYPES = {"exporters": {"otlp": "otlp_grpc", "otlphttp": "otlp_http"}}

CONFIG = load_yaml(COLLECTOR_CONFIG)
COMPOSE_SERVICES = set(load_yaml(COMPOSE_FILE)["services"])


def _gateway_example_documents() -> list[dict[str, Any]]:
    """The commented-out gateway example, uncommented and parsed (agent tier, gateway tier)."""
    text = COLLECTOR_CONFIG.read_text(encoding="utf-8")
    block = re.search(r"^# BEGIN gateway example\n(.*?)^# END gateway example$", text, re.M | re.S)
    assert block, "gateway example markers missing"
    lines = []
    for line in block.group(1).splitlines():
        assert line.startswith("#"), f"uncommented line inside the example: {line!r}"
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return [doc for doc in yaml.safe_load_all("\n".join(lines)) if doc]


CONFIGS = {"deploy": CONFIG}
CONFIGS.update({f"gateway-example-{i}": doc for i, doc in enumerate(_gateway_example_documents())})


def _type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _check_pipelines(config: dict[str, Any]) -> None:
    service = config["service"]
    for ext in service.get("extensions", []):
        assert ext in config.get("extensions", {}), f"extension {ext} not defined"
    assert service["pipelines"], "no pipelines"
    for name, pipeline in service["pipelines"].items():
        assert _type(name) in {"traces", "metrics", "logs"}, name
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                defined = config.get(kind, {}) or {}
                in_connectors = component in (config.get("connectors") or {})
                assert component in defined or in_connectors, (
                    f"pipeline {name}: {kind[:-1]} {component} is not defined"
                )
        assert pipeline.get("receivers") and pipeline.get("exporters"), name


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_pipeline_component_is_defined(name: str) -> None:
    """Each receiver/processor/exporter/extension a pipeline references is defined in the file."""
    _check_pipelines(CONFIGS[name])


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_component_types_are_known_contrib_components(name: str) -> None:
    """Every defined component's type is a known contrib 0.159 one; renamed types are not used."""
    config = CONFIGS[name]
    for kind, known in KNOWN_TYPES.items():
        for component_id in config.get(kind) or {}:
            ctype = _type(component_id)
            renamed = DEPRECATED_TYPES.get(kind, {})
            assert ctype not in renamed, f"{component_id}: use {renamed.get(ctype)} (v0.144 rename)"
            assert ctype in known, f"unknown {kind[:-1]} type {ctype!r}"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_memory_limiter_is_first_in_every_pipeline(name: str) -> None:
    """memory_limiter is defined and is the first processor of every pipeline."""
    config = CONFIGS[name]
    for pipeline_name, pipeline in config["service"]["pipelines"].items():
        processors = pipeline.get("processors", [])
        assert processors, f"{pipeline_name}: no processors (memory_limiter missing)"
        assert _type(processors[0]) == "memory_limiter", f"{pipeline_name}: {processors}"
        limiter = config["processors"][processors[0]]
        assert limiter.get("check_interval")
        assert limiter.get("limit_mib") or limiter.get("limit_percentage")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_receivers_listen_on_all_interfaces_inside_the_container(name: str) -> None:
    """OTLP receivers and health_check bind 0.0.0.0 (since v0.104 the default is localhost)."""
    config = CONFIGS[name]
    for receiver_id, receiver in config["receivers"].items():
        protocols = (receiver or {}).get("protocols", {})
        assert protocols, f"{receiver_id}: no protocols"
        for protocol, settings in protocols.items():
            endpoint = (settings or {}).get("endpoint", "")
            assert endpoint.startswith("0.0.0.0:"), f"{receiver_id}.{protocol}: {endpoint!r}"
    health = config["extensions"]["health_check"]["endpoint"]
    assert health == "0.0.0.0:13133"


def test_otlp_receiver_ports_match_the_published_ones() -> None:
    """The collector receives OTLP gRPC on 4317 and HTTP on 4318, the ports compose publishes."""
    protocols = CONFIG["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"


def test_traces_go_to_jaeger_and_metrics_to_prometheus_otlp_receiver() -> None:
    """traces -> otlp_grpc to the jaeger service; metrics -> otlp_http to Prometheus' OTLP path."""
    pipelines = CONFIG["service"]["pipelines"]
    (traces_exporter,) = pipelines["traces"]["exporters"]
    (metrics_exporter,) = pipelines["metrics"]["exporters"]
    assert _type(traces_exporter) == "otlp_grpc"
    assert _type(metrics_exporter) == "otlp_http"

    jaeger = CONFIG["exporters"][traces_exporter]
    host, port = jaeger["endpoint"].rsplit(":", 1)
    assert host in COMPOSE_SERVICES and host == "jaeger" and port == "4317"

    prometheus = CONFIG["exporters"][metrics_exporter]
    # otlp_http appends /v1/metrics to `endpoint` unless metrics_endpoint is set.
    url = prometheus.get("metrics_endpoint") or prometheus["endpoint"].rstrip("/") + "/v1/metrics"
    parsed = urllib.parse.urlsplit(url)
    assert parsed.hostname in COMPOSE_SERVICES and parsed.hostname == "prometheus"
    assert parsed.port == 9090
    assert parsed.path == "/api/v1/otlp/v1/metrics"


def test_exporters_batch_in_their_sending_queue() -> None:
    """Exporters batch through sending_queue.batch (preferred over the batch processor)."""
    for exporter_id, exporter in CONFIG["exporters"].items():
        assert "batch" in exporter.get("sending_queue", {}), exporter_id
    assert not any(_type(p) == "batch" for p in CONFIG.get("processors", {}))


def test_gateway_example_documents_tail_sampling_behind_load_balancing() -> None:
    """The commented example has an agent tier routing by traceID and a tail-sampling gateway."""
    agent, gateway = _gateway_example_documents()
    assert agent["exporters"]["loadbalancing"]["routing_key"] == "traceID"
    assert "loadbalancing" in agent["service"]["pipelines"]["traces"]["exporters"]
    assert "tail_sampling" in gateway["processors"]
    assert gateway["processors"]["tail_sampling"]["policies"]
    assert "tail_sampling" in gateway["service"]["pipelines"]["traces"]["processors"]
