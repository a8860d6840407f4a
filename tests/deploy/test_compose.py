"""Checks of deploy/docker-compose.yml and its companions (.env.example, mounts, credentials)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_support import COMPOSE_FILE, DEPLOY_DIR, PROVISIONING_DIR, load_yaml

COMPOSE = load_yaml(COMPOSE_FILE)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]

#: service -> (image repository, required major version of the pinned tag)
EXPECTED_IMAGES = {
    "otel-collector": ("otel/opentelemetry-collector-contrib", None),
    "jaeger": ("jaegertracing/jaeger", 2),
    "prometheus": ("prom/prometheus", 3),
    "grafana": ("grafana/grafana", None),
}
PINNED_IMAGE = re.compile(
    r"^(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*):(?P<tag>v?(?P<major>\d+)\.\d+\.\d+)"
    r"(?:@sha256:[0-9a-f]{64})?$"
)
REQUIRED_VAR = re.compile(r"^\$\{(?P<name>[A-Z][A-Z0-9_]*):\?(?P<message>[^}]+)\}$")
WEAK_SECRETS = {"admin", "password", "passw0rd", "changeme", "secret", "grafana", "prom-operator"}


def _published_ports(service: dict[str, Any]) -> list[dict[str, str]]:
    """Normalise short ("127.0.0.1:4317:4317") and long port syntax."""
    out = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            out.append({"host_ip": str(port.get("host_ip", "")), "spec": str(port)})
            continue
        spec = str(port)
        parts = spec.rsplit(":", 2)
        host_ip = parts[0] if len(parts) == 3 else ""
        out.append({"host_ip": host_ip.strip("[]"), "spec": spec})
    return out


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_compose_file_matches_the_compose_spec_schema() -> None:
    """check-jsonschema validates deploy/docker-compose.yml against the compose spec."""
    exe = Path(sys.executable).with_name("check-jsonschema")
    assert exe.exists(), f"{exe} missing: check-jsonschema is a dev dependency (pyproject)"
    proc = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_four_services_exist_with_pinned_images() -> None:
    """Collector, Jaeger v2, Prometheus 3 and Grafana run from version-pinned images (no latest)."""
    assert set(SERVICES) == set(EXPECTED_IMAGES)
    for name, service in SERVICES.items():
        image = service.get("image", "")
        match = PINNED_IMAGE.match(image)
        assert match, f"{name}: image {image!r} is not pinned to an x.y.z tag"
        assert "latest" not in image
        repo, major = EXPECTED_IMAGES[name]
        assert match.group("repo") == repo, f"{name}: unexpected image {image}"
        if major is not None:
            assert int(match.group("major")) == major, f"{name}: {image} is not major {major}"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_published_ports_bind_loopback_only(name: str) -> None:
    """Every published port of every service binds 127.0.0.1, never all interfaces."""
    service = SERVICES[name]
    assert service.get("network_mode") != "host"
    for port in _published_ports(service):
        assert port["host_ip"] == "127.0.0.1", f"{name}: {port['spec']} is not on 127.0.0.1"


def test_application_facing_ports_are_published() -> None:
    """The app reaches OTLP gRPC 4317 / HTTP 4318; people reach Grafana 3000 and Jaeger UI 16686."""
    published = {
        (name, p["spec"].rsplit(":", 1)[-1])
        for name, service in SERVICES.items()
        for p in _published_ports(service)
    }
    for expected in [
        ("otel-collector", "4317"),
        ("otel-collector", "4318"),
        ("grafana", "3000"),
        ("jaeger", "16686"),
        ("prometheus", "9090"),
    ]:
        assert expected in published


def test_grafana_credentials_come_from_required_env_variables() -> None:
    """Grafana's admin user and password use ${VAR:?message}: compose refuses to start without them."""
    env = _environment(SERVICES["grafana"])
    for key, var in [
        ("GF_SECURITY_ADMIN_PASSWORD", "GRAFANA_ADMIN_PASSWORD"),
        ("GF_SECURITY_ADMIN_USER", "GRAFANA_ADMIN_USER"),
    ]:
        match = REQUIRED_VAR.match(env.get(key, ""))
        assert match, f"{key} must be ${{{var}:?message}}, got {env.get(key)!r}"
        assert match.group("name") == var
        assert match.group("message").strip()


def test_every_credential_like_setting_is_a_required_variable() -> None:
    """No service sets a password/secret/token/user in clear: each is a ${VAR:?...} reference."""
    for name, service in SERVICES.items():
        for key, value in _environment(service).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|_USER$|API_KEY", key):
                assert REQUIRED_VAR.match(value), f"{name}: {key}={value!r} is not ${{VAR:?...}}"


