"""Chat Completions through the real SDK: plain, streamed, tools, n, truncation."""

from __future__ import annotations

import json

import openai
import pydantic

from otel_llm.devserver import ModelServer
from otel_llm.devserver.scripts import CANNED

USER = [{"role": "user", "content": "哪种花卉最适合生日?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"timezone": {"type": "string"}}},
    },
}
BIRTHDAY = next(answer for keys, answer in CANNED if "生日" in keys)


def test_plain_chat_is_typed_and_scripted(client: openai.OpenAI) -> None:
    """A plain call parses strictly and answers the flower-shop question from the script."""
    r = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert r.id.startswith("chatcmpl-") and len(r.id) == len("chatcmpl-") + 29
    assert r.object == "chat.completion" and r.model == "gpt-4o-mini"
    assert r.system_fingerprint and r.created > 0
    assert r.choices[0].message.content == BIRTHDAY
    assert r.choices[0].finish_reason == "stop"
    assert r.usage is not None and r.usage.prompt_tokens_details is not None
    assert r.usage.prompt_tokens_details.cached_tokens == 0
    assert r.usage.completion_tokens_details is not None
    assert r.usage.completion_tokens_details.reasoning_tokens == 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_arithmetic_and_determinism(client: openai.OpenAI) -> None:
    """``1 + 2 =`` answers ``3``; an unscripted prompt gets the same lorem text every time."""
    r = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "1 + 2 ="}]
    )
    assert r.choices[0].message.content == "3"
    other = [{"role": "user", "content": "Summarise the quarterly report"}]
    a = client.chat.completions.create(model="gpt-4o-mini", messages=other)
    b = client.chat.completions.create(model="gpt-4o-mini", messages=other)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.id != b.id


def test_stream_chunks_role_first_finish_last_and_no_usage(client: openai.OpenAI) -> None:
    """A stream starts with the role, sends a token per chunk, ends with finish_reason;
    without include_usage no usage-only chunk is sent."""
    chunks = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == BIRTHDAY
    assert len(chunks) == len(BIRTHDAY) + 2  # one CJK character per chunk


def test_stream_include_usage_adds_final_usage_chunk(client: openai.OpenAI) -> None:
    """With stream_options.include_usage the last chunk has no choices and carries usage."""
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=USER,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens > 0 and last.usage.prompt_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_length_by_header_and_model_suffix(client: openai.OpenAI) -> None:
    """``x-devserver-len`` and ``+len=`` both give exactly N content chunks of one token."""
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"x-devserver-len": "200"},
    )
    chunks = list(stream)
    content = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content) == 200
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 200
    r = client.chat.completions.create(model="gpt-4o-mini+len=7", messages=USER)
    assert r.model == "gpt-4o-mini"
    assert len((r.choices[0].message.content or "").split()) == 7
    assert r.usage is not None and r.usage.completion_tokens == 7


def test_chunk_control_groups_tokens(client: openai.OpenAI) -> None:
    """``chunk=3`` sends three tokens per chunk."""
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini+len=9+chunk=3", messages=USER, stream=True
        )
    )
    content = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(content) == 3 and all(len(piece.split()) == 3 for piece in content)


def test_n_choices(client: openai.OpenAI) -> None:
    """``n=2`` returns two indexed choices, streamed interleaved with their own indexes."""
    other = [{"role": "user", "content": "Tell me about tracing"}]
    r = client.chat.completions.create(model="gpt-4o-mini", messages=other, n=2)
    assert [c.index for c in r.choices] == [0, 1]
    assert r.choices[0].message.content != r.choices[1].message.content
    texts = {0: "", 1: ""}
    finishes = {}
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=other, n=2, stream=True
    ):
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert texts == {i: r.choices[i].message.content for i in (0, 1)}
    assert finishes == {0: "stop", 1: "stop"}


def test_max_tokens_truncates_with_finish_reason_length(client: openai.OpenAI) -> None:
    """``max_tokens`` and ``max_completion_tokens`` cut the reply and report ``length``."""
    r = client.chat.completions.create(model="gpt-4o-mini+len=50", messages=USER, max_tokens=5)
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 5
    assert len((r.choices[0].message.content or "").split()) == 5
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini+len=50",
            messages=USER,
            max_completion_tokens=4,
            stream=True,
        )
    )
    assert chunks[-1].choices[0].finish_reason == "length"
    assert sum(1 for c in chunks if c.choices[0].delta.content) == 4


