"""The ``otel-llm`` command: ``demo`` and ``serve-model``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="otel-llm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the seed's scenarios against the embedded model")
    sub.add_parser("serve-model", add_help=False,
                   help="run the embedded OpenAI-compatible model server (see --help)")
    if args[:1] == ["serve-model"]:
        from otel_llm.devserver import main as serve

        return serve(args[1:], prog="otel-llm serve-model")
    parsed = parser.parse_args(args)
    if parsed.command == "demo":
        from otel_llm.demo import run_demo

        return run_demo()
    return 2  # unreachable: argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
