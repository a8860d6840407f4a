"""``bench/RESULTS.md``: machine, versions, date, how to reproduce, and every table of a run."""

from __future__ import annotations

from typing import Any

from bench._stats import table
from bench.peers.contenders import CONTENT_OFF_ENV
from bench.peers.report import (
    CALLS_NOTE,
    CALLS_TITLE,
    calls_table,
    correctness_table,
    memory_table,
    overhead_tables,
    summary_table,
    targets,
)
from bench.peers.rss import SAMPLES

__all__ = ["markdown"]

_SHARED = ("openai", "opentelemetry-sdk", "opentelemetry-api", "langchain-core")


def _versions_table(result: dict[str, Any]) -> str:
    rows = []
    for name, info in result["contenders"].items():
        versions = info.get("versions") or {}
        package = info["package"]
        version = versions.get(package, "") if package else ""
        if not info["available"]:
            version = f"unavailable: {info.get('unavailable', '?')}"
        extra = ""
        if "opentelemetry-util-genai" in versions and info["family"] == "official":
            extra = f"util-genai {versions['opentelemetry-util-genai']}"
        rows.append([name, info["label"], f"{package} {version}".strip() or "-",
                     info["venv"], info["content"], "; ".join(x for x in (extra, info["note"])
                                                            if x)])
    return table(["worker", "contender", "package", "venv", "content by default", "notes"],
                 rows)


def _shared_versions(result: dict[str, Any]) -> str:
    seen: dict[str, set[str]] = {}
    for info in result["contenders"].values():
        for name, version in (info.get("versions") or {}).items():
            if name in _SHARED:
                seen.setdefault(name, set()).add(version)
    return ", ".join(f"{n} {'/'.join(sorted(v))}" for n, v in seen.items())


def _usage(u: dict[str, int] | None) -> str:
    return "?" if not u else f"{u['input']} in / {u['output']} out"


def _memory_pace(result: dict[str, Any]) -> str:
    runs = list(result["rss"].values())
    per_call = sum(m["seconds"] for m in runs) / sum(m["calls"] for m in runs)
    return (f"At this run's pace ({per_call * 1e3:.1f} ms per call, client and server on "
            f"the same cores) the default of 100,000 calls takes about "
            f"{per_call * 100_000 / 60:.0f} min per contender.")


def _content_note(result: dict[str, Any]) -> str:
    mode = result["plan"]["content"]
    if mode == "off":
        knobs = "; ".join(f"{fam}: " + ", ".join(f"`{k}={v}`" for k, v in env.items())
                          for fam, env in CONTENT_OFF_ENV.items() if env)
        return f"Message content was switched **off** for every contender ({knobs})."
    return ("Every contender ran with its **defaults**: OpenLLMetry and OpenInference capture "
            "prompts and completions by default (`content by default: on`), otel-llm and the "
            "official instrumentations do not. For a like-for-like comparison those two also "
            "ran as `content off` variants (their documented switches, in the notes column). "
            "`python -m bench --content off` switches content off for every worker.")


def _reference_note(result: dict[str, Any]) -> str:
    names = [f"`{n}` ({info['label']})" for n, info in result["contenders"].items()
             if info.get("reference")]
    if not names:
        return ""
    return (f"{', '.join(names)} is a yardstick, not a peer: `bench/peers/floor.py` wraps "
            "`create` and makes only the OpenTelemetry SDK calls otel-llm's telemetry makes "
            "with its defaults (one span with the same attributes, the same histograms), "
            "nothing else. Its ratio is the lowest otel-llm could reach with the same "
            "telemetry on this SDK; it is not one of the peers to beat and has no "
            "correctness or memory rows.")


def _calls_section(result: dict[str, Any], suite: str) -> list[str]:
    body = calls_table(result, suite)
    return [f"### {CALLS_TITLE}", "", CALLS_NOTE, "", body, ""] if body else []


