"""Every recorded api.openai.com interaction, replayed through the real SDK with the
instrumentation on: the events carry what production sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai
from otel_llm.testing.recordings import Interaction, Recording, load_recordings, replay_call
from otel_llm.tokens import count_message_tokens
from otel_llm.usage import USAGE_ESTIMATED_KEY, usage_from_result

from .support import Recorder

RECORDINGS = load_recordings()


def _chat_stream_truth(interaction: Interaction) -> dict[str, Any]:
    """Texts, finish reasons and tool calls per choice, assembled from the recorded SSE."""
    chunks = [json.loads(d) for d in interaction.sse_data() if d != "[DONE]"]
    texts: dict[int, str] = {}
    finish: dict[int, str] = {}
    calls: dict[int, dict[int, dict[str, Any]]] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            i, delta = choice["index"], choice.get("delta") or {}
            texts[i] = texts.get(i, "") + (delta.get("content") or "")
            for d in delta.get("tool_calls") or ():
                call = calls.setdefault(i, {}).setdefault(d["index"],
                                                          {"id": None, "name": "", "args": ""})
                call["id"] = d.get("id") or call["id"]
                call["name"] += (d.get("function") or {}).get("name") or ""
                call["args"] += (d.get("function") or {}).get("arguments") or ""
            if choice.get("finish_reason"):
                finish[i] = choice["finish_reason"]
    first = next(c for c in chunks if c.get("id"))
    return {"id": first["id"], "model": first["model"], "texts": texts, "finish": finish,
            "calls": calls, "usage": next((c["usage"] for c in chunks if c.get("usage")), None)}


def _check_chat(interaction: Interaction, end: Any, recorder: Recorder) -> None:
    out = end.payload.llm_output
    generations = end.payload.generations[0]
    if not interaction.is_stream:
        recorded = interaction.json()
        assert out["id"] == recorded["id"] and out["model_name"] == recorded["model"]
        assert out["token_usage"] == recorded["usage"]
        assert out.get("system_fingerprint") == recorded.get("system_fingerprint")
        assert USAGE_ESTIMATED_KEY not in out
        for generation, choice in zip(generations, recorded["choices"], strict=True):
            message = choice["message"]
            assert generation.text == (message.get("content") or "")
            assert generation.generation_info["finish_reason"] == choice["finish_reason"]
            assert generation.message.tool_calls == [
                {"name": c["function"]["name"], "args": json.loads(c["function"]["arguments"]),
                 "id": c["id"], "type": "tool_call"} for c in message.get("tool_calls") or ()]
        return
    truth = _chat_stream_truth(interaction)
    assert out["id"] == truth["id"] and out["model_name"] == truth["model"]
    assert [g.text for g in generations] == [truth["texts"][i] for i in sorted(truth["texts"])]
    assert [g.generation_info["finish_reason"] for g in generations] == [
        truth["finish"].get(i) for i in sorted(truth["texts"])]
    assert "".join(recorder.tokens) == "".join(truth["texts"].values())
    for i, generation in enumerate(generations):
        expected = [{"name": c["name"], "args": json.loads(c["args"]), "id": c["id"],
                     "type": "tool_call"} for _, c in sorted(truth["calls"].get(i, {}).items())]
        assert generation.message.tool_calls == expected
    if truth["usage"] is None:  # recorded without include_usage: counted locally, flagged
        assert out[USAGE_ESTIMATED_KEY] is True
        request = interaction.request or {}
        assert out["token_usage"]["prompt_tokens"] == count_message_tokens(
            request["messages"], truth["model"], tools=request.get("tools"))
        assert out["token_usage"]["completion_tokens"] > 0
    else:
        assert out["token_usage"] == truth["usage"]


def _check(interaction: Interaction, end: Any, result: Any, recorder: Recorder) -> None:
    assert end.hook == "end"
    out = end.payload.llm_output
    if interaction.path == "/v1/chat/completions":
        _check_chat(interaction, end, recorder)
    elif interaction.path == "/v1/completions":
        recorded = interaction.json()
        assert out["id"] == recorded["id"] and out["token_usage"] == recorded["usage"]
        assert [g.text for g in end.payload.generations[0]] == [
            c["text"] for c in recorded["choices"]]
        assert [g.generation_info["finish_reason"] for g in end.payload.generations[0]] == [
            c["finish_reason"] for c in recorded["choices"]]
    elif interaction.path == "/v1/embeddings":
        recorded = interaction.json()
        assert out == {"token_usage": recorded["usage"], "model_name": recorded["model"]}
    else:
        final = (interaction.json() if not interaction.is_stream else
                 json.loads([d for d in interaction.sse_data() if d != "[DONE]"][-1])["response"])
        usage = final["usage"]
        assert out["id"] == final["id"] and out["model_name"] == final["model"]
        assert out["token_usage"] == {
            "prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"],
            "prompt_tokens_details": {
                "cached_tokens": usage["input_tokens_details"]["cached_tokens"]},
            "completion_tokens_details": {
                "reasoning_tokens": usage["output_tokens_details"]["reasoning_tokens"]},
        }
        texts = [p["text"] for item in final["output"] if item["type"] == "message"
                 for p in item["content"] if "text" in p]
        assert end.payload.generations[0][0].text == "".join(texts)


@pytest.fixture
def replay(request: pytest.FixtureRequest
           ) -> Iterator[tuple[ModelServer, openai.OpenAI, Recording]]:
    recording: Recording = request.param
    with ModelServer(replay=recording) as srv, openai.OpenAI(
            base_url=srv.base_url, api_key="sk-test", max_retries=0) as client:
        yield srv, client, recording


@pytest.mark.parametrize("replay", RECORDINGS, ids=[r.name for r in RECORDINGS],
                         indirect=True)
def test_every_recording_through_the_instrumented_sdk(
        replay: tuple[ModelServer, openai.OpenAI, Recording], recorder: Recorder) -> None:
    """Each interaction is one run ended once, with the recorded model, id, finish reasons,
    usage (cached and reasoning tokens included; estimated only for streams recorded without
    usage), tool calls (streamed and not) and Responses usage in chat names."""
    srv, client, recording = replay
    instrument_openai([recorder])
    assert srv.replayer is not None
    for interaction in recording.interactions:
        recorder.clear()
        result = replay_call(client, interaction)
        if interaction.is_stream:
            result = list(result)
        end = recorder.assert_one_run_ended_once()
        _check(interaction, end, result, recorder)
    assert srv.replayer.remaining() == 0


def _replay_one(name: str, recorder: Recorder) -> tuple[Any, Interaction]:
    [recording] = [r for r in RECORDINGS if r.name == name]
    with ModelServer(replay=recording) as srv, openai.OpenAI(
            base_url=srv.base_url, api_key="sk-test", max_retries=0) as client:
        instrument_openai([recorder])
        interaction = recording.interactions[0]
        replay_call(client, interaction)
    return recorder.only("end").payload, interaction


def test_reasoning_tokens_reach_handlers(recorder: Recorder) -> None:
    """A reasoning model's hidden tokens are read by handlers as reasoning output tokens."""
    result, interaction = _replay_one("test_chat__test_chat_reasoning", recorder)
    usage = usage_from_result(result)
    recorded = interaction.json()["usage"]
    assert usage is not None and usage.reasoning_output_tokens == (
        recorded["completion_tokens_details"]["reasoning_tokens"]) > 0


