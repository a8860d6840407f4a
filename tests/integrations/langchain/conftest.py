"""Fixtures: one devserver per module, real ChatOpenAI over real HTTP, in-memory telemetry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from langchain_openai import ChatOpenAI

from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import uninstrument_openai
from otel_llm.instrumentation.openai._stream_usage import forget
from otel_llm.integrations.langchain import uninstrument_langchain
from otel_llm.testing import InMemoryTelemetry

ModelFactory = Callable[..., ChatOpenAI]


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    forget()
    yield
    uninstrument_langchain()
    uninstrument_openai()
    forget()


@pytest.fixture
def otel() -> Iterator[InMemoryTelemetry]:
    with InMemoryTelemetry() as telemetry:
        yield telemetry


@pytest.fixture
def chat_model(server: ModelServer) -> ModelFactory:
    """``chat_model(model="gpt-4o-mini+len=5", **kw)``: a ChatOpenAI bound to the devserver."""

    def make(model: str = "gpt-4o-mini+len=5", **kwargs: Any) -> ChatOpenAI:
        kwargs.setdefault("base_url", server.base_url)
        # Own HTTP clients: langchain-openai caches one per base URL across event loops,
        # and every async test has a loop of its own.
        kwargs.setdefault("http_client", openai.DefaultHttpxClient())
        kwargs.setdefault("http_async_client", openai.DefaultAsyncHttpxClient())
        return ChatOpenAI(model=model, api_key="sk-test", max_retries=0, **kwargs)

    return make