def markdown(result: dict[str, Any], machine: dict[str, str], plot: str | None,
             command: str) -> str:
    plan, truth = result["plan"], result["truth"]
    lines = [
        "# otel-llm against its peers: overhead, memory, correctness",
        "",
        f"Measured {result['started']} with `{command}` in {result['seconds'] / 60:.0f} min "
        f"(load average {result['load_start'][0]:.1f} at start, "
        f"{result['load_end'][0]:.1f} at end, on a machine shared with other work). "
        "Regenerate with the same command; `python -m bench --quick` is a short smoke run.",
        "",
        "## How to reproduce",
        "",
        "```sh",
        "make bench                         # .venv/bin/python -m bench: full run, rewrites "
        "this file",
        "python -m bench --quick            # smoke run, a few minutes, prints the tables only",
        "python -m bench --rounds 30 --rss-calls 100000 --only openllmetry  # vs one peer",
        "python -m bench --content off      # message content off for every contender",
        "python -m bench --report bench/out/peers-<stamp>.json --write-results  # re-render",
        "```",
        "",
        "The first run creates `build/bench-venv` and `build/bench-venv-openai-v2` "
        "(about a minute, from the package index); later runs reuse them until a file in "
        "`bench/peers/requirements/` or `pyproject.toml` changes. Raw results of every run "
        "are kept as JSON in `bench/out/`.",
        "",
        "## Machine",
        "",
        table(["", ""], [[k, v] for k, v in machine.items()]),
        "",
        "## Contenders",
        "",
        f"Shared by every worker: {_shared_versions(result)}. Pinned in "
        "`bench/peers/requirements/`; each worker is its own process started from its venv "
        "under `build/`, with the same OpenTelemetry SDK set-up (BatchSpanProcessor into a "
        "counting exporter, in-memory metric reader, batch log processor).",
        "",
        _versions_table(result),
        "",
        _content_note(result),
        "",
    ]
    if _reference_note(result):
        lines += [_reference_note(result), ""]
    if plot:
        lines += [f"![CPU per call, ratio to no instrumentation]({plot})", ""]
    lines += ["## Targets (issue #17) for otel-llm in this run", ""]
    lines += [f"- {'met' if ok else '**missed**'}: {text}" for text, ok in targets(result)]
    lines += ["", "## Overhead (OpenAI SDK)", "",
              f"{plan['rounds']} rounds; per round and scenario every contender ran one batch "
              f"({', '.join(f'{k}: {v}' for k, v in plan['units'].items())} units; an async-50 "
              "unit is 50 calls), in an order rotated each round. CPU is the worker's "
              "`time.process_time()` (client only: the model server is another process), wall "
              "is `perf_counter`. Medians over rounds, ± half the inter-quartile range; ratios "
              "are per round to the same round's uninstrumented worker, then the median.", ""]
    if result["rounds"]:
        lines += [summary_table(result, "openai"), ""]
    lines += _calls_section(result, "openai")
    if result["rounds"]:
        for title, body in overhead_tables(result):
            if not title.startswith("LangChain"):
                lines += [f"### {title}", "", body, ""]
    if result["probes"]:
        lines += ["## Correctness (same calls, read from the exported spans and metrics)", "",
                  f"Truth from the server's usage for the same requests: non-streamed "
                  f"{_usage(truth.get('chat'))}, stream {_usage(truth.get('stream'))}. "
                  "Token estimates pass "
                  "within 5 %. Early close: three chunks read, then `close()`. Abandoned: "
                  "three chunks read, the stream dropped without closing, `gc.collect()`. The "
                  "429 is answered by the server (`+error=429`), the client does not retry.",
                  "", correctness_table(result, "openai"), ""]
    if result["rss"]:
        lines += ["## Memory", "",
                  "A fresh worker per contender; every 20 calls: sixteen `chat`, two short "
                  "streams read to the end (with and without usage), one closed after three "
                  "chunks and one abandoned after three chunks. RSS from `/proc/self/statm` "
                  f"after `gc.collect()` at {SAMPLES} points; growth from the end of the "
                  "warm-up (first tenth) to the end; peak is `ru_maxrss`. "
                  f"{_memory_pace(result)}", "", memory_table(result), ""]
    if any(info["suite"] == "langchain" for info in result["contenders"].values()):
        lines += ["## LangChain (issue #7)", "",
                  "`ChatPromptTemplate | GenericFakeChatModel | StrOutputParser`, no network; "
                  "the fake model returns usage_metadata. CPU per chain run, ratios to no "
                  "instrumentation in the same round.", "", summary_table(result, "langchain"),
                  ""]
        lines += _calls_section(result, "langchain")
        for title, body in overhead_tables(result):
            if title.startswith("LangChain"):
                lines += [f"### {title}", "", body, ""]
        body = correctness_table(result, "langchain")
        if body:
            lines += ["### What each produces for one run", "", body, ""]
    return "\n".join(lines)
