"""Every way a sync stream can end ends its run exactly once, and the caller sees the
same chunks as without instrumentation."""

from __future__ import annotations

import gc
from typing import Any

import openai
import pytest

from otel_llm.callbacks import BaseCallbackHandler
from otel_llm.instrumentation.openai import StreamAbandonedError, instrument_openai
from otel_llm.schema import ChatGenerationChunk

from .support import DROP_MODEL, USER, Recorder, read_until_cut

MODEL = "gpt-4o-mini+len=10"


def _dump(chunks: list[Any]) -> list[dict[str, Any]]:
    return [c.model_dump(exclude={"id", "created"}) for c in chunks]


def _stream(client: openai.OpenAI, model: str = MODEL) -> Any:
    return client.chat.completions.create(model=model, messages=USER, stream=True)


def _settled(recorder: Recorder) -> Any:
    """Collect garbage (a late finalizer would add a second end), then the single end."""
    gc.collect()
    return recorder.assert_one_run_ended_once()


def test_caller_sees_the_same_chunks_as_uninstrumented(client: openai.OpenAI,
                                                       recorder: Recorder) -> None:
    """Instrumented, the caller gets exactly the chunks an uninstrumented call gets
    (the usage chunk we asked for is hidden), as the SDK's Stream type."""
    plain = list(_stream(client))
    instrument_openai([recorder])
    stream = _stream(client)
    assert isinstance(stream, openai.Stream)
    traced = list(stream)
    assert _dump(traced) == _dump(plain)
    assert recorder.only("end").payload.llm_output["token_usage"]["completion_tokens"] == 10


def test_full_iteration_ends_once(client: openai.OpenAI, instrumented: Recorder) -> None:
    """A for loop over the call expression (the proxy is a temporary) ends with on_llm_end
    after the last chunk, never as abandoned."""
    for _ in _stream(client):
        pass
    end = _settled(instrumented)
    assert end.hook == "end"
    assert end.payload.generations[0][0].generation_info == {"finish_reason": "stop"}


def test_context_manager_ends_once(client: openai.OpenAI, instrumented: Recorder) -> None:
    """`with stream:` read to the end ends once: exhaustion and __exit__ do not both end it."""
    with _stream(client) as stream:
        assert isinstance(stream, openai.Stream)
        chunks = list(stream)
    assert len(chunks) == 12  # role chunk, 10 words, finish chunk
    assert _settled(instrumented).hook == "end"


def test_break_inside_context_manager_ends_with_partial_result(
        client: openai.OpenAI, instrumented: Recorder) -> None:
    """Leaving a `with` block mid-stream closes it: on_llm_end with what arrived, the
    output's finish reason "error" (it did not finish)."""
    with _stream(client) as stream:
        for i, _ in enumerate(stream):
            if i == 3:
                break
    end = _settled(instrumented)
    assert end.hook == "end"
    [[generation]] = end.payload.generations
    assert generation.text == "".join(instrumented.tokens) and len(instrumented.tokens) == 3
    assert generation.generation_info == {"finish_reason": "error"}


def test_early_close_ends_once(client: openai.OpenAI, recorder: Recorder) -> None:
    """close() after two chunks ends the run once; closing again, or reading what the closed
    stream still yields (as the SDK does, uninstrumented), adds no event."""
    plain = _stream(client)
    head = [next(plain), next(plain)]
    plain.close()
    rest = list(plain)
    instrument_openai([recorder])
    stream = _stream(client)
    traced_head = [next(stream), next(stream)]
    stream.close()
    stream.close()
    events = len(recorder.events)
    assert _dump(list(stream)) == _dump(rest)
    assert _dump(traced_head) == _dump(head)
    assert len(recorder.events) == events
    del stream
    end = _settled(recorder)
    assert end.hook == "end"
    assert end.payload.generations[0][0].text == recorder.tokens[0]


