# =============================================================================
# INTERIM STAND-IN. `run_workload` below records the otel-llm metrics directly
# through the OpenTelemetry metrics API, using only the names, units, buckets
# and attributes from `otel_llm.semconv`. It must be replaced by REAL
# instrumented calls: the instrumented openai SDK against our embedded model
# server (chat and streams, streams without usage so tokens are estimated,
# errors, two models) once the instrumentation and OpenTelemetryCallbackHandler
# are usable. Only the body of `run_workload` (and its helpers) should change:
# the live dashboard test, the renderer and `main()` stay as they are.
# =============================================================================
"""Workload for the live dashboard test (tests/deploy/test_dashboard_live.py).

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
from dataclasses import dataclass
from typing import Any

from opentelemetry.metrics import Histogram, MeterProvider

from otel_llm import semconv

#: The two models the workload calls, with (input, output) USD per 1M tokens.
MODELS: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
}
#: What the "provider" answers with as gen_ai.response.model.
RESPONSE_MODELS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4.1": "gpt-4.1-2025-04-14"}
#: Error classes per model (error.type is the exception's qualified class name).
ERRORS = {"gpt-4o-mini": "openai.RateLimitError", "gpt-4.1": "openai.APITimeoutError"}
#: The embedded model server the real workload will talk to.
SERVER_ADDRESS = "127.0.0.1"
SERVER_PORT = 8765
DEFAULT_SERVICE_NAME = "otel-llm-dashboard-test"


@dataclass(frozen=True)
class _Instruments:
    duration: Histogram
    token_usage: Histogram
    time_to_first_chunk: Histogram
    time_per_output_chunk: Histogram
    cost: Histogram


@functools.cache
def _instruments(meter_provider: MeterProvider) -> _Instruments:
    meter = meter_provider.get_meter("otel_llm.tests.deploy.workload")

    def histogram(name: str, unit: str, buckets: Sequence[float], description: str) -> Histogram:
        return meter.create_histogram(
            name,
            unit=unit,
            description=description,
            explicit_bucket_boundaries_advisory=list(buckets),
        )

    return _Instruments(
        duration=histogram(
            semconv.METRIC_OPERATION_DURATION,
            semconv.UNIT_SECONDS,
            semconv.DURATION_BUCKETS,
            "GenAI operation duration.",
        ),
        token_usage=histogram(
            semconv.METRIC_TOKEN_USAGE,
            semconv.UNIT_TOKEN,
            semconv.TOKEN_BUCKETS,
            "Number of input and output tokens used.",
        ),
        time_to_first_chunk=histogram(
            semconv.METRIC_TIME_TO_FIRST_CHUNK,
            semconv.UNIT_SECONDS,
            semconv.DURATION_BUCKETS,
            "Time to receive the first chunk of a streamed response.",
        ),
        time_per_output_chunk=histogram(
            semconv.METRIC_TIME_PER_OUTPUT_CHUNK,
            semconv.UNIT_SECONDS,
            semconv.DURATION_BUCKETS,
            "Time between consecutive chunks of a streamed response.",
        ),
        cost=histogram(
            semconv.METRIC_COST,
            semconv.UNIT_USD,
            semconv.COST_BUCKETS,
            "Cost of an LLM operation in USD (otel-llm extension).",
        ),
    )


_rounds = itertools.count()
_rng = random.Random(20261121)


def _request_attributes(model: str) -> dict[str, Any]:
    return {
        semconv.GEN_AI_OPERATION_NAME: semconv.OP_CHAT,
        semconv.GEN_AI_PROVIDER_NAME: semconv.PROVIDER_OPENAI,
        semconv.GEN_AI_REQUEST_MODEL: model,
        semconv.SERVER_ADDRESS: SERVER_ADDRESS,
        semconv.SERVER_PORT: SERVER_PORT,
    }


def _record_success(
    inst: _Instruments, model: str, *, stream: bool, usage_reported: bool, slow: float
) -> None:
    attrs = {**_request_attributes(model), semconv.GEN_AI_RESPONSE_MODEL: RESPONSE_MODELS[model]}
    input_tokens = _rng.randint(40, 900)
    output_tokens = _rng.randint(10, 350)
    if stream:
        first = _rng.uniform(0.08, 0.35) * slow
        chunks = max(2, output_tokens // 4)
        gaps = [_rng.uniform(0.008, 0.03) * slow for _ in range(chunks - 1)]
        inst.time_to_first_chunk.record(first, attrs)
        for gap in gaps:
            inst.time_per_output_chunk.record(gap, attrs)
        duration = first + sum(gaps)
    else:
        duration = _rng.uniform(0.25, 1.1) * slow + output_tokens * 0.004 * slow
    inst.duration.record(duration, attrs)

    # A stream without include_usage has no usage chunk: otel-llm counts the
    # tokens with tiktoken and marks them (and the cost derived from them).
    estimated = {semconv.OTEL_LLM_USAGE_ESTIMATED: not usage_reported}
    inst.token_usage.record(
        input_tokens, {**attrs, **estimated, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_INPUT}
    )
    inst.token_usage.record(
        output_tokens, {**attrs, **estimated, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_OUTPUT}
    )
    price_in, price_out = MODELS[model]
    cost = (input_tokens * price_in + output_tokens * price_out) / 1_000_000
    inst.cost.record(cost, {**attrs, **estimated})


def _record_failure(inst: _Instruments, model: str, *, slow: float) -> None:
    attrs = {**_request_attributes(model), semconv.ERROR_TYPE: ERRORS[model]}
    inst.duration.record(_rng.uniform(0.05, 0.6) * slow, attrs)


def run_workload(meter_provider: MeterProvider) -> None:
    """Record one round of LLM traffic through ``meter_provider``.

    Called repeatedly by ``main()``. Every call must produce, for each of the
    two models: a non-streamed chat with provider-reported usage, a stream
    with usage, a stream without usage (estimated tokens), and (on a fixed
    schedule) a failed call with ``error.type``, so every dashboard panel has
    fresh data in any 10 s window.

    INTERIM: records the metrics directly (see the banner at the top of this
    file); to be replaced by real instrumented openai SDK calls against the
    embedded model server.
    """
    inst = _instruments(meter_provider)
    n = next(_rounds)
    for index, model in enumerate(MODELS):
        slow = 1.0 if index == 0 else 2.5
        _record_success(inst, model, stream=False, usage_reported=True, slow=slow)
        _record_success(inst, model, stream=True, usage_reported=True, slow=slow)
        _record_success(inst, model, stream=True, usage_reported=False, slow=slow)
        if n % (3 + 2 * index) == 0:  # every 3rd round for model 0, every 5th for model 1
            _record_failure(inst, model, slow=slow)


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

    run_workload(provider)
    server, _thread = start_http_server(args.port, addr="127.0.0.1")
    print(f"READY port={server.server_port}", flush=True)
    try:
        while not stop.wait(args.interval):
            run_workload(provider)
    finally:
        server.shutdown()
        provider.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
