"""deploy/prometheus.yml: promtool (Debian's Prometheus 2.42) plus checks of the Prometheus 3 `otlp:` block."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml
from deploy_support import PROMETHEUS_CONFIG, PROMTOOL_HINT, load_yaml, prometheus_label

from otel_llm import semconv

CONFIG = load_yaml(PROMETHEUS_CONFIG)
#: Keys of the `otlp:` block in Prometheus 3 (configuration reference).
KNOWN_OTLP_KEYS = {
    "promote_resource_attributes",
    "promote_all_resource_attributes",
    "ignore_resource_attributes",
    "translation_strategy",
    "keep_identifying_resource_attributes",
    "convert_histograms_to_nhcb",
    "promote_scope_metadata",
}


def test_promtool_accepts_the_config_without_the_prometheus3_otlp_block(tmp_path: Path) -> None:
    """`promtool check config` passes on deploy/prometheus.yml minus `otlp:` (2.42 rejects that key)."""
    promtool = shutil.which("promtool")
    assert promtool, f"promtool not found on PATH; {PROMTOOL_HINT}"
    stripped = {key: value for key, value in CONFIG.items() if key != "otlp"}
    copy = tmp_path / "prometheus.yml"
    copy.write_text(yaml.safe_dump(stripped, sort_keys=False), encoding="utf-8")
    proc = subprocess.run(
        [promtool, "check", "config", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout + proc.stderr


def test_promtool_really_rejects_a_broken_config(tmp_path: Path) -> None:
    """The promtool check can fail: an unknown top-level key is reported as an error."""
    promtool = shutil.which("promtool")
    assert promtool, f"promtool not found on PATH; {PROMTOOL_HINT}"
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "global:\n  scrape_interval: 15s\nnot_a_prometheus_key: 1\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [promtool, "check", "config", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0


def test_otlp_block_promotes_service_name_with_classic_translation() -> None:
    """`otlp:` uses only known keys, promotes service.name and keeps classic suffixed names."""
    otlp = CONFIG["otlp"]
    assert set(otlp) <= KNOWN_OTLP_KEYS, set(otlp) - KNOWN_OTLP_KEYS
    promoted = otlp["promote_resource_attributes"]
    assert "service.name" in promoted
    assert len(promoted) == len(set(promoted))
    assert not otlp.get("promote_all_resource_attributes", False)
    # The names in otel_llm.semconv.PROMETHEUS_NAMES (dots -> "_", "_seconds", "_USD")
    # are those of this strategy; NoTranslation/NoUTF8Escaping* would break every panel.
    assert otlp["translation_strategy"] == "UnderscoreEscapingWithSuffixes"
    assert semconv.PROMETHEUS_NAMES[semconv.METRIC_COST].endswith("_USD")
    # No promoted attribute collides with a metric attribute's label.
    metric_labels = {prometheus_label(a) for a in semconv.METRIC_ATTRIBUTES}
    assert not {prometheus_label(a) for a in promoted} & metric_labels


def test_out_of_order_window_and_collector_scrape() -> None:
    """OTLP pushes may arrive out of order (window set); the collector's own metrics are scraped."""
    assert CONFIG["storage"]["tsdb"]["out_of_order_time_window"]
    targets = {
        target
        for job in CONFIG["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    assert "otel-collector:8888" in targets
    collector = load_yaml(PROMETHEUS_CONFIG.parent / "otel-collector.yaml")
    reader = collector["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    assert reader["prometheus"]["port"] == 8888
    assert reader["prometheus"]["host"] == "0.0.0.0"
