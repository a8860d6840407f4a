"""Fixtures: private in-memory providers and a clock that moves only when told to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otel_llm.testing.otel import InMemoryTelemetry

from .events import FakeClock


@pytest.fixture
def otel() -> Iterator[InMemoryTelemetry]:
    with InMemoryTelemetry() as telemetry:
        yield telemetry


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def _no_content_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose the capture mode themselves; the developer's shell must not leak in."""
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
