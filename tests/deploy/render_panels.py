"""Render the "LLM overview" dashboard's panels from a live Prometheus into PNGs.

The check a person would do in Grafana, without Grafana: resolve the template
variables the way Grafana does (``label_values``; "All" models = ``allValue``),
run every panel query against Prometheus' HTTP API and draw each panel
(timeseries, stat, bar gauge, table) with matplotlib's Agg backend.

Output in ``--out`` (default ``build/dashboard/``): one ``panel-<id>-<slug>.png``
per panel, ``overview.png`` laid out on the dashboard grid, and
``summary.json`` (per panel: series and finite points found). Exit status 1 if
any Prometheus panel came back empty.

Against a running Prometheus::

    python tests/deploy/render_panels.py --prometheus http://127.0.0.1:9090 --service my-app

Self-contained (starts tests/deploy/workload.py and Debian's Prometheus, lets
the workload run for 180 s, renders, stops both)::

    python tests/deploy/render_panels.py --start-stack 180 --rate-interval 30s
    cp build/dashboard/overview.png deploy/img/llm-overview.png
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / "otel-llm-mpl"))

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from deploy_support import (
    BUILD_DIR,
    DASHBOARD_FILE,
    LiveStack,
    PrometheusAPI,
    iter_panels,
    load_dashboard,
    panel_targets,
    parse_label_values,
    query_variables,
    substitute,
    variable_query,
)
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import FuncFormatter

BG = "#111217"
PANEL_BG = "#181b1f"
BORDER = "#2c3235"
TEXT = "#ccccdc"
MUTED = "#8e8e9e"
PALETTE = [
    "#73BF69",
    "#F2CC0C",
    "#8AB8FF",
    "#FF780A",
    "#F2495C",
    "#5794F2",
    "#B877D9",
    "#FADE2A",
    "#37872D",
    "#C4162A",
]
COL_IN = 20 / 24  # inches per grid column in the overview
ROW_IN = COL_IN * 0.42  # inches per grid row (Grafana: 30 px rows, ~70 px columns)


# --- value formatting -----------------------------------------------------------------


def _si(value: float) -> str:
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}"


def format_value(value: float | None, unit: str | None, decimals: int | None = None) -> str:
    if value is None or not math.isfinite(value):
        return "No data"
    if unit == "percentunit":
        return f"{value * 100:.{1 if decimals is None else decimals}f}%"
    if unit == "currencyUSD":
        places = decimals if decimals is not None else (2 if abs(value) >= 1 else 4)
        return f"${value:,.{places}f}"
    if unit == "s":
        if abs(value) < 1:
            return f"{value * 1000:.{0 if decimals is None else max(decimals - 2, 0)}f} ms"
        return f"{value:.{2 if decimals is None else decimals}f} s"
    if unit == "reqps":
        return f"{value:.{2 if decimals is None else decimals}f} req/s"
    if decimals is not None and abs(value) < 1000:
        return f"{value:.{decimals}f}"
    return _si(value)


def _axis_formatter(unit: str | None) -> FuncFormatter:
    def fmt(value: float, _pos: int) -> str:
        if unit == "percentunit":
            return f"{value * 100:.0f}%"
        if unit == "currencyUSD":
            return f"${value:.3g}"
        if unit == "s":
            return f"{value * 1000:.0f} ms" if abs(value) < 1 else f"{value:.3g} s"
        return _si(value)

    return FuncFormatter(fmt)


# --- data ------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    labels: dict[str, str]
    times: list[float]
    values: list[float]


@dataclass
class PanelData:
    panel: dict[str, Any]
    series: list[Series] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # tables
    columns: list[str] = field(default_factory=list)
    note: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def finite_points(self) -> int:
        points = sum(1 for s in self.series for v in s.values if math.isfinite(v))
        cells = sum(
            1
            for row in self.rows
            for v in row.values()
            if isinstance(v, float) and math.isfinite(v)
        )
        return points + cells


def legend_name(fmt: str | None, labels: Mapping[str, str], expr: str) -> str:
    if fmt and fmt != "__auto":
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), fmt).strip()
    shown = {k: v for k, v in labels.items() if k != "__name__"}
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or expr[:60]


def resolve_variables(
    api: PrometheusAPI, dashboard: Mapping[str, Any], service: str | None
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Template variable values as Grafana would set them (first service, all models)."""
    values: dict[str, str] = {}
    options: dict[str, list[str]] = {}
    for var in query_variables(dashboard):
        selector, label = parse_label_values(substitute(variable_query(var), values))
        found = sorted(api.label_values(label, selector))
        options[var["name"]] = found
        if var["name"] == "service" and service:
            chosen = service
        elif var.get("includeAll") and var.get("allValue"):
            chosen = var["allValue"]
        elif found:
            chosen = found[0]
        else:
            raise RuntimeError(f"variable {var['name']}: label_values returned nothing")
        values[var["name"]] = chosen
    return values, options


