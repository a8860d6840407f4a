"""Replay mode: every recorded interaction, sent through the real SDK, comes back as recorded."""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from otel_llm.devserver import ModelServer
from otel_llm.testing.recordings import load_recordings, replay_call

RECORDINGS = load_recordings()


def _check_embeddings(result: Any, recorded: dict[str, Any]) -> None:
    assert result.usage.to_dict() == recorded["usage"]
    for got, want in zip(result.data, recorded["data"], strict=True):
        raw = base64.b64decode(want["embedding"])
        assert got.embedding == list(struct.unpack(f"<{len(raw) // 4}f", raw))


@pytest.fixture(scope="module")
def replay_server() -> Iterator[ModelServer]:
    with ModelServer(replay="all") as srv:
        yield srv


@pytest.mark.parametrize("recording", RECORDINGS, ids=[r.name for r in RECORDINGS])
def test_every_recording_replays_through_the_sdk(recording: Any) -> None:
    """Each interaction parses into the SDK's types and yields the recorded objects:
    ids, usage and every streamed chunk equal the recording, and the request the SDK
    sends matches the recorded one exactly."""
    with ModelServer(replay=recording) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)
        for interaction in recording.interactions:
            result = replay_call(client, interaction)
            assert srv.requests[-1].body == interaction.request
            if not interaction.is_stream:
                recorded = interaction.json()
                if interaction.path == "/v1/embeddings":
                    _check_embeddings(result, recorded)
                else:
                    assert result.id == recorded["id"]
                    assert result.usage.to_dict() == recorded["usage"]
                    assert result.to_dict() == recorded
                continue
            events = [e.to_dict() for e in result]
            recorded_events = [json.loads(d) for d in interaction.sse_data() if d != "[DONE]"]
            assert events == recorded_events
            if interaction.path == "/v1/responses":
                assert result.response.headers["content-type"].startswith("text/event-stream")
                assert events[-1]["response"]["usage"] == recorded_events[-1]["response"]["usage"]
        assert srv.replayer is not None and srv.replayer.remaining() == 0
        client.close()


def test_partial_consumption_then_next_interaction(replay_server: ModelServer) -> None:
    """A stream abandoned after two chunks does not disturb the next replayed call."""
    replay_server.replayer.reset()
    client = openai.OpenAI(base_url=replay_server.base_url, api_key="sk-test", max_retries=0)
    messages = [{"role": "user", "content": "Count to 5"}]
    stream = client.chat.completions.create(model="gpt-3.5-turbo", messages=messages, stream=True)
    first = [next(stream), next(stream)]
    stream.close()
    assert first[1].choices[0].delta.content == "1"
    again = list(
        client.chat.completions.create(model="gpt-3.5-turbo", messages=messages, stream=True)
    )
    assert "".join(c.choices[0].delta.content or "" for c in again) == "1, 2, 3, 4, 5"
    assert again[0].id != first[0].id
    client.close()


def test_unmatched_request_names_the_recordings() -> None:
    """A request with nothing left to replay gets a 404 naming the recording."""
    with ModelServer(replay="test_chat__test_chat_reasoning") as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)
        with pytest.raises(openai.NotFoundError, match="test_chat__test_chat_reasoning"):
            client.embeddings.create(model="text-embedding-3-small", input="x")
        client.close()


def test_replay_streams_with_delay_and_falls_back_to_next_unused() -> None:
    """A request whose body differs gets the next unused interaction of the same kind,
    streamed chunk by chunk at the server's chunk delay."""
    with ModelServer(replay="test_chat__test_chat_tools_streaming", chunk_delay=0.01) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)
        start = time.perf_counter()
        chunks = list(
            client.chat.completions.create(
                model="other", messages=[{"role": "user", "content": "?"}], stream=True
            )
        )
        assert time.perf_counter() - start >= 0.08  # 9 events, 8 gaps of 10 ms
        assert chunks[-1].choices[0].finish_reason == "tool_calls"
        client.close()
