"""Workload for the live dashboard test (tests/deploy/test_dashboard_live.py).

The metrics are otel-llm's real output: the real ``openai`` SDK, wrapped with
``otel_llm.instrumentation.openai.wrap_openai`` and an
``otel_llm.OpenTelemetryCallbackHandler``, calls the embedded model server
(``otel_llm.devserver.ModelServer``) over loopback HTTP. Each round, for two
priced models: a chat, a stream with provider usage, a stream without usage
(tokens counted with tiktoken, ``otel_llm.usage.estimated=true``) and, on a
schedule, failed calls (429, a client timeout, a stream cut mid-way) whose SDK
exceptions the workload catches, as an application would. Each round runs in an
``otel_llm.attributes()`` block (a conversation id, a user id and an ``app.feature``
in turn); only ``app.feature`` is allow-listed as a metric attribute, so the
per-feature panels have data and the ids never reach Prometheus. Latency comes from
the devserver's per-request controls (``x-devserver-*`` headers), so the model
names in the labels stay clean.

Run as a script it serves the workload's metrics for Prometheus to scrape::

    python tests/deploy/workload.py --port 0 --service my-llm-app \
        --promote service.name

``main()`` builds a ``MeterProvider`` whose only reader is
``opentelemetry.exporter.prometheus.PrometheusMetricReader``, serves it with
``prometheus_client.start_http_server(port, addr="127.0.0.1")``, prints
``READY port=<port>`` once the first workload round is recorded, then calls
``run_workload`` in a loop until SIGTERM/SIGINT.

``--promote`` mirrors ``otlp.promote_resource_attributes`` of
deploy/prometheus.yml: the Prometheus OTLP receiver in the real stack copies
those resource attributes onto every series (``service.name`` ->
``service_name``); ``PrometheusMetricReader(resource_attribute_filter=...)`` does
the same here, so the series look like what the dashboard queries in the stack.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import random
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

import otel_llm
from otel_llm import OpenTelemetryCallbackHandler, semconv
from otel_llm.devserver import HEADER_PREFIX, ModelServer
from otel_llm.instrumentation.openai import wrap_openai
from tests.devserver.support import CONNECTION_ERRORS

#: ``app.feature`` values (the allow-listed metric attribute), one per round in turn.
FEATURES = ("search", "support", "checkout")
#: Two models the devserver serves and otel_llm/pricing/prices.json prices (cost panels).
MODELS = ("gpt-4o-mini", "gpt-4o")


@dataclass(frozen=True)
class _Profile:
    """How a model answers: seconds to the first byte, tokens per chunk, seconds between chunks."""

    first_byte: tuple[float, float]
    chunk_tokens: int
    chunk_gap: tuple[float, float]
    words: tuple[int, int]


PROFILES = {
    "gpt-4o-mini": _Profile(
        first_byte=(0.015, 0.05), chunk_tokens=2, chunk_gap=(0.006, 0.014), words=(6, 30)
    ),
    "gpt-4o": _Profile(
        first_byte=(0.03, 0.1), chunk_tokens=2, chunk_gap=(0.01, 0.025), words=(6, 20)
    ),
}


@dataclass(frozen=True)
class _Failure:
    """A failed call every ``every`` rounds: the devserver fault and the SDK's exception."""

    every: int
    fault: str
    stream: bool
    expected: type[BaseException] | tuple[type[BaseException], ...]
    timeout: float | None = None



FAILURES = {
    "gpt-4o-mini": (_Failure(5, "429:0.5", False, openai.RateLimitError),),
    "gpt-4o": (
        # the server answers after 1 s; the client gives up after 0.15 s
        _Failure(3, "hang:1", False, openai.APITimeoutError, timeout=0.15),
        # the connection is cut after 4 SSE events: openai >= 3.14 raises APIConnectionError,
        # older SDKs the transport's RemoteProtocolError, out of the stream iterator
        _Failure(7, "drop:4", True, CONNECTION_ERRORS),
    ),
}
PROMPTS = (
    "Which flowers suit a birthday?",
    "Summarise the last incident report in two sentences.",
    "Write a short product description for a blue ceramic vase with a narrow neck "
    "and a matte glaze, for the online shop.",
    "Translate 'the order ships tomorrow morning' into French, German and Spanish.",
    "Explain what a p95 latency is to a new support engineer, with one example.",
)
DEFAULT_SERVICE_NAME = "otel-llm-dashboard-test"

_rounds = itertools.count()
_rng = random.Random(20261121)
_server: ModelServer | None = None
_server_lock = threading.Lock()


def model_server() -> ModelServer:
    """The process's embedded model server, started on first use."""
    global _server
    with _server_lock:
        if _server is None:
            _server = ModelServer().start()
        return _server


def stop_model_server() -> None:
    """Stop the model server (if started) and forget the clients bound to it."""
    global _server
    with _server_lock:
        server, _server = _server, None
    _clients.cache_clear()
    if server is not None:
        server.stop()


@dataclass(frozen=True)
class _Clients:
    reported: openai.OpenAI  # streams ask for usage (otel-llm adds include_usage)
    estimated: openai.OpenAI  # stream_usage=False: otel-llm counts the tokens with tiktoken


