"""stream_usage: include_usage is asked only of servers known to accept it; the extra chunk is
hidden; without usage the local estimate equals the server's own count and is flagged."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai, wrap_openai
from otel_llm.instrumentation.openai._stream_usage import known_to_accept
from otel_llm.usage import USAGE_ESTIMATED_KEY

from .support import USER, PlainProxy, Recorder
from .test_chat import WEATHER_TOOL

MODEL = "gpt-4o-mini+len=15"


def _usage_of(client: openai.OpenAI, **kwargs: Any) -> dict[str, Any]:
    """What the server bills for the same request, asked non-streamed."""
    result = client.chat.completions.create(**kwargs)
    return {"prompt_tokens": result.usage.prompt_tokens,
            "completion_tokens": result.usage.completion_tokens,
            "total_tokens": result.usage.total_tokens}


def test_injected_for_the_devserver_and_hidden(client: openai.OpenAI, instrumented: Recorder,
                                               server: ModelServer) -> None:
    """The devserver is recognised: include_usage is added, its usage-only chunk never
    reaches the caller, and the provider's usage reaches on_llm_end unflagged."""
    chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    assert server.requests[-1].body["stream_options"] == {"include_usage": True}
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    out = instrumented.llm_output
    assert out["token_usage"]["completion_tokens"] == 15
    assert out["token_usage"]["prompt_tokens_details"] == {"audio_tokens": 0, "cached_tokens": 0}
    assert USAGE_ESTIMATED_KEY not in out


def test_injected_through_another_host_alias(server: ModelServer, instrumented: Recorder
                                             ) -> None:
    """The rule keys on what answers, not on a host name: the same devserver reached as
    localhost is probed and recognised too."""
    url = server.base_url.replace("127.0.0.1", "localhost")
    with openai.OpenAI(base_url=url, api_key="sk-test", max_retries=0) as client:
        list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    assert server.requests[-1].body["stream_options"] == {"include_usage": True}
    assert USAGE_ESTIMATED_KEY not in instrumented.llm_output


def test_not_injected_for_another_server_and_estimated(server: ModelServer,
                                                       instrumented: Recorder) -> None:
    """A loopback server that is not the devserver (and would reject stream_options) gets the
    request as the caller wrote it; usage is counted locally, equals what the server bills,
    and is flagged as estimated."""
    with PlainProxy(server.url + "/v1") as proxy, openai.OpenAI(
            base_url=proxy.base_url, api_key="sk-test", max_retries=0) as client:
        chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
        assert "stream_options" not in proxy.bodies[-1]
        out = instrumented.llm_output
        expected = _usage_of(client, model=MODEL, messages=USER)
    assert len(chunks) == 17
    assert out[USAGE_ESTIMATED_KEY] is True
    assert out["token_usage"] == expected


def test_estimate_of_streamed_tool_calls(server: ModelServer, instrumented: Recorder) -> None:
    """Tool definitions, a forced tool choice and streamed tool calls are counted as the
    server bills them."""
    request = {"model": "gpt-4o-mini+tool_calls=2", "tools": [WEATHER_TOOL],
               "tool_choice": "required",
               "messages": [{"role": "system", "content": "Use tools."},
                            {"role": "user", "content": "Paris? Rome?"}]}
    with PlainProxy(server.url + "/v1") as proxy, openai.OpenAI(
            base_url=proxy.base_url, api_key="sk-test", max_retries=0) as client:
        list(client.chat.completions.create(**request, stream=True))
        out = instrumented.llm_output
        expected = _usage_of(client, **request)
    assert out[USAGE_ESTIMATED_KEY] is True
    assert out["token_usage"] == expected


def test_callers_own_include_usage_is_untouched(client: openai.OpenAI, instrumented: Recorder,
                                                server: ModelServer) -> None:
    """A caller who asked for usage gets the usage chunk as before; it is used once, not
    estimated and not counted twice."""
    options = {"include_usage": True}
    chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True,
                                                 stream_options=options))
    assert server.requests[-1].body["stream_options"] == {"include_usage": True}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    out = instrumented.llm_output
    assert USAGE_ESTIMATED_KEY not in out
    assert out["token_usage"] == chunks[-1].usage.to_dict()


