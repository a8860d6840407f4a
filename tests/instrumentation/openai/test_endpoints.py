"""Legacy completions, embeddings and the Responses API: their start and end events."""

from __future__ import annotations

import json

import openai
import pydantic

from otel_llm.schema import (
    INSTRUCTIONS_KEY,
    LS_MODEL_TYPE,
    GenerationChunk,
    HumanMessage,
    SystemMessage,
)
from otel_llm.usage import USAGE_ESTIMATED_KEY

from .support import Recorder

RESPONSES_TOOL = {
    "type": "function", "name": "get_weather", "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]},
}


def test_legacy_completion(client: openai.OpenAI, instrumented: Recorder) -> None:
    """completions.create is an `llm` run: on_llm_start with the prompt, Generation results."""
    result = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon",
                                       max_tokens=8)
    start = instrumented.only("llm_start")
    assert start.payload == ["Once upon"]
    assert start.kwargs["metadata"][LS_MODEL_TYPE] == "llm"
    assert start.kwargs["invocation_params"]["max_tokens"] == 8
    end = instrumented.assert_one_run_ended_once()
    [[generation]] = end.payload.generations
    assert generation.text == result.choices[0].text
    assert generation.generation_info == {"finish_reason": result.choices[0].finish_reason}
    assert end.payload.llm_output["token_usage"] == result.usage.to_dict()
    assert end.payload.llm_output["id"] == result.id


def test_legacy_completion_batch_is_one_run(client: openai.OpenAI, instrumented: Recorder
                                            ) -> None:
    """Several prompts in one request are one run (one request, one usage): the prompts are
    joined by blank lines and every choice is a generation."""
    result = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=["A", "B"],
                                       max_tokens=4)
    assert instrumented.only("llm_start").payload == ["A\n\nB"]
    end = instrumented.assert_one_run_ended_once()
    assert [g.text for g in end.payload.generations[0]] == [c.text for c in result.choices]


def test_legacy_completion_stream_is_estimated(client: openai.OpenAI, instrumented: Recorder
                                               ) -> None:
    """A legacy stream (never asked for usage) emits GenerationChunk tokens and ends with an
    estimate equal to what the server bills."""
    chunks = list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon",
                                            max_tokens=8, stream=True))
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    tokens = [e for e in instrumented.events if e.hook == "token"]
    assert all(isinstance(e.kwargs["chunk"], GenerationChunk) for e in tokens)
    end = instrumented.assert_one_run_ended_once()
    assert end.payload.generations[0][0].text == text
    out = end.payload.llm_output
    assert out[USAGE_ESTIMATED_KEY] is True
    instrumented.clear()
    billed = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon",
                                       max_tokens=8).usage
    assert out["token_usage"] == {"prompt_tokens": billed.prompt_tokens,
                                  "completion_tokens": billed.completion_tokens,
                                  "total_tokens": billed.total_tokens}


def test_embeddings(client: openai.OpenAI, instrumented: Recorder) -> None:
    """embeddings.create is an `embeddings` run with the input and the provider's usage."""
    result = client.embeddings.create(model="text-embedding-3-small", input=["red", "blue"])
    start = instrumented.only("llm_start")
    assert start.payload == ["red\n\nblue"]
    assert start.kwargs["metadata"][LS_MODEL_TYPE] == "embeddings"
    end = instrumented.assert_one_run_ended_once()
    assert end.payload.generations == [[]]
    assert end.payload.llm_output == {"token_usage": result.usage.to_dict(),
                                      "model_name": result.model}
    assert len(result.data) == 2