@functools.cache
def _clients(meter_provider: MeterProvider) -> _Clients:
    # Spans are made (parents, events) but go nowhere: the dashboard reads metrics only.
    handler = OpenTelemetryCallbackHandler(
        meter_provider=meter_provider,
        tracer_provider=TracerProvider(),
        metric_attributes=[semconv.APP_FEATURE],
    )
    base_url = model_server().base_url

    def client(stream_usage: bool) -> openai.OpenAI:
        sdk = openai.OpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
        return wrap_openai(sdk, callbacks=[handler], stream_usage=stream_usage)

    return _Clients(reported=client(True), estimated=client(False))


def _controls(model: str, fault: str | None = None) -> dict[str, str]:
    """devserver controls as headers (a ``+key=value`` model suffix would reach the labels)."""
    profile = PROFILES[model]
    first_byte = _rng.uniform(*profile.first_byte)  # > 0: "hang:0" would mean "forever"
    return {
        f"{HEADER_PREFIX}len": str(_rng.randint(*profile.words)),
        f"{HEADER_PREFIX}chunk": str(profile.chunk_tokens),
        f"{HEADER_PREFIX}delay": f"{_rng.uniform(*profile.chunk_gap):.4f}",
        f"{HEADER_PREFIX}error": fault or f"hang:{first_byte:.3f}",
    }


def _messages() -> list[ChatCompletionMessageParam]:
    return [
        {"role": "system", "content": "You are the assistant of a small online shop."},
        {"role": "user", "content": _rng.choice(PROMPTS)},
    ]


def _chat(client: openai.OpenAI, model: str, *, stream: bool, **kwargs: Any) -> None:
    """One call; a stream is read to its end, as the application would."""
    if stream:
        for _chunk in client.chat.completions.create(
            model=model, messages=_messages(), stream=True, **kwargs
        ):
            pass
    else:
        client.chat.completions.create(model=model, messages=_messages(), **kwargs)


def _fail(clients: _Clients, model: str, failure: _Failure) -> None:
    kwargs: dict[str, Any] = {"extra_headers": _controls(model, failure.fault)}
    if failure.timeout is not None:
        kwargs["timeout"] = failure.timeout
    try:
        _chat(clients.reported, model, stream=failure.stream, **kwargs)
    except failure.expected:
        return  # what the application sees; otel-llm recorded it with error.type
    raise AssertionError(f"{model}: fault {failure.fault!r} did not fail the call")


def _model_round(clients: _Clients, n: int, model: str) -> None:
    # Every round is a conversation of some user for one feature: only the feature is
    # allow-listed, so the ids stay on spans and never reach Prometheus.
    with otel_llm.attributes(conversation_id=f"conv-{n}", user_id=f"user-{n % 50}",
                             **{semconv.APP_FEATURE: FEATURES[n % len(FEATURES)]}):
        _calls(clients, n, model)


def _calls(clients: _Clients, n: int, model: str) -> None:
    _chat(clients.reported, model, stream=False, extra_headers=_controls(model))
    _chat(clients.reported, model, stream=True, extra_headers=_controls(model))
    _chat(clients.estimated, model, stream=True, extra_headers=_controls(model))
    for failure in FAILURES[model]:
        if n % failure.every == 0:
            _fail(clients, model, failure)


def run_workload(meter_provider: MeterProvider) -> None:
    """Make one round of instrumented LLM calls, recorded through ``meter_provider``.

    Called repeatedly by ``main()``. Every call makes, for each of the two
    models: a non-streamed chat and a stream, both with provider-reported
    usage, a stream without usage (estimated tokens), and (on a fixed schedule)
    failed calls with ``error.type``, so every dashboard panel has fresh data in
    any 10 s window. The two models are called concurrently, as by an application
    serving several users, which also keeps a round short (~0.6 s).
    """
    clients = _clients(meter_provider)
    n = next(_rounds)
    with ThreadPoolExecutor(len(MODELS), thread_name_prefix="workload") as pool:
        for done in [pool.submit(_model_round, clients, n, model) for model in MODELS]:
            done.result()  # a call that failed unexpectedly stops the workload, loudly


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the workload's metrics on 127.0.0.1 and loop ``run_workload``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="metrics port (0: pick a free one)")
    parser.add_argument("--service", default=DEFAULT_SERVICE_NAME, help="resource service.name")
    parser.add_argument(
        "--promote",
        action="append",
        default=[],
        metavar="ATTRIBUTE",
        help="resource attribute copied onto every series (repeatable)",
    )
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between rounds")
    args = parser.parse_args(argv)

    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
    from opentelemetry.sdk.resources import Resource
    from prometheus_client import start_http_server

    promoted = frozenset(args.promote)
    reader = PrometheusMetricReader(resource_attribute_filter=lambda key: key in promoted)
    provider = SdkMeterProvider(
        metric_readers=[reader], resource=Resource.create({"service.name": args.service})
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    server = None
    try:
        run_workload(provider)
        server, _thread = start_http_server(args.port, addr="127.0.0.1")
        print(f"READY port={server.server_port}", flush=True)
        while not stop.wait(args.interval):
            run_workload(provider)
    finally:
        if server is not None:
            server.shutdown()
        stop_model_server()
        provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
