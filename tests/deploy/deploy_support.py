"""Shared helpers for the deploy/ checks, the live dashboard test and render_panels.py.

Everything here reads the real files under deploy/ and the names in
``otel_llm.semconv``; nothing is a copy of them.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from otel_llm import semconv

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY_DIR / "docker-compose.yml"
COLLECTOR_CONFIG = DEPLOY_DIR / "otel-collector.yaml"
PROMETHEUS_CONFIG = DEPLOY_DIR / "prometheus.yml"
GRAFANA_DIR = DEPLOY_DIR / "grafana"
PROVISIONING_DIR = GRAFANA_DIR / "provisioning"
DATASOURCES_FILE = PROVISIONING_DIR / "datasources" / "datasources.yaml"
DASHBOARD_PROVIDERS_FILE = PROVISIONING_DIR / "dashboards" / "dashboards.yaml"
DASHBOARD_FILE = GRAFANA_DIR / "dashboards" / "llm-overview.json"
WORKLOAD_SCRIPT = Path(__file__).resolve().parent / "workload.py"
BUILD_DIR = REPO_ROOT / "build" / "dashboard"

PROMTOOL_HINT = (
    "install Debian's Prometheus 2.42 (prometheus + promtool): "
    "apt-get update && apt-get install -y --no-install-recommends prometheus"
)


# --- files --------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_dashboard(path: Path = DASHBOARD_FILE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def promoted_resource_attributes() -> list[str]:
    """``otlp.promote_resource_attributes`` of deploy/prometheus.yml."""
    return list(load_yaml(PROMETHEUS_CONFIG)["otlp"]["promote_resource_attributes"])


# --- dashboard structure --------------------------------------------------------


def iter_panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows; rows themselves too."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def _datasource_type(ref: Any, dashboard: Mapping[str, Any]) -> str | None:
    if ref is None:
        return None
    if isinstance(ref, str):  # legacy: a data source name or "${var}"
        ref = {"uid": ref}
    if ref.get("type"):
        return str(ref["type"])
    uid = str(ref.get("uid", ""))
    match = re.fullmatch(r"\$\{?(\w+)\}?", uid)
    if match:
        for var in dashboard.get("templating", {}).get("list", []):
            if var.get("name") == match.group(1) and var.get("type") == "datasource":
                return str(var.get("query"))
    return None


def panel_targets(
    panel: Mapping[str, Any], dashboard: Mapping[str, Any], ds_type: str
) -> list[dict[str, Any]]:
    """Targets of ``panel`` that run against a data source of type ``ds_type``."""
    out = []
    for target in panel.get("targets", []):
        ref = target.get("datasource") or panel.get("datasource")
        if _datasource_type(ref, dashboard) == ds_type:
            out.append(target)
    return out


def prometheus_panels(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [p for p in iter_panels(dashboard) if panel_targets(p, dashboard, "prometheus")]


def query_variables(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [v for v in dashboard["templating"]["list"] if v.get("type") == "query"]


def variable_query(var: Mapping[str, Any]) -> str:
    query = var.get("query")
    if isinstance(query, Mapping):
        query = query.get("query")
    if not isinstance(query, str):
        raise ValueError(f"variable {var.get('name')!r} has no query string")
    return query


_LABEL_VALUES = re.compile(
    r"^\s*label_values\(\s*(?:(?P<selector>.+?)\s*,\s*)?(?P<label>\w+)\s*\)\s*$"
)


def parse_label_values(query: str) -> tuple[str | None, str]:
    """``label_values(selector, label)`` -> (selector, label); selector may be None."""
    match = _LABEL_VALUES.match(query)
    if not match:
        raise ValueError(f"not a label_values(...) query: {query!r}")
    return match.group("selector"), match.group("label")


# --- Grafana variable / macro substitution --------------------------------------

_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]")


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace Grafana variables and macros (``$x``, ``${x}``, ``${x:fmt}``, ``[[x]]``).

    Raises ``KeyError`` for a variable that ``values`` does not define, so an
    unknown macro cannot slip through.
    """

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        return values[name]

    return _VARIABLE.sub(repl, text)