def fetch_panel(
    api: PrometheusAPI,
    dashboard: Mapping[str, Any],
    panel: dict[str, Any],
    values: Mapping[str, str],
    start: float,
    end: float,
    step: float,
) -> PanelData:
    data = PanelData(panel)
    if panel["type"] == "row":
        return data
    if panel_targets(panel, dashboard, "jaeger"):
        (target,) = panel_targets(panel, dashboard, "jaeger")
        data.note = (
            f"Jaeger search: service={substitute(target['service'], values)}, "
            + (f"tags {target['tags']}, " if target.get("tags") else "")
            + f"limit {target.get('limit', 20)}\n(rendered by Grafana's Jaeger data source; "
            "not queryable without Jaeger)"
        )
        return data
    for target in panel_targets(panel, dashboard, "prometheus"):
        expr = substitute(target["expr"], values)
        instant = target.get("instant") and not target.get("range")
        body = api.query(expr, end) if instant else api.query_range(expr, start, end, step)
        if body.get("status") != "success":
            data.errors.append(f"{target['refId']}: {body.get('error')}")
            continue
        for item in body["data"]["result"]:
            labels = item.get("metric", {})
            points = item.get("values") or [item["value"]]
            data.series.append(
                Series(
                    name=legend_name(target.get("legendFormat"), labels, expr),
                    labels={**labels, "__refId": target["refId"]},
                    times=[float(t) for t, _ in points],
                    values=[float(v) for _, v in points],
                )
            )
    if panel["type"] == "table":
        _build_table(data)
    return data


def _build_table(data: PanelData) -> None:
    """merge + organize + sortBy transformations of the dashboard's table panel."""
    panel = data.panel
    merged: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for series in data.series:
        labels = {k: v for k, v in series.labels.items() if not k.startswith("__")}
        key = tuple(sorted(labels.items()))
        row = merged.setdefault(key, dict(labels))
        row[f"Value #{series.labels['__refId']}"] = series.values[-1]
    organize: dict[str, Any] = {}
    sort_field, sort_desc = None, True
    for transformation in panel.get("transformations", []):
        if transformation["id"] == "organize":
            organize = transformation["options"]
        if transformation["id"] == "sortBy":
            spec = transformation["options"]["sort"][0]
            sort_field, sort_desc = spec["field"], spec.get("desc", False)
    order = organize.get("indexByName", {})
    rename = organize.get("renameByName", {})
    columns = sorted({c for row in merged.values() for c in row}, key=lambda c: order.get(c, 99))
    data.columns = [rename.get(c, c) for c in columns]
    data.rows = [{rename.get(c, c): row.get(c) for c in columns} for row in merged.values()]
    if sort_field:
        data.rows.sort(key=lambda r: r.get(sort_field) or 0.0, reverse=sort_desc)


# --- drawing ------------------------------------------------------------------------------


def _unit(panel: Mapping[str, Any]) -> str | None:
    unit: str | None = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
    return unit


def _style_axes(ax: Any) -> None:
    ax.set_facecolor(PANEL_BG)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(colors=MUTED, labelsize=7, length=0)
    ax.grid(True, color=BORDER, linewidth=0.6)


