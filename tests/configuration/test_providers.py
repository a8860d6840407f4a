"""Providers: ours become the globals; an application's own SDK provider is reused or refused."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.trace import TracerProvider

from otel_llm.configuration import Telemetry, configure
from otel_llm.errors import ConfigurationError


def test_install_sets_the_global_providers(handles: list[Telemetry]) -> None:
    """install=True makes the built providers the global ones."""
    handle = configure(traces_exporter="none", metrics_exporter="none")
    handles.append(handle)
    assert trace.get_tracer_provider() is handle.tracer_provider
    assert metrics.get_meter_provider() is handle.meter_provider


def test_existing_sdk_provider_is_reused_not_replaced(
    handles: list[Telemetry], caplog: pytest.LogCaptureFixture
) -> None:
    """An application's own SDK TracerProvider stays; it is reused (logged) and not shut down."""
    app_provider = TracerProvider()
    trace.set_tracer_provider(app_provider)
    with caplog.at_level(logging.INFO, logger="otel_llm.configuration"):
        handle = configure(traces_exporter="none", metrics_exporter="none")
    handles.append(handle)
    assert handle.tracer_provider is app_provider
    assert trace.get_tracer_provider() is app_provider
    assert "reusing the application's TracerProvider" in caplog.text
    handle.shutdown(timeout=1.0)
    span = app_provider.get_tracer("x").start_span("still works")
    assert span.is_recording()


def test_existing_provider_can_be_refused() -> None:
    """on_existing_provider='raise' refuses to run with someone else's provider."""
    trace.set_tracer_provider(TracerProvider())
    with pytest.raises(ConfigurationError) as info:
        configure(on_existing_provider="raise", traces_exporter="none", metrics_exporter="none")
    assert info.value.setting == "on_existing_provider"
