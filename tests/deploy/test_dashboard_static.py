"""Offline checks of the "LLM overview" dashboard and the Grafana provisioning files."""

from __future__ import annotations

import re
from typing import Any

import pytest
from deploy_support import (
    DASHBOARD_FILE,
    DASHBOARD_PROVIDERS_FILE,
    DATASOURCES_FILE,
    PROVISIONING_DIR,
    allowed_labels,
    allowed_metric_names,
    iter_panels,
    load_dashboard,
    load_yaml,
    panel_targets,
    parse_label_values,
    prometheus_panels,
    promql_refs,
    query_variables,
    regex_alternation,
    substitute,
    traces_to_metrics_queries,
    traces_to_metrics_tags_matcher,
    variable_query,
)

from otel_llm import semconv

DASHBOARD = load_dashboard()
#: Stand-in values for every variable/macro a query may use (offline parsing only).
OFFLINE_VALUES = {
    "service": "my-llm-app",
    "model": regex_alternation(["gpt-4o-mini", "gpt-4.1"]),
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}
DUR = semconv.PROMETHEUS_NAMES[semconv.METRIC_OPERATION_DURATION]
TOK = semconv.PROMETHEUS_NAMES[semconv.METRIC_TOKEN_USAGE]
TTFC = semconv.PROMETHEUS_NAMES[semconv.METRIC_TIME_TO_FIRST_CHUNK]
TPOC = semconv.PROMETHEUS_NAMES[semconv.METRIC_TIME_PER_OUTPUT_CHUNK]
COST = semconv.PROMETHEUS_NAMES[semconv.METRIC_COST]


def _prometheus_queries() -> list[tuple[str, str]]:
    out = []
    for panel in prometheus_panels(DASHBOARD):
        for target in panel_targets(panel, DASHBOARD, "prometheus"):
            out.append((f"{panel['title']} [{target['refId']}]", target["expr"]))
    return out


QUERIES = _prometheus_queries()
ALL_EXPRS = "\n".join(expr for _, expr in QUERIES)


def test_dashboard_identity_and_provider() -> None:
    """The dashboard is "LLM overview" with a stable uid, loaded by a file provider."""
    assert DASHBOARD["title"] == "LLM overview"
    assert DASHBOARD["uid"] == "otel-llm-overview"
    providers = load_yaml(DASHBOARD_PROVIDERS_FILE)
    assert providers["apiVersion"] == 1
    assert [p["type"] for p in providers["providers"]] == ["file"]
    assert DASHBOARD_FILE.parent.name == "dashboards"


@pytest.mark.parametrize(("where", "expr"), QUERIES, ids=[w for w, _ in QUERIES])
def test_panel_query_parses_and_uses_only_exported_names(where: str, expr: str) -> None:
    """After macro substitution the query is valid PromQL using only our metric and label names."""
    refs = promql_refs(substitute(expr, OFFLINE_VALUES))
    assert refs.metrics, f"{where}: no metric selector"
    assert refs.metrics <= allowed_metric_names(), refs.metrics - allowed_metric_names()
    assert refs.labels <= allowed_labels(), refs.labels - allowed_labels()


@pytest.mark.parametrize(("where", "expr"), QUERIES, ids=[w for w, _ in QUERIES])
def test_panel_query_is_filtered_by_service_and_model(where: str, expr: str) -> None:
    """Every metric selector of every panel query applies the $service and $model variables."""
    for selector in re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\{[^}]*\}", expr):
        assert 'service_name="$service"' in selector, f"{where}: {selector}"
        assert 'gen_ai_request_model=~"$model"' in selector, f"{where}: {selector}"
    assert "[$__rate_interval]" in expr or "[$__range]" in expr, where