def _draw_timeseries(ax: Any, data: PanelData) -> None:
    panel = data.panel
    unit = _unit(panel)
    defaults = panel["fieldConfig"]["defaults"]
    stacked = defaults.get("custom", {}).get("stacking", {}).get("mode", "none") != "none"
    _style_axes(ax)
    base: list[float] | None = None
    for i, series in enumerate(data.series):
        color = PALETTE[i % len(PALETTE)]
        times = [datetime.fromtimestamp(t) for t in series.times]
        ys = [v if math.isfinite(v) else float("nan") for v in series.values]
        if stacked:
            lower = base if base and len(base) == len(ys) else [0.0] * len(ys)
            upper = [a + (b if math.isfinite(b) else 0.0) for a, b in zip(lower, ys, strict=True)]
            ax.fill_between(times, lower, upper, color=color, alpha=0.35, linewidth=0)
            ax.plot(times, upper, color=color, linewidth=1.2, label=series.name)
            base = upper
        else:
            ax.plot(times, ys, color=color, linewidth=1.2, label=series.name)
            ax.fill_between(times, ys, color=color, alpha=0.08, linewidth=0)
    ax.yaxis.set_major_formatter(_axis_formatter(unit))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    if "max" in defaults:
        ax.set_ylim(0, defaults["max"] * 1.02)
    else:
        finite = [v for s in data.series for v in s.values if math.isfinite(v)]
        peak = (base and max(base)) if stacked else (max(finite) if finite else 0.0)
        # headroom above the lines for the legend (Grafana puts it under the graph)
        ax.set_ylim(0, (peak or 1.0) * (1.25 + 0.09 * min(len(data.series), 6)))
    if data.series:
        legend = ax.legend(
            loc="upper left", fontsize=6.5, frameon=True, ncol=2 if len(data.series) > 3 else 1
        )
        legend.get_frame().set_facecolor(PANEL_BG)
        legend.get_frame().set_edgecolor(BORDER)
        for text in legend.get_texts():
            text.set_color(TEXT)


def _draw_stat(ax: Any, data: PanelData) -> None:
    panel = data.panel
    defaults = panel["fieldConfig"]["defaults"]
    ax.set_facecolor(PANEL_BG)
    ax.set_axis_off()
    series = data.series[0] if data.series else None
    finite = [v for v in series.values if math.isfinite(v)] if series else []
    value = finite[-1] if finite else None
    color = PALETTE[0]
    for step in defaults.get("thresholds", {}).get("steps", []):
        if value is not None and (step["value"] is None or value >= step["value"]):
            color = {"green": "#73BF69", "orange": "#FF9830", "red": "#F2495C"}.get(
                step["color"], step["color"]
            )
    if series and finite:
        xs = list(range(len(series.values)))
        ys = [v if math.isfinite(v) else float("nan") for v in series.values]
        ax.fill_between(xs, ys, color=color, alpha=0.18, linewidth=0)
        ax.plot(xs, ys, color=color, alpha=0.6, linewidth=1)
        top = max(finite)
        ax.set_ylim(0, top * 1.9 if top > 0 else 1)
    ax.text(
        0.5,
        0.62,
        format_value(value, defaults.get("unit"), defaults.get("decimals")),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=17,
        color=color,
        fontweight="bold",
    )


def _draw_bargauge(ax: Any, data: PanelData) -> None:
    unit = _unit(data.panel)
    decimals = data.panel["fieldConfig"]["defaults"].get("decimals")
    _style_axes(ax)
    ax.grid(False)
    items = [(s.name, s.values[-1]) for s in data.series if s.values]
    items.sort(key=lambda it: it[1])
    names = [n for n, _ in items]
    vals = [v for _, v in items]
    colors = [PALETTE[(len(items) - 1 - i) % len(PALETTE)] for i in range(len(items))]
    ax.barh(names, vals, color=colors, alpha=0.85, height=0.55)
    for i, v in enumerate(vals):
        ax.text(v, i, "  " + format_value(v, unit, decimals), va="center", color=TEXT, fontsize=8)
    ax.xaxis.set_major_formatter(_axis_formatter(unit))
    ax.tick_params(axis="y", labelsize=8, labelcolor=TEXT)
    if vals:
        ax.set_xlim(0, max(vals) * 1.35 or 1)