def test_cached_tokens_reach_handlers(recorder: Recorder) -> None:
    """Prompt caching: the cached prompt tokens reach handlers as cache reads."""
    [recording] = [r for r in RECORDINGS if r.name.endswith("prompt_caching")]
    with ModelServer(replay=recording) as srv, openai.OpenAI(
            base_url=srv.base_url, api_key="sk-test", max_retries=0) as client:
        instrument_openai([recorder])
        for interaction in recording.interactions:
            replay_call(client, interaction)
    cached = [usage_from_result(e.payload).cache_read_input_tokens  # type: ignore[union-attr]
              for e in recorder.events if e.hook == "end"]
    recorded = [i.json()["usage"]["prompt_tokens_details"]["cached_tokens"]
                for i in recording.interactions]
    assert cached == recorded and any(recorded)


def test_recorded_partial_consumption(recorder: Recorder) -> None:
    """The recorded partially consumed stream: two chunks then close() end the run once with
    the partial text; the next call on the same client is a fresh, complete run."""
    [recording] = [r for r in RECORDINGS if r.name.endswith("partial_consumption")]
    with ModelServer(replay=recording) as srv, openai.OpenAI(
            base_url=srv.base_url, api_key="sk-test", max_retries=0) as client:
        instrument_openai([recorder])
        request = dict(recording.interactions[0].request or {})
        stream = client.chat.completions.create(**request)
        first = [next(stream), next(stream)]
        stream.close()
        end = recorder.assert_one_run_ended_once()
        assert end.hook == "end"
        assert end.payload.generations[0][0].text == "".join(
            c.choices[0].delta.content or "" for c in first)
        recorder.clear()
        again = list(client.chat.completions.create(**request))
        assert recorder.assert_one_run_ended_once().payload.generations[0][0].text == "".join(
            c.choices[0].delta.content or "" for c in again)
