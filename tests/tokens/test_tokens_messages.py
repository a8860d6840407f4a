"""Message shapes, streaming and prompt helpers."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core import messages as lc

from otel_llm import schema
from otel_llm.testing.recordings import load_recording
from otel_llm.tokens import (
    count_completion_tokens,
    count_message_tokens,
    count_prompt_tokens,
    count_tokens,
    get_encoding,
)

WIRE: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What's the weather in Paris?", "name": "alice"},
    {"role": "assistant", "content": None, "tool_calls": [{
        "id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "18C and cloudy"},
    {"role": "assistant", "content": "18C, cloudy."},
]


def test_our_message_objects_count_like_wire_dicts() -> None:
    """otel_llm.schema messages (LangChain-shaped) give the wire-format count."""
    objs = [
        schema.SystemMessage(content="You are terse."),
        schema.HumanMessage(content="What's the weather in Paris?", name="alice"),
        schema.AIMessage(content="", tool_calls=[
            {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1",
             "type": "tool_call"}]),
        schema.ToolMessage(content="18C and cloudy", tool_call_id="call_1"),
        schema.AIMessage(content="18C, cloudy."),
    ]
    for model in ("gpt-4o", "gpt-3.5-turbo"):
        assert count_message_tokens(objs, model) == count_message_tokens(WIRE, model)


def test_langchain_message_objects_count_like_wire_dicts() -> None:
    """LangChain's own message classes are read by duck typing, tool calls included."""
    objs = [
        lc.SystemMessage("You are terse."),
        lc.HumanMessage("What's the weather in Paris?", name="alice"),
        lc.AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"},
                                      "id": "call_1"}]),
        lc.ToolMessage("18C and cloudy", tool_call_id="call_1"),
        lc.AIMessage("18C, cloudy."),
    ]
    assert count_message_tokens(objs, "gpt-4.1") == count_message_tokens(WIRE, "gpt-4.1")


def test_name_costs_its_tokens_plus_one() -> None:
    """A ``name`` adds its own tokens and one separator token."""
    base = [{"role": "user", "content": "hi"}]
    named = [{"role": "user", "content": "hi", "name": "example_user"}]
    extra = count_message_tokens(named, "gpt-4o") - count_message_tokens(base, "gpt-4o")
    assert extra == count_tokens("example_user", "gpt-4o") + 1


def test_content_parts_count_their_text_and_images() -> None:
    """List content counts text parts as the plain string; an image part adds its own tokens
    (a remote one at the assumed size: see test_tokens_images)."""
    text = "Describe this picture in one sentence."
    plain = [{"role": "user", "content": text}]
    parts = [{"role": "user", "content": [{"type": "text", "text": text}]}]
    image = {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}}
    with_image = [{"role": "user", "content": [*parts[0]["content"], image]}]
    assert count_message_tokens(parts, "gpt-4o") == count_message_tokens(plain, "gpt-4o")
    assert count_message_tokens(with_image, "gpt-4o") == count_message_tokens(plain, "gpt-4o") + 765


def test_arguments_are_counted_as_reserialised() -> None:
    """Modern models bill tool-call arguments compacted, whatever whitespace was sent."""
    def history(arguments: str) -> list[dict[str, Any]]:
        return [{"role": "assistant", "tool_calls": [{"id": "1", "type": "function", "function": {
            "name": "f", "arguments": arguments}}]}]

    spaced = count_message_tokens(history('{\n  "a": 1,\n  "b": [1, 2]\n}'), "gpt-4o")
    assert spaced == count_message_tokens(history('{"a":1,"b":[1,2]}'), "gpt-4o")
    legacy_spaced = count_message_tokens(history('{\n  "a": 1,\n  "b": [1, 2]\n}'), "gpt-4")
    assert legacy_spaced > count_message_tokens(history('{"a":1,"b":[1,2]}'), "gpt-4")


def test_tool_definitions_and_choice_add_tokens() -> None:
    """Tools add their rendered definitions; tool_choice='none' costs one more token."""
    tools = [{"type": "function", "function": {
        "name": "lookup", "description": "Look a word up",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}},
                       "required": ["word"]}}}]
    msgs = [{"role": "user", "content": "define cat"}]
    without = count_message_tokens(msgs, "gpt-4o")
    with_tools = count_message_tokens(msgs, "gpt-4o", tools=tools)
    assert with_tools > without + 9
    assert count_message_tokens(msgs, "gpt-4o", tools=tools, tool_choice="none") == with_tools + 1
    legacy = count_message_tokens(msgs, "gpt-4o", functions=[tools[0]["function"]])
    assert legacy == with_tools


def test_special_token_text_is_ordinary_text() -> None:
    """Special-token strings in user text are counted as text, never rejected."""
    assert count_tokens("<|endoftext|>", "gpt-4o") > 1


def test_streamed_pieces_are_encoded_joined() -> None:
    """Chunk borders do not split BPE merges: pieces count like the joined text."""
    pieces = ["Hel", "lo wor", "ld, extra", "ordinary", " stream", "ing!"]
    joined = count_tokens("".join(pieces), "gpt-4o")
    per_piece = sum(count_tokens(p, "gpt-4o") for p in pieces)
    assert per_piece > joined
    assert count_completion_tokens(pieces, "gpt-4o") == joined
    assert count_completion_tokens(iter(pieces), "gpt-4o", endpoint="responses") == joined + 1


def test_recorded_chat_stream_counts_like_its_text() -> None:
    """A real streamed chat reply's deltas count like the concatenated reply."""
    import json

    it = load_recording("test_chat__test_chat_streaming_with_events_with_no_content").interactions[0]
    deltas = [c["choices"][0]["delta"].get("content") or ""
              for c in map(json.loads, it.sse_data()[:-1])]
    assert len(deltas) > 5
    assert count_completion_tokens(deltas, "gpt-3.5-turbo") == count_tokens(
        "".join(deltas), "gpt-3.5-turbo")


@pytest.mark.parametrize(
    ("prompt", "expected_from"),
    [
        ("Tell me a joke", ["Tell me a joke"]),
        (["Tell me a joke", "and another"], ["Tell me a joke", "and another"]),
    ],
)
def test_prompt_lists_sum_their_items(prompt: Any, expected_from: list[str]) -> None:
    """Legacy prompts and embedding inputs bill the sum over the batch."""
    expected = sum(count_tokens(p, "davinci-002") for p in expected_from)
    assert count_prompt_tokens(prompt, "davinci-002") == expected


def test_token_array_prompts_count_their_length() -> None:
    """Pre-tokenised prompts (one array or a batch of arrays) count their elements."""
    ids = get_encoding("cl100k_base").encode_ordinary("pre tokenised input")
    assert count_prompt_tokens(ids, "text-embedding-3-small") == len(ids)
    assert count_prompt_tokens([ids, ids[:2]], "text-embedding-3-small") == len(ids) + 2