def regex_alternation(values: list[str]) -> str:
    """What Grafana puts in ``=~"$var"`` for a multi-value selection (PromQL-escaped)."""
    escaped = [re.escape(v).replace("\\", "\\\\") for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


# --- names the exporter produces -------------------------------------------------


def prometheus_label(attribute: str) -> str:
    """OpenTelemetry attribute key -> Prometheus label name (default translation)."""
    label = re.sub(r"[^a-zA-Z0-9_]", "_", attribute)
    return "_" + label if label[:1].isdigit() else label


def allowed_metric_names() -> set[str]:
    names = {"target_info"}
    for base in semconv.PROMETHEUS_NAMES.values():
        names.update({f"{base}_bucket", f"{base}_sum", f"{base}_count"})
    return names


def allowed_labels() -> set[str]:
    """Labels a dashboard may use: our metric attributes, the recommended allow-listed
    ``app.feature``, promoted resource attributes, ``le``."""
    labels = {prometheus_label(a) for a in semconv.METRIC_ATTRIBUTES}
    labels.add(prometheus_label(semconv.APP_FEATURE))
    labels.update(prometheus_label(a) for a in promoted_resource_attributes())
    labels.add("le")
    return labels


@dataclass
class PromqlRefs:
    metrics: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)


def promql_refs(expr: str) -> PromqlRefs:
    """Parse ``expr`` (raises ValueError on bad PromQL) and collect metric/label names."""
    refs = PromqlRefs()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                refs.metrics.add(node.name)
            groups = [node.matchers.matchers, *node.matchers.or_matchers]
            for matcher in (m for group in groups for m in group):
                if matcher.name == "__name__":
                    refs.metrics.add(matcher.value)
                else:
                    refs.labels.add(matcher.name)
        elif isinstance(node, promql_parser.AggregateExpr):
            if node.modifier is not None:
                refs.labels.update(node.modifier.labels)
        elif isinstance(node, promql_parser.BinaryExpr):
            modifier = node.modifier
            if modifier is not None:
                if modifier.matching is not None:
                    refs.labels.update(modifier.matching.labels)
                refs.labels.update(modifier.group_labels or [])
        elif isinstance(node, promql_parser.Call):
            refs.functions.add(node.func.name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return refs


# --- Grafana provisioning ---------------------------------------------------------


def traces_to_metrics_queries() -> list[str]:
    """tracesToMetrics queries of the Jaeger data source, as Grafana sees them ($$ -> $)."""
    out = []
    for ds in load_yaml(DATASOURCES_FILE)["datasources"]:
        t2m = ds.get("jsonData", {}).get("tracesToMetrics")
        if t2m:
            out.extend(q["query"].replace("$$", "$") for q in t2m.get("queries", []))
    return out


def traces_to_metrics_tags_matcher(values: Mapping[str, str]) -> str:
    """What Grafana substitutes for ``$__tags`` given span attribute values."""
    for ds in load_yaml(DATASOURCES_FILE)["datasources"]:
        t2m = ds.get("jsonData", {}).get("tracesToMetrics")
        if t2m:
            parts = []
            for tag in t2m["tags"]:
                key = tag["key"]
                if key in values:
                    parts.append(f'{tag.get("value") or key}="{values[key]}"')
            return ", ".join(parts)
    raise LookupError("no tracesToMetrics in the provisioned data sources")


# --- live stack: workload + Debian's Prometheus -------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_prometheus_binary() -> str:
    for candidate in (shutil.which("prometheus"), "/usr/bin/prometheus"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(f"prometheus binary not found on PATH; {PROMTOOL_HINT}")


def stop_process(proc: subprocess.Popen[Any] | None, timeout: float = 5.0) -> None:
    """Stop one process we started, by its PID (SIGTERM, then SIGKILL)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


class PrometheusAPI:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def get(self, path: str, **params: Any) -> Any:
        query = urllib.parse.urlencode(params, doseq=True)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:  # 400/422 carry a JSON error body
            body = json.loads(exc.read() or b"{}") or {"status": "error", "error": str(exc)}
        return body

    def query(self, expr: str, time_: float | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"query": expr}
        if time_ is not None:
            params["time"] = f"{time_:.3f}"
        result: dict[str, Any] = self.get("/api/v1/query", **params)
        return result

    def query_range(self, expr: str, start: float, end: float, step: float) -> dict[str, Any]:
        result: dict[str, Any] = self.get(
            "/api/v1/query_range",
            query=expr,
            start=f"{start:.3f}",
            end=f"{end:.3f}",
            step=f"{step:g}",
        )
        return result

    def label_values(self, label: str, selector: str | None) -> list[str]:
        params: dict[str, Any] = {}
        if selector:
            params["match[]"] = selector
        body = self.get(f"/api/v1/label/{label}/values", **params)
        if body.get("status") != "success":
            raise RuntimeError(f"label values {label} {selector}: {body}")
        return list(body["data"])

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/-/ready", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False


def finite_values(body: Mapping[str, Any]) -> list[float]:
    """All finite sample values of a successful query / query_range response."""
    import math

    data = body.get("data", {})
    kind, result = data.get("resultType"), data.get("result")
    values: list[float] = []
    if kind in ("scalar", "string"):
        values = [float(result[1])]
    elif kind == "vector":
        values = [float(s["value"][1]) for s in result]
    elif kind == "matrix":
        values = [float(v[1]) for s in result for v in s["values"]]
    return [v for v in values if math.isfinite(v)]


@dataclass
class LiveStack:
    """A workload process plus Debian's Prometheus scraping it every second."""

    service: str = "otel-llm-live-test"
    scrape_interval: str = "1s"
    workdir: Path | None = None
    workload: subprocess.Popen[str] | None = None
    prometheus: subprocess.Popen[bytes] | None = None
    workload_port: int = 0
    prometheus_port: int = 0
    started_at: float = 0.0
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _logs: list[Any] = field(default_factory=list)

    @property
    def api(self) -> PrometheusAPI:
        return PrometheusAPI(f"http://127.0.0.1:{self.prometheus_port}")

    def start(self, timeout: float = 20.0) -> LiveStack:
        prometheus_bin = find_prometheus_binary()
        self._tmp = tempfile.TemporaryDirectory(prefix="otel-llm-live-")
        self.workdir = Path(self._tmp.name)
        self.started_at = time.time()
        self._start_workload(timeout)
        self._start_prometheus(prometheus_bin, timeout)
        return self

    def _start_workload(self, timeout: float) -> None:
        cmd = [sys.executable, str(WORKLOAD_SCRIPT), "--port", "0", "--service", self.service]
        for attribute in promoted_resource_attributes():
            cmd += ["--promote", attribute]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        assert self.workdir is not None
        stderr = (self.workdir / "workload.stderr").open("w")
        self._logs.append(stderr)
        self.workload = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, cwd=REPO_ROOT
        )
        assert self.workload.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.workload.stdout], [], [], 0.2)
            if ready:
                line = self.workload.stdout.readline()
                if line.startswith("READY port="):
                    self.workload_port = int(line.split("=", 1)[1])
                    return
            if self.workload.poll() is not None:
                break
        raise RuntimeError(
            "workload did not become ready: "
            + (self.workdir / "workload.stderr").read_text(errors="replace")[-2000:]
        )

    def _start_prometheus(self, binary: str, timeout: float) -> None:
        assert self.workdir is not None
        config = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "scrape_timeout": self.scrape_interval,
                "evaluation_interval": self.scrape_interval,
            },
            "scrape_configs": [
                {
                    "job_name": "otel-llm-workload",
                    "static_configs": [{"targets": [f"127.0.0.1:{self.workload_port}"]}],
                }
            ],
        }
        config_path = self.workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        last_error = ""
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.prometheus_port = free_port()
            log_path = self.workdir / "prometheus.log"
            log = log_path.open("wb")
            self._logs.append(log)
            self.prometheus = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config_path}",
                    f"--storage.tsdb.path={self.workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
                    "--log.level=warn",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=self.workdir,
            )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.prometheus.poll() is None:
                if self.api.ready():
                    return
                time.sleep(0.1)
            last_error = log_path.read_text(errors="replace")[-2000:]
            stop_process(self.prometheus)
        raise RuntimeError(f"prometheus did not become ready: {last_error}")

    def wait_for_scrapes(self, scrapes: int = 8, timeout: float = 30.0) -> None:
        """Block until Prometheus holds ``scrapes`` successful scrapes of the workload."""
        expr = f'sum_over_time(up{{job="otel-llm-workload"}}[{scrapes * 2}s])'
        deadline = time.monotonic() + timeout
        seen = 0.0
        while time.monotonic() < deadline:
            body = self.api.query(expr)
            values = finite_values(body) if body.get("status") == "success" else []
            seen = values[0] if values else 0.0
            if seen >= scrapes:
                return
            time.sleep(0.25)
        raise TimeoutError(f"only {seen} successful scrapes after {timeout}s")

    def stop(self) -> None:
        try:
            stop_process(self.prometheus)
        finally:
            try:
                stop_process(self.workload)
            finally:
                if self.workload is not None and self.workload.stdout is not None:
                    self.workload.stdout.close()
                for log in self._logs:
                    log.close()
                self._logs.clear()
                if self._tmp is not None:
                    self._tmp.cleanup()
                    self._tmp = None

    def __enter__(self) -> LiveStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
