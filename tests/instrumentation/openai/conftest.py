"""Fixtures: an async SDK client over real HTTP and a recording handler (the devserver and the
sync client come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest

from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai, uninstrument_openai
from otel_llm.instrumentation.openai._stream_usage import forget

from .support import Recorder


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    forget()
    yield
    uninstrument_openai()
    forget()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def instrumented(recorder: Recorder) -> Recorder:
    """Global instrumentation sending every call to ``recorder``."""
    instrument_openai([recorder])
    return recorder


@pytest.fixture
async def aclient(server: ModelServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
        yield c

