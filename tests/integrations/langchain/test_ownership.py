"""One owner per LLM call: with the OpenAI SDK instrumentation also on, a LangChain run's SDK
call makes no second span and no second token count, and what only the SDK layer knows
(server address, response id) still lands on the LangChain run's span."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pydantic
import pytest

from otel_llm import semconv
from otel_llm.callbacks import BaseCallbackHandler
from otel_llm.devserver import ModelServer
from otel_llm.devserver import chat as devserver_chat
from otel_llm.instrumentation.openai import _suppress, instrument_openai
from otel_llm.integrations.langchain._llm_runs import open_runs
from otel_llm.integrations.langchain._ownership import CallSlot
from otel_llm.testing import InMemoryTelemetry

from .conftest import ModelFactory

INPUT = {semconv.GEN_AI_TOKEN_TYPE: "input"}
OUTPUT = {semconv.GEN_AI_TOKEN_TYPE: "output"}


@pytest.fixture
def both(otel: InMemoryTelemetry) -> tuple[list[Any], list[Any]]:
    """The SDK layer on, and two callback lists for LangChain, each with its own OTel handler."""
    instrument_openai([otel.handler()])
    return ([otel.handler()],
            [otel.handler()])


@pytest.fixture
def client(server: ModelServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(server: ModelServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test",
                                  max_retries=0) as c:
        yield c


def _token_sums(otel: InMemoryTelemetry) -> tuple[float, float]:
    return (sum(p.sum for p in otel.metric_points(semconv.METRIC_TOKEN_USAGE, **INPUT)),
            sum(p.sum for p in otel.metric_points(semconv.METRIC_TOKEN_USAGE, **OUTPUT)))


def test_sync_invoke_is_one_span_with_sdk_details(
        otel: InMemoryTelemetry, chat_model: ModelFactory, server: ModelServer,
        both: tuple[list[Any], list[Any]],
        client: openai.OpenAI) -> None:
    """invoke with both layers on: one chat span (LangChain's, parented to nothing), with
    server.address/port and the response id; tokens recorded once."""
    reply = chat_model().invoke("hello", config={"callbacks": both[0]})
    [span] = otel.spans()
    attrs = span.attributes or {}
    host, port = server.url.removeprefix("http://").split(":")
    assert attrs[semconv.SERVER_ADDRESS] == host and attrs[semconv.SERVER_PORT] == int(port)
    assert attrs[semconv.GEN_AI_RESPONSE_ID] == reply.response_metadata["id"]
    usage = reply.usage_metadata
    assert usage is not None
    assert _token_sums(otel) == (usage["input_tokens"], usage["output_tokens"])
    # The SDK layer is really on: the same call made directly is its span.
    client.chat.completions.create(model="gpt-4o-mini+len=5",
                                   messages=[{"role": "user", "content": "hello"}])
    assert len(otel.spans()) == 2
    assert _token_sums(otel) == (2 * usage["input_tokens"], 2 * usage["output_tokens"])


async def test_async_paths_are_one_span_each(
        otel: InMemoryTelemetry, chat_model: ModelFactory,
        both: tuple[list[Any], list[Any]]) -> None:
    """ainvoke, astream, abatch and gather, with either handler list: one chat span per
    LangChain call, none from the SDK layer."""
    model = chat_model("gpt-4o-mini+len=3")
    sync_fw, async_fw = both
    await model.ainvoke("a", config={"callbacks": sync_fw})
    await model.ainvoke("b", config={"callbacks": async_fw})
    async for _ in model.astream("c", config={"callbacks": async_fw}):
        pass
    await model.abatch(["d", "e"], config={"callbacks": sync_fw})
    await asyncio.gather(*(model.ainvoke(q, config={"callbacks": async_fw}) for q in "fgh"))
    spans = otel.spans()
    assert len(spans) == 8
    assert all(s.parent is None for s in spans)
    assert _token_sums(otel)[1] == 8 * 3


class Flower(pydantic.BaseModel):
    name: str
    price: int


@pytest.mark.parametrize("responses_api", [False, True], ids=["chat-api", "responses-api"])
@pytest.mark.parametrize("method", [None, "json_schema", "function_calling"])
def test_structured_output_and_the_responses_api_are_one_span_each(
        otel: InMemoryTelemetry, chat_model: ModelFactory,
        both: tuple[list[Any], list[Any]], responses_api: bool, method: str | None) -> None:
    """ChatOpenAI on the Chat or the Responses API (``use_responses_api``), plain or through
    ``with_structured_output`` (``json_schema`` makes langchain-openai call the SDK's
    ``parse``): one chat span with the response id, tokens recorded once, and a JSON
    schema request named as output type json."""
    model = chat_model("gpt-4o-mini", use_responses_api=responses_api)
    runnable = model if method is None else model.with_structured_output(Flower, method=method)
    out = runnable.invoke("a flower", config={"callbacks": both[0]})
    assert isinstance(out, Flower) if method else out.content
    [chat] = [s for s in otel.spans() if s.name == "chat gpt-4o-mini"]
    attrs = chat.attributes or {}
    assert attrs[semconv.GEN_AI_RESPONSE_ID].startswith("resp_" if responses_api else "chatcmpl-")
    assert _token_sums(otel) == (attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS],
                                 attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS])
    assert attrs.get(semconv.GEN_AI_OUTPUT_TYPE) == ("json" if method == "json_schema" else None)


@pytest.fixture
def known_ids(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The in-process model server's response ids, in the order it made them."""
    made: list[str] = []

    def new_id(prefix: str) -> str:
        made.append(f"{prefix}known{len(made)}")
        return made[-1]

    monkeypatch.setattr(devserver_chat, "new_id", new_id)
    yield made


def test_streamed_calls_get_the_response_id_from_the_suppressed_sdk_stream(
        otel: InMemoryTelemetry, chat_model: ModelFactory, known_ids: list[str],
        both: tuple[list[Any], list[Any]]) -> None:
    """A stream's id is only in its chunks (LangChain does not keep it): the suppressed SDK
    layer reads it from the first chunk it passes through, and the one span carries it."""
    for _ in chat_model("gpt-4o-mini+len=4").stream("hi", config={"callbacks": both[0]}):
        pass
    [span] = otel.spans()
    assert known_ids and (span.attributes or {})[semconv.GEN_AI_RESPONSE_ID] == known_ids[-1]


async def test_async_streamed_calls_get_the_response_id_too(
        otel: InMemoryTelemetry, chat_model: ModelFactory, known_ids: list[str],
        both: tuple[list[Any], list[Any]]) -> None:
    """The same through astream."""
    async for _ in chat_model("gpt-4o-mini+len=4").astream("hi", config={"callbacks": both[1]}):
        pass
    [span] = otel.spans()
    assert known_ids and (span.attributes or {})[semconv.GEN_AI_RESPONSE_ID] == known_ids[-1]


def test_server_address_from_the_sdk_when_langchain_does_not_know_it(
        otel: InMemoryTelemetry, chat_model: ModelFactory, server: ModelServer,
        monkeypatch: pytest.MonkeyPatch,
        both: tuple[list[Any], list[Any]]) -> None:
    """With the endpoint only in OPENAI_BASE_URL (read by the SDK, not by LangChain), the
    server attributes come from the suppressed SDK call's details, at the run's end."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    model = chat_model(base_url=None)
    assert model.openai_api_base is None
    model.invoke("hello", config={"callbacks": both[0]})
    [span] = otel.spans()
    host, port = server.url.removeprefix("http://").split(":")
    attrs = span.attributes or {}
    assert attrs[semconv.SERVER_ADDRESS] == host and attrs[semconv.SERVER_PORT] == int(port)


async def test_suppression_ends_with_the_run(
        otel: InMemoryTelemetry, chat_model: ModelFactory,
        both: tuple[list[Any], list[Any]],
        aclient: openai.AsyncOpenAI) -> None:
    """ainvoke ends its LLM run in a task of LangChain's (another context): the task that
    awaited it must not stay suppressed, so a direct SDK call afterwards is observed."""
    model = chat_model("gpt-4o-mini+len=2")
    await model.ainvoke("a", config={"callbacks": both[1]})
    async for _ in model.astream("b", config={"callbacks": both[1]}):
        pass
    assert _suppress.active() is None
    await aclient.chat.completions.create(model="gpt-4o-mini+len=2",
                                          messages=[{"role": "user", "content": "c"}])
    assert len(otel.spans()) == 3


def test_suppression_ends_with_a_sync_run_and_an_abandoned_stream(
        otel: InMemoryTelemetry, chat_model: ModelFactory,
        both: tuple[list[Any], list[Any]],
        client: openai.OpenAI) -> None:
    """After invoke, and after a stream closed half-way (its run fails), SDK calls in the
    same context are observed again."""
    model = chat_model("gpt-4o-mini+len=20")
    model.invoke("a", config={"callbacks": both[0]})
    stream = model.stream("b", config={"callbacks": both[0]})
    next(stream)
    stream.close()
    assert _suppress.active() is None
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "c"}])
    assert len(otel.spans()) == 3
    assert open_runs() == 0


def test_several_prompts_in_one_generate_get_their_own_sdk_details() -> None:
    """generate() opens all its runs before its first SDK call and calls in order: each
    call's details go to the oldest open run still waiting for some."""
    first, second = CallSlot(), CallSlot()
    hook = _suppress.active()
    assert hook is not None and hook[0] is second
    second({"response_id": "one"})
    second({"response_id": "two"})
    second({"response_id": "three"})  # a retry beyond the runs: nobody's
    assert first.details == {"response_id": "one"}
    assert second.details == {"response_id": "two"}
    first.close()
    second.close()
    assert _suppress.active() is None


def test_a_run_without_llm_listeners_leaves_the_call_to_the_sdk_layer(
        otel: InMemoryTelemetry, chat_model: ModelFactory) -> None:
    """Handlers that ignore LLM runs do not silence the SDK layer: the streamed
    call (ChatOpenAI's non-streamed calls go through with_raw_response, which the SDK layer
    leaves alone) is still recorded once, by the SDK layer."""
    instrument_openai([otel.handler()])

    class ChainsOnly(BaseCallbackHandler):
        ignore_llm = True

        def on_chain_start(self, *args: object, **kwargs: object) -> None:
            pass

    forwarder = [ChainsOnly()]
    list(chat_model().stream("hi", config={"callbacks": forwarder}))
    [span] = otel.spans()
    assert span.name == "chat gpt-4o-mini+len=5"
    assert (span.attributes or {})[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