def test_responses_plain(client: openai.OpenAI, instrumented: Recorder) -> None:
    """responses.create is a chat run: instructions + input as messages; usage renamed to
    prompt/completion tokens with cached and reasoning details."""
    result = client.responses.create(model="gpt-4.1-nano", instructions="Be brief.",
                                     input="Hello there", max_output_tokens=40)
    start = instrumented.only("chat_start")
    assert start.payload == [[SystemMessage(content="Be brief.",
                                            additional_kwargs={INSTRUCTIONS_KEY: True}),
                              HumanMessage(content="Hello there")]]
    assert start.kwargs["invocation_params"]["max_tokens"] == 40
    end = instrumented.assert_one_run_ended_once()
    [[generation]] = end.payload.generations
    assert generation.text == result.output_text
    assert generation.generation_info == {"finish_reason": "stop"}
    usage = result.usage
    assert end.payload.llm_output == {
        "token_usage": {
            "prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "prompt_tokens_details": {
                "cached_tokens": usage.input_tokens_details.cached_tokens,
                "cache_write_tokens": usage.input_tokens_details.cache_write_tokens},
            "completion_tokens_details": {
                "reasoning_tokens": usage.output_tokens_details.reasoning_tokens},
        },
        "model_name": result.model, "id": result.id, "service_tier": result.service_tier,
    }


class Flower(pydantic.BaseModel):
    name: str
    price: int


def test_responses_parse_is_one_run_naming_its_schema(client: openai.OpenAI,
                                                      instrumented: Recorder) -> None:
    """responses.parse() (structured output; it posts itself, not through create) is one chat
    run: the text_format class is named in the invocation params, the usage is the server's
    and the caller still gets the parsed object."""
    result = client.responses.parse(model="gpt-4.1-nano", input="A flower?", text_format=Flower)
    assert isinstance(result.output_parsed, Flower)
    params = instrumented.only("chat_start").kwargs["invocation_params"]
    assert params["response_format"] == {"type": "json_schema", "json_schema": {"name": "Flower"}}
    end = instrumented.assert_one_run_ended_once()
    [[generation]] = end.payload.generations
    assert json.loads(generation.text) == result.output_parsed.model_dump()
    assert end.payload.llm_output["token_usage"]["completion_tokens"] == \
        result.usage.output_tokens
    assert end.payload.llm_output["id"] == result.id


async def test_async_responses_parse_is_one_run(aclient: openai.AsyncOpenAI,
                                                instrumented: Recorder) -> None:
    """AsyncResponses.parse() too: one run, the server's usage, the parsed object returned."""
    result = await aclient.responses.parse(model="gpt-4.1-nano", input="A flower?",
                                           text_format=Flower)
    assert isinstance(result.output_parsed, Flower)
    end = instrumented.assert_one_run_ended_once()
    assert end.payload.llm_output["token_usage"]["prompt_tokens"] == result.usage.input_tokens


def test_responses_stream_helper_is_one_run(client: openai.OpenAI,
                                            instrumented: Recorder) -> None:
    """responses.stream() (the SDK's event helper) goes through create: one run whose tokens
    are the text deltas the helper yields."""
    with client.responses.stream(model="gpt-4.1-nano+len=6", input="Hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert instrumented.tokens == deltas
    end = instrumented.assert_one_run_ended_once()
    assert end.payload.generations[0][0].text == final.output_text
    assert end.payload.llm_output["token_usage"]["completion_tokens"] == final.usage.output_tokens


def test_responses_stream(client: openai.OpenAI, instrumented: Recorder) -> None:
    """A Responses stream: one token per text delta, the final response's usage at the end,
    and every event passed to the caller."""
    events = list(client.responses.create(model="gpt-4.1-nano+len=9", input="Hi", stream=True))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert instrumented.tokens == deltas
    end = instrumented.assert_one_run_ended_once()
    final = events[-1].response
    assert end.payload.generations[0][0].text == "".join(deltas) == final.output_text
    assert end.payload.llm_output["token_usage"]["completion_tokens"] == final.usage.output_tokens
    assert end.payload.llm_output["id"] == final.id


def test_beta_responses_are_runs_where_the_sdk_has_them(client: openai.OpenAI,
                                                         instrumented: Recorder) -> None:
    """client.beta.responses.create (beta Responses features, recent SDKs) is a Responses run,
    plain and streamed; an SDK without it is instrumented everywhere else and nothing is
    patched for it."""
    from otel_llm.instrumentation.openai import _patch

    beta = getattr(client.beta, "responses", None)
    if beta is None:  # the lowest supported openai
        assert not [e for e in _patch._patched if e.resource[0] == "beta"]
        assert any(e.resource == ("responses",) for e in _patch._patched)
        return
    plain = beta.create(model="gpt-4.1-nano", input="Hi")
    end = instrumented.assert_one_run_ended_once()
    assert end.payload.llm_output["id"] == plain.id
    assert end.payload.llm_output["token_usage"]["completion_tokens"] == plain.usage.output_tokens
    instrumented.events.clear()
    events = list(beta.create(model="gpt-4.1-nano+len=6", input="Hi", stream=True))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) == 6 and instrumented.tokens == deltas
    end = instrumented.assert_one_run_ended_once()
    assert end.payload.generations[0][0].text == "".join(deltas)
    assert end.payload.llm_output["id"] == events[-1].response.id