def test_variables_service_and_model_use_label_values() -> None:
    """$service and $model are label_values() queries on our metrics with our label names."""
    variables = {v["name"]: v for v in query_variables(DASHBOARD)}
    assert set(variables) == {"service", "model"}
    for name, label in [("service", "service_name"), ("model", "gen_ai_request_model")]:
        selector, got_label = parse_label_values(variable_query(variables[name]))
        assert got_label == label
        assert selector is not None
        refs = promql_refs(substitute(selector, OFFLINE_VALUES))
        assert refs.metrics <= allowed_metric_names()
        assert refs.labels <= allowed_labels()
        assert variables[name]["definition"] == variable_query(variables[name])
    assert "$service" in variable_query(variables["model"])
    assert variables["model"]["multi"] and variables["model"]["includeAll"]
    assert variables["model"]["allValue"] == ".*"
    assert not variables["service"]["multi"]  # the Jaeger links need exactly one service


def test_dashboard_covers_the_required_views() -> None:
    """Requests, errors, tokens, estimated share, cost, latency quantiles, top models, traces."""
    exprs = ALL_EXPRS
    assert f"rate({DUR}_count{{" in exprs  # requests/s
    assert 'error_type!=""' in exprs  # error rate
    assert 'gen_ai_token_type="input"' in exprs and 'gen_ai_token_type="output"' in exprs
    assert (
        'otel_llm_usage_estimated="true"' in exprs and 'otel_llm_usage_estimated="false"' in exprs
    )
    assert f"{COST}_sum" in exprs and "* 3600" in exprs  # cost per hour
    for q in ("0.5", "0.95", "0.99"):
        assert (
            f"histogram_quantile({q}, sum by (le, gen_ai_request_model) (rate({DUR}_bucket" in exprs
        )
    for q in ("0.5", "0.95"):
        assert (
            f"histogram_quantile({q}, sum by (le, gen_ai_request_model) (rate({TTFC}_bucket"
            in exprs
        )
    assert f"{TPOC}_bucket" in exprs and f"{TPOC}_sum" in exprs
    by_model = [p for p in prometheus_panels(DASHBOARD) if "by model" in p["title"]]
    assert len(by_model) >= 5
    tables = [p for p in prometheus_panels(DASHBOARD) if p["type"] == "table"]
    assert tables and all(t.get("format") == "table" for t in tables[0]["targets"])


def test_jaeger_traces_are_reachable_from_the_dashboard() -> None:
    """A Jaeger search panel for $service plus links to the Jaeger UI filtered by service/model."""
    jaeger_panels = [p for p in iter_panels(DASHBOARD) if panel_targets(p, DASHBOARD, "jaeger")]
    assert jaeger_panels
    (target,) = panel_targets(jaeger_panels[0], DASHBOARD, "jaeger")
    assert target["queryType"] == "search" and target["service"] == "$service"

    links: list[dict[str, Any]] = list(DASHBOARD.get("links", []))
    for panel in iter_panels(DASHBOARD):
        links += panel.get("links", [])
        links += panel.get("fieldConfig", {}).get("defaults", {}).get("links", [])
        for override in panel.get("fieldConfig", {}).get("overrides", []):
            for prop in override["properties"]:
                if prop["id"] == "links":
                    links += prop["value"]
    urls = [link["url"] for link in links]
    assert any("/search?service=${service}" in url for url in urls)
    assert any("gen_ai.request.model" in url for url in urls)
    jaeger_var = next(v for v in DASHBOARD["templating"]["list"] if v["name"] == "jaeger_url")
    assert jaeger_var["query"] == "http://localhost:16686"
    values = {
        "jaeger_url": "J",
        "service": "S",
        "conversation": "C",
        "__from": "1",
        "__to": "2",
        "__field": "",
        "__value": "",
    }
    for url in urls:
        assert url.startswith("${jaeger_url}/search?"), url
        # every variable in a link is one the dashboard or Grafana defines
        substitute(re.sub(r"\$\{__(field|value)[^}]*\}", "", url), values)


