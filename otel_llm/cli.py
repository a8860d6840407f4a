"""The ``otel-llm`` command."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="otel-llm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the seed's scenarios against the embedded model")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from otel_llm.demo import run_demo

        return run_demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
