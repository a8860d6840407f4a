"""The ratios as a picture: client CPU per call / no instrumentation, per scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.peers.contenders import BASELINE
from bench.peers.report import SCENARIO_TITLES, figures

__all__ = ["plot_ratios"]

_COLOURS = {"otel-llm": "#2b8a3e", "otel-llm-estimate": "#8ce99a",
            "openllmetry": "#1971c2", "openllmetry-nocontent": "#74c0fc",
            "openinference": "#e8590c", "openinference-nocontent": "#ffa94d",
            "otel-genai-openai": "#7048e8", "otel-openai-v2": "#b197fc", "otel-genai": "#7048e8",
            "sdk-floor": "#343a40"}


def plot_ratios(result: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = figures(result)
    suites = [s for s in ("openai", "langchain")  # suites with something to compare
              if any(result["contenders"][n]["suite"] == s and n != BASELINE[s]
                     for sc in figs for n in figs[sc])]
    fig, axes = plt.subplots(len(suites), 1, figsize=(13, 4.6 * len(suites)), squeeze=False)
    for ax, suite in zip(axes[:, 0], suites, strict=True):
        scenarios = [sc for sc in figs if _suite_of(result, figs[sc]) == suite]
        names = [n for n, info in result["contenders"].items()
                 if info["suite"] == suite and n != BASELINE[suite]
                 and any(n in figs[sc] for sc in scenarios)]
        bar = 0.8 / max(1, len(names))
        for i, name in enumerate(names):
            xs, ys, errs = [], [], []
            for j, sc in enumerate(scenarios):
                f = figs[sc].get(name)
                if f is None or f["cpu"].ratio is None:
                    continue
                xs.append(j - 0.4 + bar * (i + 0.5))
                ys.append(f["cpu"].ratio)
                errs.append(f["cpu"].ratio_spread)
            bars = ax.bar(xs, ys, bar, yerr=errs, capsize=2,
                          label=result["contenders"][name]["label"],
                          color=_COLOURS.get(name.removeprefix("lc-"), "#868e96"))
            ax.bar_label(bars, labels=[f"{y:.2f}" for y in ys], fontsize=6, padding=1)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(scenarios)))
        ax.set_xticklabels([SCENARIO_TITLES.get(sc, sc).split(" (")[0].replace(", ", ",\n")
                            for sc in scenarios], fontsize=8)
        low = min([1.0, *(f["cpu"].ratio or 1.0 for sc in scenarios for f in figs[sc].values())])
        ax.set_ylim(bottom=max(0.0, low - 0.1))
        ax.set_ylabel("client CPU per call / no instrumentation")
        ax.set_title("OpenAI SDK" if suite == "openai" else "LangChain chain (fake model)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"Overhead vs no instrumentation, median of {result['plan']['rounds']} "
                 f"interleaved rounds (bars: half IQR), {result['started'][:10]}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _suite_of(result: dict[str, Any], by_name: dict[str, Any]) -> str:
    return str(result["contenders"][next(iter(by_name))]["suite"])
