"""The Responses API through the real SDK: objects, the event stream, function calls."""

from __future__ import annotations

import json

import openai
import pydantic

INPUT = "What is the capital of France?"
EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


def test_plain_response(client: openai.OpenAI) -> None:
    """A plain call parses strictly; ``output_text`` is the scripted answer with usage."""
    r = client.responses.create(model="gpt-4.1-nano", input=INPUT, instructions="Be brief.")
    assert r.id.startswith("resp_") and r.object == "response" and r.status == "completed"
    assert r.output_text == "The capital of France is Paris."
    assert r.output[0].type == "message" and r.output[0].id.startswith("msg_")
    assert r.instructions == "Be brief."
    assert r.usage is not None and r.usage.output_tokens > 0
    assert r.usage.input_tokens_details.cached_tokens == 0
    assert r.usage.output_tokens_details.reasoning_tokens == 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


def test_stream_event_sequence(client: openai.OpenAI) -> None:
    """``stream=True`` yields the production event order with increasing sequence numbers;
    ``response.completed`` carries the usage."""
    events = list(client.responses.create(model="gpt-4.1-nano+len=12", input=INPUT, stream=True))
    kinds = [e.type for e in events]
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or kinds[i - 1] != k]
    assert collapsed == EVENTS
    assert kinds.count("response.output_text.delta") == 12
    assert [e.sequence_number for e in events] == list(range(len(events)))
    done = events[-1]
    assert done.type == "response.completed"
    # 12 one-token words plus the end-of-message token the Responses API bills.
    assert done.response.usage is not None and done.response.usage.output_tokens == 13
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == done.response.output_text
    assert len({e.response.id for e in events if hasattr(e, "response")}) == 1


def test_stream_helper_accumulates(client: openai.OpenAI) -> None:
    """The SDK's ``responses.stream()`` accumulator rebuilds the final response."""
    with client.responses.stream(model="gpt-4.1-nano", input=INPUT) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    assert final.output_text == "The capital of France is Paris."


def test_function_calls_plain_and_streamed(client: openai.OpenAI) -> None:
    """With function tools the output is a ``function_call`` item; streamed, its arguments
    arrive as deltas that add up to the final arguments."""
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    r = client.responses.create(model="gpt-4.1-nano", input="weather?", tools=tools)
    call = r.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    events = list(
        client.responses.create(model="gpt-4.1-nano", input="weather?", tools=tools, stream=True)
    )
    deltas = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert deltas == call.arguments
    follow = client.responses.create(
        model="gpt-4.1-nano",
        tools=tools,
        input=[
            {"role": "user", "content": "weather?"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name,
             "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "Rainy."},
        ],
    )
    assert follow.output_text == "Rainy."


def test_max_output_tokens_is_incomplete(client: openai.OpenAI) -> None:
    """``max_output_tokens`` cuts the text and marks the response incomplete."""
    r = client.responses.create(model="gpt-4.1-nano+len=40", input=INPUT, max_output_tokens=16)
    assert r.status == "incomplete" and r.incomplete_details is not None
    assert r.incomplete_details.reason == "max_output_tokens"
    assert r.usage is not None and r.usage.output_tokens == 16
    events = list(
        client.responses.create(
            model="gpt-4.1-nano+len=40", input=INPUT, max_output_tokens=16, stream=True
        )
    )
    assert events[-1].type == "response.incomplete"


def test_reasoning_model_reports_reasoning_tokens(client: openai.OpenAI) -> None:
    """Reasoning models spend hidden reasoning tokens, reported in usage and as an item."""
    r = client.responses.create(model="o4-mini", input=INPUT, reasoning={"effort": "low"})
    assert r.output[0].type == "reasoning"
    assert r.usage is not None and r.usage.output_tokens_details.reasoning_tokens == 64
    c = client.chat.completions.create(
        model="o4-mini", messages=[{"role": "user", "content": INPUT}], reasoning_effort="high"
    )
    assert c.usage is not None and c.usage.completion_tokens_details is not None
    assert c.usage.completion_tokens_details.reasoning_tokens == 448


class City(pydantic.BaseModel):
    name: str
    population: int


def test_structured_output_parses(client: openai.OpenAI) -> None:
    """A ``text.format`` JSON schema gets matching JSON, so ``responses.parse()`` works."""
    r = client.responses.parse(model="gpt-4.1-nano", input=INPUT, text_format=City)
    assert isinstance(r.output_parsed, City) and r.output_parsed.population == 1
