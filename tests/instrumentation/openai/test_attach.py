"""Attaching handlers: globally, per client, per block; combined without duplicate events;
suppression for frameworks; our own failures never reach the caller."""

from __future__ import annotations

import logging
from typing import Any

import openai
import pytest
from openai.resources.chat.completions.completions import AsyncCompletions, Completions
from openai.resources.embeddings import Embeddings
from openai.resources.responses.responses import Responses

from otel_llm.devserver import ModelServer
from otel_llm.instrumentation import openai as inst
from otel_llm.instrumentation.openai import (
    instrument_openai,
    is_instrumented,
    openai_callbacks,
    suppress,
    uninstrument_openai,
    wrap_openai,
)

from .support import USER, Recorder


def _chat(client: openai.OpenAI, **kwargs: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=USER, **kwargs)


def test_uninstrument_restores_the_sdk_methods(client: openai.OpenAI,
                                               recorder: Recorder) -> None:
    """instrument twice wraps once; uninstrument puts back the very same functions."""
    originals = [Completions.create, AsyncCompletions.create, Completions.parse,
                 Embeddings.create, Responses.create]
    instrument_openai([recorder])
    instrument_openai([recorder])
    assert is_instrumented()
    assert Completions.create is not originals[0]
    assert Completions.create.__wrapped__ is originals[0]  # type: ignore[attr-defined]
    _chat(client)
    assert recorder.hooks == ["chat_start", "end"]
    uninstrument_openai()
    uninstrument_openai()
    assert not is_instrumented()
    assert [Completions.create, AsyncCompletions.create, Completions.parse, Embeddings.create,
            Responses.create] == originals
    _chat(client)
    assert recorder.hooks == ["chat_start", "end"]


def test_instrument_again_replaces_handlers(client: openai.OpenAI) -> None:
    """The latest instrument_openai() call decides who listens."""
    first, second = Recorder(), Recorder()
    instrument_openai([first])
    instrument_openai([second])
    _chat(client)
    assert first.hooks == [] and second.hooks == ["chat_start", "end"]


def test_per_client_handlers(server: ModelServer, client: openai.OpenAI) -> None:
    """wrap_openai() handlers see only their client's calls, without global instrumentation."""
    mine = Recorder()
    wrapped = wrap_openai(openai.OpenAI(base_url=server.base_url, api_key="sk-test",
                                        max_retries=0), [mine])
    _chat(wrapped)
    _chat(client)
    assert mine.hooks == ["chat_start", "end"]
    wrapped.close()


async def test_per_client_handlers_async(server: ModelServer) -> None:
    """wrap_openai() works for AsyncOpenAI, streams included."""
    mine = Recorder()
    aclient = wrap_openai(openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test",
                                             max_retries=0), [mine])
    async for _ in await aclient.chat.completions.create(model="gpt-4o-mini+len=3",
                                                         messages=USER, stream=True):
        pass
    assert mine.hooks == ["chat_start", "token", "token", "token", "end"]
    await aclient.close()


def test_global_and_client_handlers_combine_without_duplicates(server: ModelServer) -> None:
    """Global + per-client: each handler gets each event once, whatever the order of setup;
    the same handler in both places is called once."""
    everyone, mine = Recorder(), Recorder()
    client = wrap_openai(openai.OpenAI(base_url=server.base_url, api_key="sk-test",
                                       max_retries=0), [mine, everyone])
    instrument_openai([everyone])
    _chat(client, stream=False)
    list(_chat(client, stream=True))
    assert mine.hooks.count("chat_start") == 2 and mine.hooks.count("end") == 2
    assert everyone.hooks == mine.hooks
    uninstrument_openai()
    _chat(client)
    assert mine.hooks.count("end") == 3 and everyone.hooks.count("end") == 3  # still wrapped
    client.close()


def test_scoped_handlers_join_instrumented_calls(client: openai.OpenAI,
                                                 recorder: Recorder) -> None:
    """Handlers of an openai_callbacks() block see the block's calls; a handler that is also
    global gets each event once."""
    instrument_openai([recorder])
    scoped = Recorder()
    with openai_callbacks(scoped, recorder):
        _chat(client)
    _chat(client)
    assert scoped.hooks == ["chat_start", "end"]
    assert recorder.hooks == ["chat_start", "end", "chat_start", "end"]


def test_scoped_handlers_alone(client: openai.OpenAI) -> None:
    """Instrumented with no handlers, calls are passed through untouched except inside a
    scoped block."""
    instrument_openai()
    scoped = Recorder()
    _chat(client)
    with openai_callbacks(scoped):
        _chat(client)
    assert scoped.hooks == ["chat_start", "end"]


