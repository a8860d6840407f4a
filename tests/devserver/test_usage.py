"""Usage numbers are the project's own tiktoken counts of the request and the reply."""

from __future__ import annotations

import json

import openai

from otel_llm.devserver import ModelServer
from otel_llm.tokens import (
    count_completion_tokens,
    count_message_tokens,
    count_prompt_tokens,
    count_tokens,
    count_tool_call_tokens,
)

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Look up an order",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "integer"}, "email": {"type": "string"}},
                "required": ["order_id"],
            },
        },
    }
]


def test_chat_usage_matches_counter(client: openai.OpenAI) -> None:
    """prompt_tokens = count_message_tokens(messages, tools); completion_tokens =
    count_tokens(reply), for cl100k and o200k models."""
    messages = [
        {"role": "system", "content": "You are a florist."},
        {"role": "user", "content": "哪种花卉最适合生日?", "name": "alice"},
    ]
    for model in ("gpt-4o-mini", "gpt-3.5-turbo", "gpt-4.1-nano"):
        r = client.chat.completions.create(model=model, messages=messages)
        assert r.usage is not None
        assert r.usage.prompt_tokens == count_message_tokens(messages, model)
        assert r.usage.completion_tokens == count_tokens(r.choices[0].message.content or "", model)
        t = client.chat.completions.create(model=model, messages=messages, tools=TOOLS)
        assert t.usage is not None
        assert t.usage.prompt_tokens == count_message_tokens(messages, model, tools=TOOLS)
        calls = t.choices[0].message.tool_calls or []
        assert t.usage.completion_tokens == count_tool_call_tokens(calls, model)
        assert json.loads(calls[0].function.arguments) == {"order_id": 1, "email": "user@example.com"}


def test_streamed_usage_matches_streamed_text(client: openai.OpenAI) -> None:
    """The usage chunk's completion_tokens equals the count of the streamed pieces."""
    messages = [{"role": "user", "content": "Describe the sea"}]
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == count_completion_tokens(pieces, "gpt-4o")
    assert usage.prompt_tokens == count_message_tokens(messages, "gpt-4o")


def test_lorem_length_is_exact_in_both_encodings(client: openai.OpenAI) -> None:
    """``len=N`` is exactly N completion tokens under cl100k_base and o200k_base."""
    for model in ("gpt-4o-mini", "gpt-3.5-turbo"):
        r = client.chat.completions.create(
            model=f"{model}+len=137", messages=[{"role": "user", "content": "x"}]
        )
        assert r.usage is not None and r.usage.completion_tokens == 137
        assert count_tokens(r.choices[0].message.content or "", model) == 137


def test_other_endpoints_match_counter(client: openai.OpenAI) -> None:
    """Legacy prompts and embedding inputs count like count_prompt_tokens; Responses
    input like a user message and output with the end-of-message token."""
    prompt = ["Once upon a time", "In a galaxy far away"]
    c = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=prompt, max_tokens=5)
    assert c.usage is not None
    assert c.usage.prompt_tokens == count_prompt_tokens(prompt, "gpt-3.5-turbo-instruct")
    assert c.usage.completion_tokens == sum(
        count_tokens(ch.text, "gpt-3.5-turbo-instruct") for ch in c.choices
    )
    e = client.embeddings.create(
        model="text-embedding-3-small", input=prompt, encoding_format="float"
    )
    assert e.usage.prompt_tokens == count_prompt_tokens(prompt, "text-embedding-3-small")
    r = client.responses.create(model="gpt-4.1-nano", input="What is the capital of France?")
    assert r.usage is not None
    user = [{"role": "user", "content": "What is the capital of France?"}]
    assert r.usage.input_tokens == count_message_tokens(user, "gpt-4.1-nano") == 14
    assert r.usage.output_tokens == count_completion_tokens(
        [r.output_text], "gpt-4.1-nano", endpoint="responses"
    )


def test_repeated_long_prompt_reports_cached_tokens() -> None:
    """A repeated prompt of 1024+ tokens reports cached tokens in 128-token steps,
    as OpenAI's prompt caching does."""
    with ModelServer() as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)
        messages = [{"role": "user", "content": "tracing " * 1200}]
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        second = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        assert first.usage is not None and second.usage is not None
        assert first.usage.prompt_tokens_details is not None
        assert second.usage.prompt_tokens_details is not None
        assert first.usage.prompt_tokens_details.cached_tokens == 0
        prompt = second.usage.prompt_tokens
        cached = second.usage.prompt_tokens_details.cached_tokens
        assert cached == 1024 + (prompt - 1024) // 128 * 128
        client.close()