def test_env_example_lists_every_required_variable_without_values() -> None:
    """deploy/.env.example names each required variable with an empty value (no default secret)."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):\?", text))
    assert required >= {"GRAFANA_ADMIN_PASSWORD", "GRAFANA_ADMIN_USER"}
    example = (DEPLOY_DIR / ".env.example").read_text(encoding="utf-8")
    assigned = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert required <= set(assigned), f"missing in .env.example: {required - set(assigned)}"
    for var in required:
        assert assigned[var].strip() == "", f".env.example must not ship a value for {var}"
    gitignore = (DEPLOY_DIR / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in gitignore, "deploy/.env holds secrets and must be git-ignored"


def test_no_default_password_in_compose_or_provisioning() -> None:
    """No admin/admin-style literal, weak password value or basic-auth secret in the shipped files."""
    files = [COMPOSE_FILE, DEPLOY_DIR / ".env.example", *sorted(PROVISIONING_DIR.rglob("*.y*ml"))]
    assignment = re.compile(
        r"(?i)(password|passwd|secret|user(?:name)?)[ \t]*[:=][ \t]*['\"]?([^'\"\s#]+)"
    )
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?i)\badmin\s*[:/]\s*admin\b", text), f"{path}: admin/admin"
        for match in assignment.finditer(text):
            key, value = match.group(1).lower(), match.group(2)
            assert value.lower() not in WEAK_SECRETS, f"{path}: {match.group(0)!r}"
            if key in {"password", "passwd", "secret"}:
                assert value.startswith("${"), f"{path}: literal secret {match.group(0)!r}"
    for ds in load_yaml(PROVISIONING_DIR / "datasources" / "datasources.yaml")["datasources"]:
        assert not ds.get("basicAuth"), f"{ds['name']}: basic auth needs a secret; none is shipped"
        assert "secureJsonData" not in ds


def test_grafana_anonymous_access_is_off_or_viewer() -> None:
    """Anonymous Grafana access is disabled, or at most the Viewer role (never Admin/Editor)."""
    env = _environment(SERVICES["grafana"])
    enabled = env.get("GF_AUTH_ANONYMOUS_ENABLED", "false").lower() == "true"
    if enabled:
        assert env.get("GF_AUTH_ANONYMOUS_ORG_ROLE") == "Viewer"
    else:
        assert env.get("GF_AUTH_ANONYMOUS_ENABLED") == "false"
    assert env.get("GF_USERS_ALLOW_SIGN_UP") == "false"


def test_healthchecks_depends_on_and_restart_policies() -> None:
    """Services with a shell have healthchecks; depends_on waits for healthy; all restart."""
    for name, service in SERVICES.items():
        assert service.get("restart") in {"unless-stopped", "always", "on-failure"}, name
        if name != "otel-collector":  # FROM scratch image: no shell, no wget
            test = service.get("healthcheck", {}).get("test")
            assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name}: no healthcheck"
        for dep, cond in service.get("depends_on", {}).items():
            assert dep in SERVICES, f"{name} depends on unknown {dep}"
            assert cond.get("condition") == "service_healthy", f"{name} -> {dep}"
            assert "healthcheck" in SERVICES[dep], f"{dep} has no healthcheck to wait for"
    assert set(SERVICES["otel-collector"]["depends_on"]) == {"jaeger", "prometheus"}
    assert set(SERVICES["grafana"]["depends_on"]) == {"jaeger", "prometheus"}


def test_collector_has_a_memory_limit_matching_memory_limiter() -> None:
    """The collector container has a memory limit above memory_limiter's hard limit."""
    limit = SERVICES["otel-collector"]["deploy"]["resources"]["limits"]["memory"]
    match = re.fullmatch(r"(\d+)([MG])", str(limit))
    assert match, limit
    limit_mib = int(match.group(1)) * (1024 if match.group(2) == "G" else 1)
    limiter = load_yaml(DEPLOY_DIR / "otel-collector.yaml")["processors"]["memory_limiter"]
    assert limiter["limit_mib"] < limit_mib


def test_volumes_are_named_and_bind_mounts_exist() -> None:
    """Data lives in declared named volumes; every bind-mounted file or folder exists in deploy/."""
    declared = set(COMPOSE.get("volumes", {}))
    used_named = set()
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY_DIR / source).exists(), f"{name}: {source} missing"
            else:
                assert source in declared, f"{name}: volume {source} not declared"
                used_named.add(source)
    assert used_named == declared == {"prometheus-data", "grafana-data"}


def test_prometheus_runs_the_otlp_receiver_and_grafana_mounts_our_files() -> None:
    """Prometheus enables --web.enable-otlp-receiver; Grafana mounts provisioning + dashboards."""
    command = SERVICES["prometheus"]["command"]
    assert "--web.enable-otlp-receiver" in command
    assert "--config.file=/etc/prometheus/prometheus.yml" in command
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in SERVICES["prometheus"]["volumes"]
    grafana_volumes = SERVICES["grafana"]["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in grafana_volumes
    providers = load_yaml(PROVISIONING_DIR / "dashboards" / "dashboards.yaml")["providers"]
    for provider in providers:
        assert f"./grafana/dashboards:{provider['options']['path']}:ro" in grafana_volumes
    home = _environment(SERVICES["grafana"])["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{providers[0]['options']['path']}/llm-overview.json"
