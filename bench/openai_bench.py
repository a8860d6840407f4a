"""OpenAI SDK instrumentation cost: client CPU per call, instrumented vs uninstrumented.

The model server runs in another process (``python -m otel_llm.devserver --port 0``),
so ``time.process_time()`` in this process is the client's CPU only: the SDK,
its HTTP client, our instrumentation and the handler. The handler is the
``OpenTelemetryCallbackHandler`` bound to SDK tracer and meter providers that
keep everything in memory (``InMemoryTelemetry``: synchronous span export),
i.e. spans and metrics are really produced.

Contenders, alternated within each round (global instrumentation is switched on
and off between batches, outside the timed region):

- ``non-streamed``: ``chat.completions.create`` (a 20-word reply);
- ``streamed``: 200 content chunks (``gpt-4o-mini+len=200``); instrumented, the
  stream is asked for usage (the devserver is recognised) and the extra usage
  chunk is parsed by the SDK and hidden;
- ``streamed, estimated``: the same with ``stream_usage=False``, so prompt and
  completion tokens are counted locally with tiktoken at the end of each call;
- ``... layer only``: the instrumentation with a handler that only listens to
  tokens and ends (no OpenTelemetry), to separate this layer's cost from the
  OpenTelemetry handler's.

Ratios are medians over rounds of (instrumented CPU / uninstrumented CPU) for
the same kind of call.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import openai

from bench._stats import interleaved, median_spread, table
from otel_llm.callbacks import BaseCallbackHandler
from otel_llm.instrumentation.openai import instrument_openai, uninstrument_openai
from otel_llm.testing.otel import InMemoryTelemetry

NON_STREAMED_CALLS = 60
STREAMED_CALLS = 12
MESSAGES = [{"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Tell me about OpenTelemetry."}]


class _Listener(BaseCallbackHandler):
    """Receives every event an SDK call produces and does nothing with it."""

    run_inline = True

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        pass

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        pass

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def _server() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "otel_llm.devserver", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"devserver did not start: {url!r}")
        yield url + "/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def _batch(client: openai.OpenAI, stream: bool, calls: int, setup: Callable[[], None]
           ) -> Callable[[], float]:
    def go() -> float:
        setup()
        t0 = time.process_time()
        for _ in range(calls):
            if stream:
                for _chunk in client.chat.completions.create(
                        model="gpt-4o-mini+len=200", messages=MESSAGES, stream=True):
                    pass
            else:
                client.chat.completions.create(model="gpt-4o-mini+len=20", messages=MESSAGES)
        return (time.process_time() - t0) / calls

    return go


def run(rounds: int = 5) -> dict[str, Any]:
    with _server() as url, InMemoryTelemetry() as otel, openai.OpenAI(
            base_url=url, api_key="sk-test", max_retries=0) as client:
        handler = otel.handler()

        def on(stream_usage: bool, listener: Any = handler) -> Callable[[], None]:
            def setup() -> None:
                otel.clear()
                instrument_openai([listener], stream_usage=stream_usage)
            return setup

        contenders = {
            "non-streamed plain": _batch(client, False, NON_STREAMED_CALLS, uninstrument_openai),
            "non-streamed instrumented": _batch(client, False, NON_STREAMED_CALLS, on(True)),
            "non-streamed layer only": _batch(client, False, NON_STREAMED_CALLS,
                                              on(True, _Listener())),
            "streamed plain": _batch(client, True, STREAMED_CALLS, uninstrument_openai),
            "streamed instrumented": _batch(client, True, STREAMED_CALLS, on(True)),
            "streamed estimated": _batch(client, True, STREAMED_CALLS, on(False)),
            "streamed layer only": _batch(client, True, STREAMED_CALLS, on(True, _Listener())),
        }
        for fn in contenders.values():  # warm up: connections, encodings, first-call imports
            fn()
        times = interleaved(contenders, rounds)
        uninstrument_openai()
        spans = len(otel.spans())

    def ratios(name: str, base: str) -> list[float]:
        return [a / b for a, b in zip(times[name], times[base], strict=True)]

    results: dict[str, Any] = {"rounds": rounds, "spans_last_batch": spans, "contenders": {}}
    for name, values in times.items():
        med, spread = median_spread(values)
        base = "non-streamed plain" if name.startswith("non-streamed") else "streamed plain"
        results["contenders"][name] = {
            "cpu_ms_per_call": med * 1e3,
            "spread": spread,
            "ratio": statistics.median(ratios(name, base)),
        }
    # Issue 4's figure: the same 200-chunk stream with tiktoken estimation vs with
    # provider usage (the usage chunk parsed instead), same handler, same round.
    results["estimation_overhead"] = statistics.median(
        ratios("streamed estimated", "streamed instrumented"))
    return results


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    results = run(rounds)
    rows = [
        [name, f"{r['cpu_ms_per_call']:.3f}", f"±{r['spread'] * 100:.1f}%", f"{r['ratio']:.3f}x"]
        for name, r in results["contenders"].items()
    ]
    print(f"OpenAI SDK instrumentation, client CPU per call ({rounds} rounds; "
          f"{NON_STREAMED_CALLS} non-streamed / {STREAMED_CALLS} streamed calls per batch)")
    print(table(["contender", "CPU ms/call", "spread", "vs plain"], rows))
    print(f"stream-token estimation (tiktoken at stream end) vs provider usage: "
          f"{results['estimation_overhead']:.3f}x")


if __name__ == "__main__":
    main()
