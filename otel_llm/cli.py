"""The ``otel-llm`` command: ``demo`` and ``serve-model``.

Both need optional extras; without them the command prints the ``pip install``
line and exits with status 1 instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys

from otel_llm._extras import require, run_with_hint


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="otel-llm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run the LangChain callbacks tutorial's scenarios on the instrumented OpenAI SDK",
        description="Runs the LangChain callbacks tutorial's scenarios against OPENAI_API_KEY / "
        "OPENAI_BASE_URL (model: OTEL_LLM_DEMO_MODEL) or the embedded model server, and exports "
        "the telemetry over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT, or a collector found on "
        "localhost:4317 with the grpc extra, else localhost:4318; Jaeger links use "
        "OTEL_LLM_JAEGER_URL) or shows it in the terminal. Needs the openai extra.",
    )
    demo.add_argument("--export", choices=("auto", "otlp", "memory"), default="auto",
                      help="where telemetry goes; auto: a collector if configured or found, "
                      "else the terminal (default: auto)")
    demo.add_argument("--no-progress", action="store_true",
                      help="no spinner, even on a terminal")
    sub.add_parser("serve-model", add_help=False,
                   help="run the embedded OpenAI-compatible model server (see --help)")
    if args[:1] == ["serve-model"]:
        return run_with_hint("otel-llm serve-model", lambda: _serve(args[1:]))
    parsed = parser.parse_args(args)
    if parsed.command == "demo":
        return run_with_hint("otel-llm demo", lambda: _demo(parsed))
    return 2  # unreachable: argparse rejects unknown commands


def _serve(args: list[str]) -> int:
    from otel_llm.devserver import main as serve

    return serve(args, prog="otel-llm serve-model")


def _demo(parsed: argparse.Namespace) -> int:
    require("otel-llm demo", "openai")  # the SDK, the tokenizer and an exporter, all or nothing
    from otel_llm.demo import run_demo

    return run_demo(export=parsed.export, progress=False if parsed.no_progress else None)


if __name__ == "__main__":
    sys.exit(main())
