"""Sync chat completions through the real SDK: start/end events, streams, tool calls, parse()."""

from __future__ import annotations

import json

import openai
import pydantic
from openai.types.chat import ChatCompletion

from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai
from otel_llm.schema import (
    LS_MODEL_NAME,
    LS_MODEL_TYPE,
    LS_PROVIDER,
    AIMessage,
    ChatGenerationChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from otel_llm.usage import USAGE_ESTIMATED_KEY

from .support import USER, Recorder

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_non_streamed_chat_start_event(client: openai.OpenAI, instrumented: Recorder,
                                       server: ModelServer) -> None:
    """The start event names the model, provider and request parameters (never message
    content) and carries the request messages as schema messages."""
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "system", "content": "Be brief."}, *USER],
        temperature=0.2, top_p=0.9, max_tokens=50, stop=["\n\n"], seed=7, n=1,
        frequency_penalty=0.1, presence_penalty=0.2,
    )
    start = instrumented.only("chat_start")
    assert start.kwargs["serialized"]["name"] == "OpenAI"
    assert start.kwargs["name"] == "OpenAI"
    assert start.kwargs["metadata"] == {
        LS_PROVIDER: "openai", LS_MODEL_NAME: "gpt-4o-mini", LS_MODEL_TYPE: "chat"
    }
    assert start.kwargs["invocation_params"] == {
        "model": "gpt-4o-mini", "temperature": 0.2, "top_p": 0.9, "max_tokens": 50,
        "stop": ["\n\n"], "seed": 7, "n": 1, "frequency_penalty": 0.1, "presence_penalty": 0.2,
        "base_url": server.base_url + "/",
    }
    [messages] = start.payload
    assert messages == [SystemMessage(content="Be brief."),
                        HumanMessage(content="Say something short.")]


def test_non_streamed_chat_end_event(client: openai.OpenAI, instrumented: Recorder) -> None:
    """The end event carries the reply, finish reason, provider usage, model, id and
    fingerprint; the caller gets the SDK's own ChatCompletion."""
    result = client.chat.completions.create(model="gpt-4o-mini+len=12", messages=USER)
    assert type(result) is ChatCompletion
    end = instrumented.assert_one_run_ended_once()
    assert end.hook == "end"
    [[generation]] = end.payload.generations
    assert generation.text == result.choices[0].message.content
    assert generation.message.type == "ai"
    assert generation.generation_info == {"finish_reason": "stop"}
    out = end.payload.llm_output
    assert out["token_usage"] == result.usage.to_dict()
    assert out["token_usage"]["completion_tokens"] == 12
    assert out["model_name"] == result.model
    assert out["id"] == result.id
    assert out["system_fingerprint"] == result.system_fingerprint
    assert USAGE_ESTIMATED_KEY not in out


def test_history_messages_are_converted(client: openai.OpenAI, instrumented: Recorder) -> None:
    """Assistant tool calls, tool results and SDK message objects in the history become
    AIMessage(tool_calls=[...]) / ToolMessage, as LangChain shapes them."""
    first = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    history = [
        *USER,
        first.choices[0].message,  # an SDK object, as users append them
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    instrumented.clear()
    client.chat.completions.create(model="gpt-4o-mini", messages=history)
    [messages] = instrumented.only("chat_start").payload
    assert [type(m) for m in messages] == [HumanMessage, AIMessage, AIMessage, ToolMessage]
    assert messages[1].content == first.choices[0].message.content
    assert messages[2].tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"}
    ]
    assert messages[3].tool_call_id == "call_1" and messages[3].content == "sunny"


