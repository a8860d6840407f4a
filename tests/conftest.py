"""Fixtures for every test: a devserver per module, a real SDK client over real HTTP, private
in-memory telemetry. Subdirectories add theirs, or override one where they need it stricter."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from otel_llm.devserver import ModelServer
from otel_llm.testing import InMemoryTelemetry


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as srv:
        yield srv


@pytest.fixture
def client(server: ModelServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


@pytest.fixture
def otel() -> Iterator[InMemoryTelemetry]:
    with InMemoryTelemetry() as telemetry:
        yield telemetry