def _draw_table(ax: Any, data: PanelData) -> None:
    ax.set_facecolor(PANEL_BG)
    ax.set_axis_off()
    if data.note:
        ax.text(
            0.5,
            0.5,
            data.note,
            transform=ax.transAxes,
            ha="center",
            va="center",
            color=MUTED,
            fontsize=9,
            style="italic",
        )
        return
    units = {}
    for override in data.panel.get("fieldConfig", {}).get("overrides", []):
        props = {p["id"]: p["value"] for p in override["properties"]}
        units[override["matcher"]["options"]] = (props.get("unit"), props.get("decimals"))
    cells = []
    for row in data.rows:
        out = []
        for column in data.columns:
            value = row.get(column)
            if isinstance(value, float):
                unit, decimals = units.get(column, (None, None))
                out.append(format_value(value, unit, decimals))
            else:
                out.append("" if value is None else str(value))
        cells.append(out)
    if not cells:
        ax.text(0.5, 0.5, "No data", transform=ax.transAxes, ha="center", color=MUTED)
        return
    table = ax.table(
        cellText=cells,
        colLabels=data.columns,
        loc="upper center",
        cellLoc="left",
        colLoc="left",
        bbox=[0, 1 - min(1.0, 0.16 * (len(cells) + 1)), 1, min(1.0, 0.16 * (len(cells) + 1))],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor(BORDER)
        cell.set_facecolor("#22252b" if r == 0 else PANEL_BG)
        cell.get_text().set_color("#6e9fff" if r > 0 and c == 0 else TEXT)
        if r == 0:
            cell.get_text().set_fontweight("bold")


DRAWERS: dict[str, Callable[[Any, PanelData], None]] = {
    "timeseries": _draw_timeseries,
    "stat": _draw_stat,
    "bargauge": _draw_bargauge,
    "table": _draw_table,
}


def draw_panel(fig: Figure, rect: Sequence[float], data: PanelData) -> None:
    """Draw one panel (frame, title, content) into ``rect`` = (x, y, w, h) in figure fraction."""
    x, y, w, h = rect
    panel = data.panel
    fig_w, fig_h = fig.get_size_inches()
    if panel["type"] == "row":
        fig.text(
            x + 0.004,
            y + h / 2,
            panel["title"],
            color=TEXT,
            fontsize=11,
            fontweight="bold",
            va="center",
        )
        return
    pad_x, pad_y = 0.04 / fig_w, 0.04 / fig_h
    fig.patches.append(
        FancyBboxPatch(
            (x + pad_x, y + pad_y),
            w - 2 * pad_x,
            h - 2 * pad_y,
            boxstyle="round,pad=0,rounding_size=0.002",
            transform=fig.transFigure,
            facecolor=PANEL_BG,
            edgecolor=BORDER,
            linewidth=0.8,
            zorder=-1,
        )
    )
    title_h = 0.28 / fig_h
    fig.text(
        x + pad_x + 0.08 / fig_w,
        y + h - pad_y - title_h / 2,
        panel["title"],
        color=TEXT,
        fontsize=9,
        fontweight="bold",
        va="center",
    )
    inner_left = 0.55 / fig_w if panel["type"] in {"timeseries"} else 0.12 / fig_w
    if panel["type"] == "bargauge":
        inner_left = 1.1 / fig_w
    bottom = 0.3 / fig_h if panel["type"] in {"timeseries", "bargauge"} else 0.08 / fig_h
    ax = fig.add_axes(
        (
            x + pad_x + inner_left,
            y + pad_y + bottom,
            max(w - 2 * pad_x - inner_left - 0.12 / fig_w, 0.01),
            max(h - 2 * pad_y - title_h - bottom - 0.04 / fig_h, 0.01),
        )
    )
    if data.errors:
        ax.set_axis_off()
        ax.text(
            0.5,
            0.5,
            "\n".join(data.errors),
            color="#F2495C",
            ha="center",
            va="center",
            fontsize=7,
            wrap=True,
            transform=ax.transAxes,
        )
        return
    DRAWERS.get(panel["type"], _draw_table)(ax, data)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def render(
    api: PrometheusAPI,
    out_dir: Path,
    *,
    service: str | None,
    range_seconds: float,
    rate_interval: str,
    step: float,
    dashboard_path: Path = DASHBOARD_FILE,
) -> dict[str, Any]:
    dashboard = load_dashboard(dashboard_path)
    values, options = resolve_variables(api, dashboard, service)
    end = time.time()
    start = end - range_seconds
    values.update(
        {
            "__rate_interval": rate_interval,
            "__range": f"{int(range_seconds)}s",
            "__interval": f"{step:g}s",
        }
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("panel-*.png"):
        old.unlink()
    panels = [
        fetch_panel(api, dashboard, p, values, start, end, step) for p in iter_panels(dashboard)
    ]

    summary: dict[str, Any] = {
        "dashboard": dashboard["title"],
        "variables": {k: v for k, v in values.items() if not k.startswith("__")},
        "variable_options": options,
        "window": {"start": start, "end": end, "step": step, "rate_interval": rate_interval},
        "panels": [],
    }
    plt.rcParams.update({"font.family": "DejaVu Sans"})
    for data in panels:
        panel = data.panel
        if panel["type"] == "row":
            continue
        grid = panel["gridPos"]
        scale = 1.6
        fig = plt.figure(
            figsize=(grid["w"] * COL_IN * scale, max(grid["h"], 5) * ROW_IN * scale), facecolor=BG
        )
        draw_panel(fig, (0, 0, 1, 1), data)
        path = out_dir / f"panel-{panel['id']:02d}-{_slug(panel['title'])}.png"
        fig.savefig(path, dpi=110, facecolor=BG)
        plt.close(fig)
        is_prometheus = bool(panel_targets(panel, dashboard, "prometheus"))
        summary["panels"].append(
            {
                "id": panel["id"],
                "title": panel["title"],
                "type": panel["type"],
                "prometheus": is_prometheus,
                "series": len(data.series),
                "finite_points": data.finite_points,
                "errors": data.errors,
                "file": path.name,
            }
        )

    total_rows = max(p.panel["gridPos"]["y"] + p.panel["gridPos"]["h"] for p in panels)
    header_in = 0.7
    fig_w, fig_h = 24 * COL_IN, total_rows * ROW_IN + header_in
    fig = plt.figure(figsize=(fig_w, fig_h), facecolor=BG)
    variables = "   ".join(f"{k}: {v}" for k, v in summary["variables"].items())
    fig.text(
        0.008,
        1 - 0.3 / fig_h,
        f"{dashboard['title']}",
        color=TEXT,
        fontsize=15,
        fontweight="bold",
        va="center",
    )
    fig.text(
        0.2,
        1 - 0.3 / fig_h,
        f"{variables}   |   last {int(range_seconds)} s, rate interval {rate_interval}",
        color=MUTED,
        fontsize=9,
        va="center",
    )
    for data in panels:
        grid = data.panel["gridPos"]
        rect = (
            grid["x"] / 24,
            1 - (header_in + (grid["y"] + grid["h"]) * ROW_IN) / fig_h,
            grid["w"] / 24,
            grid["h"] * ROW_IN / fig_h,
        )
        draw_panel(fig, rect, data)
    fig.savefig(out_dir / "overview.png", dpi=100, facecolor=BG)
    plt.close(fig)
    summary["overview"] = "overview.png"
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prometheus", help="base URL of a Prometheus holding the workload data")
    source.add_argument(
        "--start-stack",
        type=float,
        metavar="SECONDS",
        help="start workload + Debian Prometheus, collect for SECONDS, render",
    )
    parser.add_argument("--service", help="value for $service (default: first found)")
    parser.add_argument(
        "--range",
        type=float,
        default=None,
        dest="range_seconds",
        help="time range in seconds (default: 60, or the --start-stack duration)",
    )
    parser.add_argument("--rate-interval", default="10s", help="value for $__rate_interval")
    parser.add_argument("--step", type=float, default=None, help="query_range step in seconds")
    parser.add_argument("--out", type=Path, default=BUILD_DIR, help="output folder")
    parser.add_argument("--dashboard", type=Path, default=DASHBOARD_FILE)
    args = parser.parse_args(argv)

    stack = None
    try:
        if args.start_stack is not None:
            stack = LiveStack(service="my-llm-app").start()
            stack.wait_for_scrapes(scrapes=3)
            time.sleep(max(args.start_stack - 3, 0))
            api, service = stack.api, args.service or stack.service
            range_seconds = args.range_seconds or args.start_stack
        else:
            api, service = PrometheusAPI(args.prometheus), args.service
            range_seconds = args.range_seconds or 60.0
        step = args.step or max(1.0, round(range_seconds / 240))
        summary = render(
            api,
            args.out,
            service=service,
            range_seconds=range_seconds,
            rate_interval=args.rate_interval,
            step=step,
            dashboard_path=args.dashboard,
        )
    finally:
        if stack is not None:
            stack.stop()

    empty = [p["title"] for p in summary["panels"] if p["prometheus"] and not p["finite_points"]]
    print(f"rendered {len(summary['panels'])} panels + overview.png into {args.out}")
    if empty:
        print("panels without data: " + ", ".join(empty), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
