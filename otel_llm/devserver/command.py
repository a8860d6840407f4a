"""Command line for the model server (``python -m otel_llm.devserver``, ``otel-llm serve-model``).

The first stdout line is the base URL, flushed at once, so a parent process can
start the server on port 0 and read where it landed. SIGTERM and SIGINT stop it
cleanly with exit status 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from otel_llm.devserver.server import ModelServer
from otel_llm.devserver.usage import warm_up

__all__ = ["build_parser", "main"]


def build_parser(prog: str = "python -m otel_llm.devserver") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve an OpenAI-compatible model on loopback: scripted answers, "
        "streaming, tool calls, error injection, or replay of recorded traffic.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--chunk-delay", type=float, default=0.0, metavar="SECONDS",
        help="pause between streamed chunks (default: none)",
    )
    parser.add_argument(
        "--replay", action="append", metavar="NAME",
        help="serve this recording (repeatable; 'all' for every recording)",
    )
    parser.add_argument(
        "--context-window", type=int, default=128_000, metavar="TOKENS",
        help="longer prompts get 400 context_length_exceeded (default: %(default)s)",
    )
    parser.add_argument("--api-key", help="reject other keys with 401 (default: accept any)")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    args = build_parser(prog or "python -m otel_llm.devserver").parse_args(argv)
    try:
        server = ModelServer(
            args.host,
            args.port,
            chunk_delay=args.chunk_delay,
            replay=args.replay,
            context_window=args.context_window,
            api_key=args.api_key,
            verbose=args.verbose,
        )
        warm_up()  # so the first request a benchmark times is not the one loading encodings
        server.start()
    except OSError as exc:
        print(f"devserver: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(server.url, flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
