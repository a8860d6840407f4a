"""Live dashboard test: every "LLM overview" query against a real Prometheus with real data.

The session fixture ``live_stack`` (conftest.py) runs tests/deploy/workload.py
(metrics through ``PrometheusMetricReader`` + ``prometheus_client`` HTTP server
on 127.0.0.1) and Debian's ``/usr/bin/prometheus`` scraping it every second
from its own temp config and data dir. Variables are resolved from the data the
way Grafana does (``label_values``), ``$__rate_interval`` is 10s (ten 1 s
scrapes), ``$__range`` 1m; every query must succeed with a non-empty result
holding at least one finite value.
"""

from __future__ import annotations

import pytest
from deploy_support import (
    LiveStack,
    allowed_labels,
    allowed_metric_names,
    finite_values,
    load_dashboard,
    panel_targets,
    parse_label_values,
    prometheus_panels,
    query_variables,
    regex_alternation,
    substitute,
    traces_to_metrics_queries,
    traces_to_metrics_tags_matcher,
    variable_query,
)

from otel_llm import semconv

# The workload serves its metrics through opentelemetry-exporter-prometheus.
pytestmark = pytest.mark.prometheus

DASHBOARD = load_dashboard()
MACROS = {"__rate_interval": "10s", "__interval": "1s", "__range": "1m"}
PANEL_QUERIES = [
    (f"{panel['title']} [{target['refId']}]", target["expr"])
    for panel in prometheus_panels(DASHBOARD)
    for target in panel_targets(panel, DASHBOARD, "prometheus")
]
#: Labels Prometheus or the SDK exporter add on top of our attributes.
INFRA_LABELS = {
    "__name__",
    "job",
    "instance",
    "otel_scope_name",
    "otel_scope_version",
    "otel_scope_schema_url",
}


def _variables(stack: LiveStack) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Resolve $service/$model in dashboard order via label_values; pick the workload's service."""
    values = dict(MACROS)
    found: dict[str, list[str]] = {}
    for var in query_variables(DASHBOARD):
        selector, label = parse_label_values(substitute(variable_query(var), values))
        found[var["name"]] = sorted(stack.api.label_values(label, selector))
        if var["name"] == "service":
            values["service"] = stack.service
        else:
            values[var["name"]] = regex_alternation(found[var["name"]])
    return values, found


def _assert_non_empty(stack: LiveStack, where: str, expr: str) -> list[float]:
    body = stack.api.query(expr)
    assert body.get("status") == "success", f"{where}: {expr}\n-> {body}"
    assert body["data"]["result"] not in ([], None), f"{where}: empty result for\n{expr}"
    values = finite_values(body)
    assert values, f"{where}: only NaN/Inf values for\n{expr}\n-> {body['data']['result']}"
    return values


def test_variable_queries_find_the_workload_service_and_two_models(live_stack: LiveStack) -> None:
    """label_values() of $service finds the workload's service; $model finds both models."""
    values, found = _variables(live_stack)
    assert live_stack.service in found["service"]
    assert len(found["model"]) >= 2, found["model"]
    for var in query_variables(DASHBOARD):
        selector, _label = parse_label_values(substitute(variable_query(var), values))
        assert selector is not None
        _assert_non_empty(live_stack, f"variable {var['name']}", selector)


@pytest.mark.parametrize(("where", "expr"), PANEL_QUERIES, ids=[w for w, _ in PANEL_QUERIES])
def test_panel_query_returns_data(live_stack: LiveStack, where: str, expr: str) -> None:
    """The panel query, with variables from the data, succeeds with a non-empty finite result."""
    values, _found = _variables(live_stack)
    _assert_non_empty(live_stack, where, substitute(expr, values))


@pytest.mark.parametrize("query", traces_to_metrics_queries())
def test_trace_to_metrics_query_returns_data(live_stack: LiveStack, query: str) -> None:
    """The provisioned Jaeger span -> metrics queries return data for the workload's service."""
    tags = traces_to_metrics_tags_matcher({"service.name": live_stack.service})
    _assert_non_empty(live_stack, "tracesToMetrics", substitute(query, {"__tags": tags}))


def test_exported_series_names_and_labels_match_semconv(live_stack: LiveStack) -> None:
    """The exporter produces exactly the semconv Prometheus names; labels are our attributes."""
    names = set(live_stack.api.get("/api/v1/label/__name__/values")["data"])
    assert allowed_metric_names() <= names, allowed_metric_names() - names
    for base in semconv.PROMETHEUS_NAMES.values():
        body = live_stack.api.get("/api/v1/series", **{"match[]": f"{base}_count"})
        assert body["status"] == "success" and body["data"], base
        for series in body["data"]:
            extra = set(series) - allowed_labels() - INFRA_LABELS
            assert not extra, f"{base}: unexpected labels {extra}"
            assert series["service_name"] == live_stack.service


def test_workload_covers_errors_streams_and_estimates(live_stack: LiveStack) -> None:
    """The data holds failures (error_type), both token types and estimated=true/false, cost."""
    api = live_stack.api
    duration = semconv.PROMETHEUS_NAMES[semconv.METRIC_OPERATION_DURATION]
    tokens = semconv.PROMETHEUS_NAMES[semconv.METRIC_TOKEN_USAGE]
    cost = semconv.PROMETHEUS_NAMES[semconv.METRIC_COST]
    assert api.label_values("error_type", f"{duration}_count")
    assert set(api.label_values("gen_ai_token_type", f"{tokens}_sum")) == {"input", "output"}
    assert set(api.label_values("otel_llm_usage_estimated", f"{tokens}_sum")) == {"true", "false"}
    assert set(api.label_values("otel_llm_usage_estimated", f"{cost}_sum")) == {"true", "false"}
    for metric in (semconv.METRIC_TIME_TO_FIRST_CHUNK, semconv.METRIC_TIME_PER_OUTPUT_CHUNK):
        name = semconv.PROMETHEUS_NAMES[metric]
        assert len(api.label_values("gen_ai_request_model", f"{name}_count")) >= 2


def test_a_guessed_metric_name_returns_nothing(live_stack: LiveStack) -> None:
    """The non-empty criterion is meaningful: a plausible but wrong name yields an empty result."""
    body = live_stack.api.query('sum(rate(gen_ai_usage_cost_USD_sum{service_name!=""}[10s]))')
    assert body["status"] == "success"
    assert body["data"]["result"] == []


def test_workload_features_are_labels_and_ids_are_not(live_stack: LiveStack) -> None:
    """attributes() blocks of the workload: app_feature holds its three features (the allow-list);
    conversation, user and session ids are on no series."""
    from workload import FEATURES

    api = live_stack.api
    for metric in (semconv.METRIC_TOKEN_USAGE, semconv.METRIC_OPERATION_DURATION,
                   semconv.METRIC_COST):
        series = f"{semconv.PROMETHEUS_NAMES[metric]}_count"
        assert set(api.label_values("app_feature", series)) == set(FEATURES), metric
    labels = set(api.get("/api/v1/labels")["data"])
    assert not {"gen_ai_conversation_id", "user_id", "session_id"} & labels
