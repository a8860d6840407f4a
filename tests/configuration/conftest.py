"""Fixtures: no OTEL_* variable from the shell, fresh global providers, handles shut down after."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry._logs import _internal as logs_internal
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.util._once import Once

from otel_llm.configuration import Telemetry, configure, guard


def _reset_otel_globals() -> None:
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    trace._TRACER_PROVIDER = None
    trace._PROXY_TRACER_PROVIDER = trace.ProxyTracerProvider()
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    metrics_internal._PROXY_METER_PROVIDER = metrics_internal._ProxyMeterProvider()
    logs_internal._LOGGER_PROVIDER_SET_ONCE = Once()
    logs_internal._LOGGER_PROVIDER = None
    logs_internal._PROXY_LOGGER_PROVIDER = logs_internal.ProxyLoggerProvider()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No OTEL_* variable from the shell, fresh global providers, fresh log rate limits."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    _reset_otel_globals()
    guard.EXPORT_LOG_FILTER.reset()
    yield
    _reset_otel_globals()


@pytest.fixture
def handles() -> Iterator[list[Telemetry]]:
    """Configured handles to shut down after the test, whatever happens."""
    made: list[Telemetry] = []
    yield made
    for handle in made:
        handle.shutdown(timeout=1.0)


@pytest.fixture
def make(handles: list[Telemetry]) -> Callable[..., Telemetry]:
    def build(**kwargs: Any) -> Telemetry:
        kwargs.setdefault("install", False)
        handle = configure(**kwargs)
        handles.append(handle)
        return handle

    return build