def test_abandoned_stream_ends_with_an_error(client: openai.OpenAI,
                                             instrumented: Recorder) -> None:
    """A stream dropped mid-way without close() ends once, with StreamAbandonedError."""
    stream = _stream(client)
    next(stream)
    next(stream)
    del stream
    end = _settled(instrumented)
    assert end.hook == "error"
    assert isinstance(end.payload, StreamAbandonedError)


def test_stream_never_iterated_is_abandoned_once(client: openai.OpenAI,
                                                 instrumented: Recorder) -> None:
    """Nothing is read before the caller iterates; a stream dropped unread ends as abandoned."""
    stream = _stream(client)
    assert instrumented.hooks == ["chat_start"]
    assert stream.response.status_code == 200
    del stream
    assert isinstance(_settled(instrumented).payload, StreamAbandonedError)


def test_break_without_close_is_abandoned_when_dropped(client: openai.OpenAI,
                                                       instrumented: Recorder) -> None:
    """Breaking out of a loop keeps the run open until the stream object is dropped."""
    stream = _stream(client)
    for _ in stream:
        break
    assert instrumented.ends() == []
    del stream
    assert _settled(instrumented).hook == "error"


def test_mid_stream_drop_reports_the_sdk_exception(client: openai.OpenAI,
                                                   recorder: Recorder) -> None:
    """A connection cut mid-stream: the caller gets exactly what the SDK raises without
    instrumentation (its type: APIConnectionError, or the raw transport error before openai
    3.14), the same object on_llm_error got, after the chunks that did arrive."""
    plain, plain_seen = read_until_cut(_stream(client, DROP_MODEL))
    instrument_openai([recorder])
    traced, seen = read_until_cut(_stream(client, DROP_MODEL))
    assert type(traced) is type(plain)
    assert seen == plain_seen == 4
    end = _settled(recorder)
    assert end.hook == "error"
    assert end.payload is traced


def test_stream_attributes_pass_through(client: openai.OpenAI, instrumented: Recorder) -> None:
    """The proxy hands other attributes to the SDK stream (response, headers, ...)."""
    with _stream(client) as stream:
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert type(stream).__name__ == "TracedStream"
        assert next(iter(stream)).object == "chat.completion.chunk"
        list(stream)
    assert _settled(instrumented).hook == "end"


def test_sdk_stream_helper_read_to_the_end(client: openai.OpenAI, instrumented: Recorder
                                           ) -> None:
    """chat.completions.stream() (the SDK's event helper over create(stream=True)) works on
    the proxy: one run ending with on_llm_end; the helper sees no usage chunk, as before."""
    with client.chat.completions.stream(model=MODEL, messages=USER) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    assert final.usage is None
    assert _settled(instrumented).hook == "end"
    assert instrumented.tokens and "".join(instrumented.tokens) == final.choices[0].message.content


def test_sdk_stream_helper_left_early_ends_once_when_dropped(client: openai.OpenAI,
                                                              instrumented: Recorder) -> None:
    """Leaving the helper's block early closes the HTTP response behind our back (the helper
    closes the response, not the stream): the run ends once, as abandoned, when the helper
    is dropped (a known limit)."""
    with client.chat.completions.stream(model=MODEL, messages=USER) as stream:
        for _ in stream:
            break
    assert instrumented.ends() == []
    del stream
    assert isinstance(_settled(instrumented).payload, StreamAbandonedError)


class CallerBug(Exception):
    """The caller's own exception, raised while it iterates a stream."""


def test_caller_exception_inside_with_ends_with_what_arrived(client: openai.OpenAI,
                                                             instrumented: Recorder) -> None:
    """The caller raises while iterating inside `with`: its exception reaches it unchanged,
    the block closes the stream and the run ends once, on_llm_end with the chunks read, the
    output finishing with "error" (as a stream closed early; README: Existing openai code)."""
    bug = CallerBug("caller bug")
    with pytest.raises(CallerBug) as info, _stream(client) as stream:
        for i, _ in enumerate(stream):
            if i == 3:
                raise bug
    assert info.value is bug
    end = _settled(instrumented)
    assert end.hook == "end"
    [[generation]] = end.payload.generations
    assert generation.text == "".join(instrumented.tokens) and len(instrumented.tokens) == 3
    assert generation.generation_info == {"finish_reason": "error"}


