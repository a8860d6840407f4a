"""Legacy completions, embeddings and models through the real SDK."""

from __future__ import annotations

import base64
import math
import struct

import openai
import pytest

from otel_llm.devserver import ModelServer

from .support import TRANSPORT as httpx2  # httpx, or httpx2 for openai 3


def test_legacy_completion(client: openai.OpenAI) -> None:
    """Legacy completions continue the prompt and stop at the default 16 tokens."""
    r = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="1 + 2 =")
    assert r.id.startswith("cmpl-") and r.object == "text_completion"
    assert r.choices[0].text == " 3" and r.choices[0].finish_reason == "stop"
    long = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon a time")
    assert long.choices[0].finish_reason == "length"
    assert long.usage is not None and long.usage.completion_tokens == 16
    n2 = client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt="Tell me a joke", n=2, max_tokens=100
    )
    assert [c.index for c in n2.choices] == [0, 1]


def test_legacy_completion_stream(loose_client: openai.OpenAI) -> None:
    """A streamed legacy completion yields text pieces, a finish chunk, and usage on request."""
    client = loose_client
    chunks = list(
        client.completions.create(
            model="gpt-3.5-turbo-instruct+len=20",
            prompt="Write a story",
            max_tokens=10,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 10
    assert chunks[-2].choices[0].finish_reason == "length"
    assert sum(1 for c in chunks if c.choices and c.choices[0].text) == 10
    plain = list(
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt="hi", stream=True)
    )
    assert all(c.usage is None and c.choices for c in plain)


def test_embeddings_base64_default_and_float(
    loose_client: openai.OpenAI, server: ModelServer
) -> None:
    """The SDK's default base64 request and an explicit float request decode to the
    same deterministic unit vectors; usage counts the input tokens."""
    client = loose_client
    r = client.embeddings.create(model="text-embedding-3-small", input=["hello", "world"])
    assert server.requests[-1].body["encoding_format"] == "base64"
    assert [d.index for d in r.data] == [0, 1] and len(r.data[0].embedding) == 1536
    assert abs(math.fsum(x * x for x in r.data[0].embedding) - 1.0) < 1e-5
    assert r.usage.prompt_tokens == r.usage.total_tokens == 2
    f = client.embeddings.create(
        model="text-embedding-3-small", input=["hello", "world"], encoding_format="float"
    )
    assert f.data[0].embedding == r.data[0].embedding
    assert f.data[0].embedding != f.data[1].embedding
    small = client.embeddings.create(model="text-embedding-3-large", input="x", dimensions=8)
    assert len(small.data[0].embedding) == 8


def test_embeddings_raw_base64_is_float32(server: ModelServer) -> None:
    """The base64 payload is little-endian float32, as OpenAI sends it."""
    body = {"model": "text-embedding-3-small", "input": "hi", "encoding_format": "base64"}
    data = httpx2.post(server.base_url + "/embeddings", json=body).json()
    raw = base64.b64decode(data["data"][0]["embedding"])
    assert len(raw) == 1536 * 4
    assert abs(math.fsum(x * x for x in struct.unpack("<1536f", raw)) - 1.0) < 1e-5


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    """``/v1/models`` lists the served models; an unknown one is a 404."""
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o-mini" in ids
    assert client.models.retrieve("gpt-4o-mini").owned_by == "system"
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("nope")
    assert info.value.code == "model_not_found"
