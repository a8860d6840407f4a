"""Runs tests/deploy/render_panels.py against the live Prometheus, as a person would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deploy_support import BUILD_DIR, LiveStack, load_dashboard, panel_targets

# The workload serves its metrics through opentelemetry-exporter-prometheus.
pytestmark = pytest.mark.prometheus

RENDER_SCRIPT = Path(__file__).resolve().parent / "render_panels.py"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_render_panels_writes_one_png_per_panel_and_an_overview(live_stack: LiveStack) -> None:
    """render_panels.py draws every panel with data into build/dashboard/ plus overview.png."""
    since = max(time.time() - live_stack.started_at, 10.0)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [
            sys.executable,
            str(RENDER_SCRIPT),
            "--prometheus",
            live_stack.api.base_url,
            "--service",
            live_stack.service,
            "--range",
            f"{since:.0f}",
            "--rate-interval",
            "10s",
            "--step",
            "1",
            "--out",
            str(BUILD_DIR),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    summary = json.loads((BUILD_DIR / "summary.json").read_text(encoding="utf-8"))
    dashboard = load_dashboard()
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert {p["id"] for p in summary["panels"]} == {p["id"] for p in panels}
    assert summary["variables"]["service"] == live_stack.service
    for entry in summary["panels"]:
        png = BUILD_DIR / entry["file"]
        assert png.read_bytes()[:8] == PNG_MAGIC, png
        assert png.stat().st_size > 5_000, f"{png} looks blank"
        panel = next(p for p in panels if p["id"] == entry["id"])
        if panel_targets(panel, dashboard, "prometheus"):
            assert not entry["errors"], entry
            assert entry["series"] >= 1 and entry["finite_points"] >= 1, entry
    overview = BUILD_DIR / "overview.png"
    assert overview.read_bytes()[:8] == PNG_MAGIC
    assert overview.stat().st_size > 100_000