def test_responses_tool_calls(client: openai.OpenAI, instrumented: Recorder) -> None:
    """Function calls of a response, plain or streamed, become tool calls with finish reason
    tool_calls; streamed argument deltas emit empty tokens."""
    kwargs = {"model": "gpt-4.1-nano", "input": "Weather in Paris?", "tools": [RESPONSES_TOOL],
              "tool_choice": "required"}
    plain = client.responses.create(**kwargs)
    streamed = list(client.responses.create(**kwargs, stream=True))
    ends = [e.payload for e in instrumented.events if e.hook == "end"]
    [call] = [i for i in plain.output if i.type == "function_call"]
    assert ends[0].generations[0][0].message.tool_calls == [
        {"name": "get_weather", "args": json.loads(call.arguments), "id": call.call_id,
         "type": "tool_call"}]
    assert ends[0].generations[0][0].generation_info == {"finish_reason": "tool_calls"}
    [scall] = [i for i in streamed[-1].response.output if i.type == "function_call"]
    assert ends[1].generations[0][0].message.tool_calls[0]["id"] == scall.call_id
    arg_deltas = [e for e in streamed if e.type == "response.function_call_arguments.delta"]
    assert instrumented.tokens.count("") == len(arg_deltas) + 1  # + the call's announcement


def test_responses_stream_closed_early_is_estimated(client: openai.OpenAI,
                                                    instrumented: Recorder) -> None:
    """A Responses stream closed before its final event has no usage: the text so far is
    counted locally and flagged."""
    with client.responses.create(model="gpt-4.1-nano+len=30", input="Hi", stream=True) as s:
        for event in s:
            if event.type == "response.output_text.delta" and len(instrumented.tokens) == 5:
                break
    end = instrumented.assert_one_run_ended_once()
    out = end.payload.llm_output
    assert out[USAGE_ESTIMATED_KEY] is True
    assert out["token_usage"]["completion_tokens"] == 6  # 5 words + the end-of-message token
    assert out["id"].startswith("resp_")


async def test_async_other_endpoints(aclient: openai.AsyncOpenAI, instrumented: Recorder
                                     ) -> None:
    """The async resources of completions, embeddings and responses are instrumented too."""
    await aclient.completions.create(model="gpt-3.5-turbo-instruct", prompt="x", max_tokens=3)
    await aclient.embeddings.create(model="text-embedding-3-small", input="x")
    await aclient.responses.create(model="gpt-4.1-nano", input="x")
    async for _ in await aclient.responses.create(model="gpt-4.1-nano+len=3", input="x",
                                                  stream=True):
        pass
    assert [h for h in instrumented.hooks if h != "token"] == [
        "llm_start", "end", "llm_start", "end", "chat_start", "end", "chat_start", "end"]