def test_streamed_chat_tokens_and_result(client: openai.OpenAI, instrumented: Recorder) -> None:
    """Each content delta is one on_llm_new_token with a ChatGenerationChunk (its message
    built on first read); the end event
    has the joined text, the finish reason and the provider's usage (not estimated)."""
    chunks = list(client.chat.completions.create(model="gpt-4o-mini+len=20", messages=USER,
                                                 stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    end = instrumented.assert_one_run_ended_once()
    assert instrumented.tokens == [c.choices[0].delta.content for c in chunks
                                   if c.choices[0].delta.content]
    token_chunks = [e.kwargs["chunk"] for e in instrumented.events if e.hook == "token"]
    assert all(isinstance(c, ChatGenerationChunk) for c in token_chunks)
    assert [c.text for c in token_chunks] == instrumented.tokens
    # The message is built lazily, yet reads, compares and prints like an eager chunk.
    first = token_chunks[0]
    eager = ChatGenerationChunk(text=first.text, message=AIMessage(content=first.text))
    assert first.message == AIMessage(content=first.text) and first.generation_info is None
    assert first == eager and eager == first and repr(first) == repr(eager)
    assert first != ChatGenerationChunk(text="other", message=AIMessage(content="other"))
    first.message = AIMessage(content="replaced")
    assert first.message.content == "replaced"
    [[generation]] = end.payload.generations
    assert generation.text == text
    assert generation.generation_info == {"finish_reason": "stop"}
    out = end.payload.llm_output
    assert out["token_usage"]["completion_tokens"] == 20
    assert out["id"] == chunks[0].id and out["model_name"] == "gpt-4o-mini"
    assert USAGE_ESTIMATED_KEY not in out
    start = instrumented.only("chat_start")
    assert start.kwargs["invocation_params"]["stream"] is True


def test_tool_calls_non_streamed(client: openai.OpenAI, instrumented: Recorder) -> None:
    """Tool calls of a reply reach on_llm_end as LangChain tool calls with parsed args."""
    result = client.chat.completions.create(
        model="gpt-4o-mini+tool_calls=2", messages=[{"role": "user", "content": "Paris? Rome?"}],
        tools=[WEATHER_TOOL], tool_choice="required",
    )
    calls = result.choices[0].message.tool_calls
    assert calls is not None and len(calls) == 2
    [[generation]] = instrumented.only("end").payload.generations
    assert generation.generation_info == {"finish_reason": "tool_calls"}
    assert generation.message.tool_calls == [
        {"name": c.function.name, "args": json.loads(c.function.arguments), "id": c.id,
         "type": "tool_call"} for c in calls
    ]
    params = instrumented.only("chat_start").kwargs["invocation_params"]
    assert params["tools"] == [WEATHER_TOOL] and params["tool_choice"] == "required"


def test_tool_calls_assembled_from_stream(client: openai.OpenAI, instrumented: Recorder) -> None:
    """Streamed tool-call deltas emit empty-text tokens whose chunk carries the delta, and
    are assembled into complete tool calls (id, name, parsed args) at the end."""
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini+tool_calls=2", messages=[{"role": "user", "content": "Paris? Rome?"}],
        tools=[WEATHER_TOOL], tool_choice="required", stream=True,
    ))
    deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or ()]
    token_events = [e for e in instrumented.events if e.hook == "token"]
    assert len(token_events) == len(deltas)
    assert all(e.payload == "" for e in token_events)
    carried = [e.kwargs["chunk"].message.additional_kwargs["tool_call_chunks"][0]
               for e in token_events]
    assert [c["index"] for c in carried] == [d.index for d in deltas]
    [[generation]] = instrumented.only("end").payload.generations
    assert generation.generation_info == {"finish_reason": "tool_calls"}
    ids = [d.id for d in deltas if d.id]
    args = ["".join(d.function.arguments or "" for d in deltas if d.index == i) for i in (0, 1)]
    assert generation.message.tool_calls == [
        {"name": "get_weather", "args": json.loads(args[i]), "id": ids[i], "type": "tool_call"}
        for i in (0, 1)
    ]


def test_parse_reports_the_schema_name(client: openai.OpenAI, instrumented: Recorder) -> None:
    """chat.completions.parse() is one run; a pydantic response_format is named in the
    invocation params and the parsed object still reaches the caller."""

    class Answer(pydantic.BaseModel):
        answer: str

    result = client.chat.completions.parse(model="gpt-4o-mini", messages=USER,
                                           response_format=Answer)
    assert isinstance(result.choices[0].message.parsed, Answer)
    end = instrumented.assert_one_run_ended_once()
    params = instrumented.only("chat_start").kwargs["invocation_params"]
    assert params["response_format"] == {"type": "json_schema",
                                         "json_schema": {"name": "Answer"}}
    [[generation]] = end.payload.generations
    assert json.loads(generation.text) == result.choices[0].message.parsed.model_dump()
    assert end.payload.llm_output["token_usage"] == result.usage.to_dict()


def test_n_choices_are_separate_generations(client: openai.OpenAI, instrumented: Recorder
                                            ) -> None:
    """n > 1: one run, one generation per choice, streamed or not."""
    plain = client.chat.completions.create(model="gpt-4o-mini+len=4", messages=USER, n=2)
    streamed = list(client.chat.completions.create(model="gpt-4o-mini+len=4", messages=USER,
                                                   n=2, stream=True))
    ends = [e.payload for e in instrumented.events if e.hook == "end"]
    assert [g.text for g in ends[0].generations[0]] == [c.message.content for c in plain.choices]
    texts = ["".join(c.choices[0].delta.content or "" for c in streamed
                     if c.choices and c.choices[0].index == i) for i in (0, 1)]
    assert [g.text for g in ends[1].generations[0]] == texts


def test_messages_from_a_generator_are_read_once(client: openai.OpenAI, instrumented: Recorder,
                                                 server: ModelServer) -> None:
    """Messages passed as a one-shot iterable reach both the handlers and the server."""
    client.chat.completions.create(model="gpt-4o-mini", messages=(m for m in USER))
    assert server.requests[-1].body["messages"] == USER
    assert instrumented.only("chat_start").payload == [[HumanMessage(content=USER[0]["content"])]]


class _NoInputs(Recorder):
    """A recorder declaring that it never reads prompts or messages."""

    reads_inputs = False


def test_messages_are_converted_only_when_a_handler_reads_them(client: openai.OpenAI) -> None:
    """With a handler that reads inputs the start event carries the request's messages
    (also for a handler beside it that declares it does not); when every handler declares
    ``reads_inputs = False`` the start event carries one empty message list instead."""
    reader, skipper = Recorder(), _NoInputs()
    instrument_openai([reader, skipper])
    client.chat.completions.create(model="gpt-4o-mini+len=3", messages=USER)
    [messages] = reader.only("chat_start").payload
    assert [(m.type, m.content) for m in messages] == [
        ("human", USER[0]["content"])]
    assert skipper.only("chat_start").payload == reader.only("chat_start").payload
    alone = _NoInputs()
    instrument_openai([alone])
    client.chat.completions.create(model="gpt-4o-mini+len=3", messages=USER)
    assert alone.only("chat_start").payload == [[]]
    assert alone.only("end").payload.generations[0][0].text  # the run itself is whole