def test_panel_ids_unique_and_layout_fits_the_grid() -> None:
    """Panel ids are unique and grid positions stay within 24 columns without overlapping."""
    panels = list(iter_panels(DASHBOARD))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        area = {
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area


def test_datasources_are_provisioned_with_stable_uids() -> None:
    """Prometheus and Jaeger data sources point at the compose services; exemplars go to Jaeger."""
    config = load_yaml(DATASOURCES_FILE)
    assert config["apiVersion"] == 1
    by_uid = {ds["uid"]: ds for ds in config["datasources"]}
    assert by_uid["prometheus"]["type"] == "prometheus"
    assert by_uid["prometheus"]["url"] == "http://prometheus:9090"
    assert by_uid["jaeger"]["type"] == "jaeger"
    assert by_uid["jaeger"]["url"] == "http://jaeger:16686"
    (destination,) = by_uid["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert destination == {"name": "trace_id", "datasourceUid": "jaeger"}
    datasource_vars = {
        v["name"]: v["current"]["value"]
        for v in DASHBOARD["templating"]["list"]
        if v["type"] == "datasource"
    }
    assert datasource_vars == {"datasource": "prometheus", "traces": "jaeger"}


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def test_dollar_escaping_in_provisioning_files_only() -> None:
    """Provisioning YAML values write literal `$` as `$$` (env interpolation); dashboard JSON does not."""
    for path in sorted(PROVISIONING_DIR.rglob("*.y*ml")):
        for value in _strings(load_yaml(path)):
            single = re.findall(r"\$\S*", value.replace("$$", ""))
            assert not single, f"{path}: {value!r}: unescaped $ would be env-expanded"
    assert "$$" not in DASHBOARD_FILE.read_text(encoding="utf-8")
    raw = DATASOURCES_FILE.read_text(encoding="utf-8")
    assert "{$$__tags}" in raw
    assert all("{$__tags}" in q for q in traces_to_metrics_queries())


@pytest.mark.parametrize("query", traces_to_metrics_queries())
def test_trace_to_metrics_queries_parse_and_use_exported_names(query: str) -> None:
    """Jaeger span -> metrics queries are valid PromQL on our names once $__tags is filled in."""
    tags = traces_to_metrics_tags_matcher(
        {"service.name": "my-llm-app", "gen_ai.request.model": "gpt-4o-mini"}
    )
    assert tags == 'service_name="my-llm-app", gen_ai_request_model="gpt-4o-mini"'
    refs = promql_refs(substitute(query, {"__tags": tags}))
    assert refs.metrics <= allowed_metric_names()
    assert refs.labels <= allowed_labels()


def test_offline_checks_reject_a_guessed_metric_name() -> None:
    """The name/label checks can fail: a guessed cost metric name and label are rejected."""
    refs = promql_refs('sum(rate(gen_ai_usage_cost_sum{model="x"}[5m]))')
    assert not refs.metrics <= allowed_metric_names()
    assert not refs.labels <= allowed_labels()
    with pytest.raises(ValueError):
        promql_refs("sum(rate(x[$__rate_interval]))")


def test_feature_panels_and_conversation_drill_down() -> None:
    """Tokens and cost per app.feature (allow-listed key) with links to that feature's traces,
    and a Jaeger search plus link by gen_ai.conversation.id (never a metric label)."""
    feature = [p for p in prometheus_panels(DASHBOARD)
               if any("by (app_feature)" in t["expr"] for t in p["targets"])]
    assert len(feature) == 3
    exprs = "\n".join(t["expr"] for p in feature for t in p["targets"])
    assert f"{TOK}_sum" in exprs and f"{COST}_sum" in exprs and "* 3600" in exprs
    for panel in feature:
        (link,) = panel["fieldConfig"]["defaults"]["links"]
        assert "%22app.feature%22%3A%22${__field.labels.app_feature}%22" in link["url"]
    assert "conversation" not in ALL_EXPRS and "user_id" not in ALL_EXPRS
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["conversation"]["type"] == "textbox"
    searches = [t for p in iter_panels(DASHBOARD) for t in panel_targets(p, DASHBOARD, "jaeger")
                if "tags" in t]
    assert [t["tags"] for t in searches] == ['gen_ai.conversation.id="$conversation"']
    urls = [link["url"] for p in iter_panels(DASHBOARD) for link in p.get("links", [])]
    assert any("%22gen_ai.conversation.id%22%3A%22${conversation}%22" in u for u in urls)