def test_suppress_emits_nothing_and_reports_details(client: openai.OpenAI,
                                                    instrumented: Recorder,
                                                    server: ModelServer) -> None:
    """Inside suppress() a framework owns the call: no events at all, and its details hook
    gets the server address and response id the SDK layer saw (a stream's id completes its
    details dict in place when the first chunk is read; the caller sees the same chunks)."""
    seen: list[dict[str, Any]] = []
    with suppress(seen.append):
        result = _chat(client)
        stream = _chat(client, stream=True)
        assert isinstance(stream, openai.Stream)
        assert "response_id" not in seen[1]  # nothing read yet
        chunks = list(stream)
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini",
                                                               messages=USER)
    with suppress():
        _chat(client)
    assert instrumented.hooks == []
    host, port = server.url.removeprefix("http://").split(":")
    assert seen[0] == {
        "operation": "chat.completions.create", "provider": "openai",
        "base_url": server.base_url + "/", "server.address": host, "server.port": int(port),
        "request_model": "gpt-4o-mini", "stream": False, "response_id": result.id,
        "response_model": "gpt-4o-mini", "system_fingerprint": result.system_fingerprint,
        "request_id": result._request_id,
    }
    assert seen[1]["stream"] is True and seen[1]["response_id"] == chunks[0].id
    assert seen[1]["request_id"].startswith("req_")
    assert seen[2]["response_id"] == raw.parse().id
    assert seen[2]["request_id"] == raw.headers["x-request-id"]
    _chat(client)
    assert instrumented.hooks == ["chat_start", "end"]


def test_failing_details_hook_is_contained(client: openai.OpenAI, instrumented: Recorder,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """A details hook that raises is logged; the caller still gets the SDK's result."""

    def broken(details: dict[str, Any]) -> None:
        raise RuntimeError("hook bug")

    with suppress(broken), caplog.at_level(logging.WARNING):
        assert _chat(client).choices
    assert "details hook failed" in caplog.text


def test_internal_error_leaves_the_call_alone(client: openai.OpenAI, instrumented: Recorder,
                                              monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """A bug of ours while preparing the events is logged and the call proceeds exactly as
    if uninstrumented (no events, same result type)."""

    def broken(self: Any) -> Any:
        raise RuntimeError("instrumentation bug")

    monkeypatch.setattr(inst._request.Request, "invocation_params", broken)
    with caplog.at_level(logging.WARNING):
        result = _chat(client)
        chunks = list(_chat(client, stream=True))
    assert result.choices and all(c.choices and c.usage is None for c in chunks)  # no injection
    assert instrumented.hooks == []
    assert "instrumentation bug" in caplog.text


def test_internal_error_in_a_chunk_keeps_the_stream(client: openai.OpenAI,
                                                    instrumented: Recorder,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug of ours while folding a chunk is logged; the caller still gets every chunk and
    the run still ends once."""
    from otel_llm.instrumentation.openai._accumulators import ChatStream

    def broken(self: Any, chunk: Any, pending: Any) -> bool:
        raise RuntimeError("chunk bug")

    monkeypatch.setattr(ChatStream, "on_chunk", broken)
    chunks = list(client.chat.completions.create(model="gpt-4o-mini+len=5", messages=USER,
                                                 stream=True))
    assert len(chunks) == 8  # hiding needs the folding: the injected usage chunk shows
    assert instrumented.assert_one_run_ended_once().hook == "end"


def test_foreign_wrapper_on_top_never_doubles_events(client: openai.OpenAI) -> None:
    """Another library wrapping Completions.create on top of ours: uninstrument cannot remove
    ours (it is left passing through) and instrumenting again still gives one run per call."""
    original = Completions.create
    recorder = Recorder()
    instrument_openai([recorder])
    ours = Completions.create
    foreign_calls = []

    def foreign(self: Any, *args: Any, **kwargs: Any) -> Any:
        foreign_calls.append(1)
        return ours(self, *args, **kwargs)

    Completions.create = foreign  # type: ignore[method-assign]
    try:
        uninstrument_openai()
        assert Completions.create is foreign
        _chat(client)
        assert recorder.hooks == []
        instrument_openai([recorder])
        _chat(client)
        list(_chat(client, stream=True))
        assert recorder.hooks.count("chat_start") == 2 and len(recorder.ends()) == 2
        assert len(foreign_calls) == 3
    finally:
        uninstrument_openai()
        Completions.create = original  # type: ignore[method-assign]
