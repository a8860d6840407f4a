"""Fixtures: real SDK clients over real HTTP that validate responses strictly (the server per
module comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import openai
import pytest

from otel_llm.devserver import ModelServer


@pytest.fixture
def client(server: ModelServer) -> Iterator[openai.OpenAI]:
    # Strict validation: a missing or mistyped field fails the test instead of parsing loosely.
    with openai.OpenAI(
        base_url=server.base_url,
        api_key="sk-test",
        max_retries=0,
        _strict_response_validation=True,
    ) as c:
        yield c


@pytest.fixture
async def aclient(server: ModelServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key="sk-test",
        max_retries=0,
        _strict_response_validation=True,
    ) as c:
        yield c


@pytest.fixture
def loose_client(server: ModelServer) -> Iterator[openai.OpenAI]:
    """The SDK's default (non-strict) parsing, for shapes its strict models reject even
    from api.openai.com: base64 embeddings and ``finish_reason: null`` in legacy streams."""
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
        yield c