def test_callers_include_usage_false_is_respected(client: openai.OpenAI,
                                                  instrumented: Recorder,
                                                  server: ModelServer) -> None:
    """include_usage=False from the caller is not overridden: the usage is estimated."""
    list(client.chat.completions.create(model=MODEL, messages=USER, stream=True,
                                        stream_options={"include_usage": False}))
    assert server.requests[-1].body["stream_options"] == {"include_usage": False}
    assert instrumented.llm_output[USAGE_ESTIMATED_KEY] is True


def test_other_stream_options_are_kept(client: openai.OpenAI, instrumented: Recorder,
                                       server: ModelServer) -> None:
    """Injection adds include_usage next to the caller's other stream options."""
    list(client.chat.completions.create(model=MODEL, messages=USER, stream=True,
                                        stream_options={"include_obfuscation": False}))
    assert server.requests[-1].body["stream_options"] == {"include_obfuscation": False,
                                                         "include_usage": True}


def test_stream_usage_off(client: openai.OpenAI, recorder: Recorder,
                          server: ModelServer) -> None:
    """stream_usage=False never asks, even the devserver; the estimate is exact there."""
    instrument_openai([recorder], stream_usage=False)
    list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
    assert "stream_options" not in server.requests[-1].body
    out = recorder.llm_output
    recorder.clear()
    assert out[USAGE_ESTIMATED_KEY] is True
    assert out["token_usage"] == _usage_of(client, model=MODEL, messages=USER)


def test_stream_usage_always(server: ModelServer, recorder: Recorder) -> None:
    """stream_usage="always" asks any server (here one that accepts it but is unknown)."""
    with PlainProxy(server.url + "/v1", strict=False) as proxy, openai.OpenAI(
            base_url=proxy.base_url, api_key="sk-test", max_retries=0) as client:
        wrap_openai(client, [recorder], stream_usage="always")
        chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
        assert proxy.bodies[-1]["stream_options"] == {"include_usage": True}
    assert all(c.choices for c in chunks)
    assert USAGE_ESTIMATED_KEY not in recorder.llm_output


def test_azure_clients_are_asked(server: ModelServer, instrumented: Recorder) -> None:
    """Azure OpenAI accepts include_usage: an Azure client is asked whatever its URL, and
    its calls are reported with provider azure.ai.openai."""
    with PlainProxy(server.url + "/v1", strict=False) as proxy, openai.AzureOpenAI(
            base_url=proxy.base_url, api_key="sk-test", api_version="2024-10-21",
            max_retries=0) as client:
        list(client.chat.completions.create(model=MODEL, messages=USER, stream=True))
        assert proxy.bodies[-1]["stream_options"] == {"include_usage": True}
    start = instrumented.only("chat_start")
    assert start.kwargs["metadata"]["ls_provider"] == "azure.ai.openai"
    assert USAGE_ESTIMATED_KEY not in instrumented.llm_output


@pytest.mark.parametrize(("mode", "azure", "url", "expected"), [
    (True, False, "https://api.openai.com/v1", True),
    (True, False, "https://eu.api.openai.com/v1", True),
    (True, True, "https://example.openai.azure.com/openai", True),
    (True, False, "https://my-vllm.internal:8000/v1", False),
    (True, False, "https://api.openai.com.evil.example/v1", False),
    ("always", False, "https://my-vllm.internal:8000/v1", True),
    (False, False, "https://api.openai.com/v1", False),
    (False, True, "https://example.openai.azure.com/openai", False),
])
def test_rule_without_probing(mode: Any, azure: bool, url: str, expected: bool) -> None:
    """The host rule: OpenAI's API hosts and Azure clients yes, other hosts no (never probed:
    only loopback servers are), "always" and False override."""
    assert known_to_accept(mode, azure, url) is expected


async def test_async_azure_client(server: ModelServer, instrumented: Recorder) -> None:
    """AsyncAzureOpenAI: provider azure.ai.openai, include_usage asked, usage not estimated."""
    with PlainProxy(server.url + "/v1", strict=False) as proxy:
        async with openai.AsyncAzureOpenAI(base_url=proxy.base_url, api_key="sk-test",
                                           api_version="2024-10-21", max_retries=0) as client:
            stream = await client.chat.completions.create(model=MODEL, messages=USER,
                                                          stream=True)
            chunks = [c async for c in stream]
        assert proxy.bodies[-1]["stream_options"] == {"include_usage": True}
    assert all(c.choices for c in chunks)
    start = instrumented.only("chat_start")
    assert start.kwargs["metadata"]["ls_provider"] == "azure.ai.openai"
    assert USAGE_ESTIMATED_KEY not in instrumented.llm_output