def test_tool_call_non_streamed(client: openai.OpenAI) -> None:
    """With tools the model calls the function with arguments valid for its schema."""
    r = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "What's the weather like in San Francisco?"}],
        tools=[WEATHER_TOOL],
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    calls = choice.message.tool_calls or []
    assert len(calls) == 1 and calls[0].id.startswith("call_")
    assert calls[0].type == "function"
    assert calls[0].function.name == "get_current_weather"
    args = json.loads(calls[0].function.arguments)
    assert args == {"location": "San Francisco, CA", "unit": "celsius"}


def test_tool_choice_none_and_tool_results(client: openai.OpenAI) -> None:
    """``tool_choice="none"`` answers in text; after tool results the model answers with them."""
    messages: list[dict[str, object]] = [{"role": "user", "content": "weather in Paris?"}]
    r = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert r.choices[0].finish_reason == "stop" and r.choices[0].message.content
    first = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL]
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 25 degrees."},
    ]
    final = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL]
    )
    assert final.choices[0].message.content == "Sunny, 25 degrees."


def test_parallel_tool_calls_streamed_and_reassembled(client: openai.OpenAI) -> None:
    """Streamed parallel tool calls: id and name first, arguments in pieces, per ``index``;
    the SDK's stream helper reassembles them."""
    kwargs = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Call get_current_weather and get_time"}],
        "tools": [WEATHER_TOOL, TIME_TOOL],
    }
    chunks = list(client.chat.completions.create(stream=True, **kwargs))
    deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert [d.index for d in deltas if d.id] == [0, 1]
    heads = [d for d in deltas if d.id]
    assert all(d.function and d.function.name and d.function.arguments == "" for d in heads)
    pieces = [d for d in deltas if not d.id]
    assert all(d.function and d.function.name is None for d in pieces)
    assert len([d for d in pieces if d.index == 0]) > 3
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    with client.chat.completions.stream(**kwargs) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_current_weather", "get_time"]
    assert json.loads(calls[0].function.arguments)["location"] == "San Francisco, CA"
    assert json.loads(calls[1].function.arguments) == {"timezone": "timezone-1"}


def test_tool_calls_control_forces_parallel_calls(client: openai.OpenAI) -> None:
    """``tool_calls=3`` makes three calls cycling through the offered functions."""
    r = client.chat.completions.create(
        model="gpt-4o-mini+tool_calls=3",
        messages=USER,
        tools=[WEATHER_TOOL, TIME_TOOL],
    )
    names = [c.function.name for c in r.choices[0].message.tool_calls or []]
    assert names == ["get_current_weather", "get_time", "get_current_weather"]


class Flower(pydantic.BaseModel):
    name: str
    price: float
    in_stock: bool


def test_structured_output_parses(client: openai.OpenAI) -> None:
    """A ``response_format`` JSON schema gets JSON matching it, so ``parse()`` works."""
    r = client.chat.completions.parse(
        model="gpt-4o-mini", messages=USER, response_format=Flower
    )
    parsed = r.choices[0].message.parsed
    assert isinstance(parsed, Flower) and parsed.in_stock is True


def test_requests_are_recorded(client: openai.OpenAI, server: ModelServer) -> None:
    """The server keeps the requests it saw, for tests asserting what a client sent."""
    client.chat.completions.create(model="gpt-4o-mini", messages=USER, temperature=0.25)
    last = server.requests[-1]
    assert last.path == "/v1/chat/completions" and last.body["temperature"] == 0.25
    assert last.headers["authorization"] == "Bearer sk-test"


async def test_async_stream(aclient: openai.AsyncOpenAI) -> None:
    """The async client streams the same scripted answer."""
    stream = await aclient.chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == BIRTHDAY


def test_service_tier_is_echoed(client: openai.OpenAI) -> None:
    """The reply reports the requested service tier (``default`` for ``auto`` or none), plain
    and in every streamed chunk, with the system fingerprint."""
    flex = client.chat.completions.create(model="gpt-4o-mini", messages=USER, service_tier="flex")
    assert flex.service_tier == "flex" and flex.system_fingerprint
    auto = client.chat.completions.create(model="gpt-4o-mini", messages=USER, service_tier="auto")
    assert auto.service_tier == "default"
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=USER,
                                                 stream=True, service_tier="priority"))
    assert {c.service_tier for c in chunks} == {"priority"}