def test_caller_exception_without_with_is_abandoned(client: openai.OpenAI,
                                                    instrumented: Recorder) -> None:
    """The caller raises while iterating a stream it never closes (no `with`): its exception
    reaches it unchanged and the run ends once, StreamAbandonedError, when the stream is
    dropped (here as the exception leaves the loop that held it)."""
    def consume() -> None:
        for i, _ in enumerate(_stream(client)):
            if i == 3:
                raise CallerBug("caller bug")

    with pytest.raises(CallerBug):
        consume()
    end = _settled(instrumented)
    assert end.hook == "error" and isinstance(end.payload, StreamAbandonedError)


class _TokenTap(BaseCallbackHandler):
    """Keeps each token's chunk; ``reads_token_chunk`` set per instance."""

    def __init__(self, reads_token_chunk: bool) -> None:
        self.reads_token_chunk = reads_token_chunk
        self.chunks: list[Any] = []

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        self.chunks.append((token, chunk))


def test_chunk_objects_are_built_only_when_a_handler_reads_them(client: openai.OpenAI) -> None:
    """A handler that reads chunks gets a ChatGenerationChunk per token (also when another
    handler of the run declares it does not read them); when every handler declares
    ``reads_token_chunk = False`` the tokens arrive with ``chunk=None``."""
    reader, skipper = _TokenTap(True), _TokenTap(False)
    instrument_openai([reader, skipper])
    list(_stream(client))
    assert len(reader.chunks) == 10
    assert all(isinstance(c, ChatGenerationChunk) and c.text == t and c.message.content == t
               for t, c in reader.chunks)
    assert skipper.chunks == reader.chunks
    only = _TokenTap(False)
    instrument_openai([only])
    list(_stream(client))
    assert [t for t, _ in only.chunks] == [t for t, _ in reader.chunks[:10]]
    assert {c for _, c in only.chunks} == {None}


def test_two_choices_stream_folds_each_choice_apart(client: openai.OpenAI,
                                                    instrumented: Recorder) -> None:
    """With n=2 (chunks of either choice) the end event has one generation per choice with
    that choice's own text and finish reason, and every text delta was emitted as a token."""
    chunks = list(client.chat.completions.create(model=MODEL, messages=USER, stream=True, n=2))
    texts = {0: "", 1: ""}
    for c in chunks:
        for choice in c.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts[0] and texts[1]
    end = _settled(instrumented)
    assert [g.text for g in end.payload.generations[0]] == [texts[0], texts[1]]
    assert [g.generation_info for g in end.payload.generations[0]] == [
        {"finish_reason": "stop"}] * 2
    assert "".join(instrumented.tokens) == "".join(
        ch.delta.content or "" for c in chunks for ch in c.choices)


class _Strict(Recorder):
    """Records the run, and fails every token with ``raise_error`` set."""

    raise_error = True

    def on_llm_new_token(self, token, **kw):  # type: ignore[no-untyped-def]
        raise ValueError("strict handler")


@pytest.mark.parametrize("alone", [True, False])
def test_raise_error_token_handler_reaches_the_caller_and_fails_the_run(
        client: openai.OpenAI, recorder: Recorder, alone: bool) -> None:
    """A raise_error handler failing on a streamed token makes the caller's iteration
    raise that exception (as in LangChain), and the run ends once, with that error;
    alone, its hook is called pre-bound, beside another handler through the manager."""
    strict = _Strict()
    instrument_openai([strict] if alone else [strict, recorder])
    with pytest.raises(ValueError, match="strict handler"):
        list(_stream(client))
    for rec in [strict] if alone else [strict, recorder]:
        end = _settled(rec)
        assert end.hook == "error" and isinstance(end.payload, ValueError)
