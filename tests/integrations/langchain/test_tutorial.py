"""The LangChain callbacks tutorial ported by changing imports only: one test per row of issue
#13's table, on real langchain-core / langchain-openai / langchain-classic against the
devserver, counts compared with the usage the server reported to LangChain."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import openai
import pytest
from langchain_classic.chains import ConversationChain, LLMChain
from langchain_classic.memory import ConversationBufferMemory
from langchain_core.callbacks import CallbackManager
from langchain_core.messages import HumanMessage
from langchain_core.prompts import PromptTemplate
from langchain_openai import ChatOpenAI, OpenAI

from otel_llm import OpenTelemetryCallbackHandler, get_openai_callback, semconv
from otel_llm.callbacks import AsyncCallbackHandler, BaseCallbackHandler, FileCallbackHandler
from otel_llm.devserver import ModelServer
from otel_llm.instrumentation.openai import instrument_openai
from otel_llm.testing import InMemoryTelemetry

from .conftest import ModelFactory

TURNS = ("我姐姐明天要过生日,我需要一束生日花束。", "她喜欢粉色玫瑰,颜色是粉色的。",
         "我又来了,还记得我昨天为什么要来买花吗?")


class ServerUsage(BaseCallbackHandler):
    """What the server reported to LangChain (``llm_output["token_usage"]``), summed."""

    def __init__(self) -> None:
        self.prompt = self.completion = self.calls = 0

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        usage = (response.llm_output or {})["token_usage"]
        self.prompt += usage["prompt_tokens"]
        self.completion += usage["completion_tokens"]
        self.calls += 1


def completion_model(server: ModelServer, **kwargs: Any) -> OpenAI:
    return OpenAI(model="gpt-3.5-turbo-instruct", base_url=server.base_url, api_key="sk-test",
                  max_retries=0, http_client=openai.DefaultHttpxClient(),
                  http_async_client=openai.DefaultAsyncHttpxClient(), **kwargs)


def test_file_handler_in_a_verbose_llm_chain(server: ModelServer, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Row 1: FileCallbackHandler in LLMChain(callbacks=[...], verbose=True) is accepted (no
    ValidationError); the chain's log is in the file, LangChain's verbose log on stdout, and
    get_openai_callback() counts what the server reported."""
    log = tmp_path / "output.log"
    handler = FileCallbackHandler(str(log))
    usage = ServerUsage()
    chain = LLMChain(llm=completion_model(server),
                     prompt=PromptTemplate.from_template("1 + {number} = "),
                     callbacks=[handler], verbose=True)
    with get_openai_callback() as cb:
        answer = chain.invoke({"number": 2}, config={"callbacks": [usage]})["text"]
    written = log.read_text(encoding="utf-8")
    assert "> Entering new LLMChain chain..." in written and "1 + 2 = " in written
    assert "> Entering new LLMChain chain..." in capsys.readouterr().out
    assert answer.strip()
    assert usage.calls == 1 and usage.prompt > 0
    assert (cb.prompt_tokens, cb.completion_tokens) == (usage.prompt, usage.completion)


class MyFlowerShopSyncHandler(BaseCallbackHandler):
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.events.append(f"token:{token}")


class MyFlowerShopAsyncHandler(AsyncCallbackHandler):
    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def on_llm_start(self, serialized: dict[str, Any], prompts: list[str],
                           **kwargs: Any) -> None:
        self.events.append("start")
        await asyncio.sleep(0.01)  # really suspends: awaited before the call goes on
        self.events.append("started")

    async def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.01)
        self.events.append("end")


async def test_flower_shop_handlers_on_a_streamed_chat_model(chat_model: ModelFactory) -> None:
    """Row 2: our sync and async handlers in ChatOpenAI(streaming=True, callbacks=[...]) with
    agenerate: the chat run reaches the async on_llm_start, awaited before the first token;
    on_llm_end awaited before agenerate returns; the counter's estimate of the stream (the
    server sent no usage) equals the usage the server reports for the same request."""
    events: list[str] = []
    model = chat_model("gpt-4o-mini+len=6", max_tokens=100, streaming=True,
                       callbacks=[MyFlowerShopSyncHandler(events), MyFlowerShopAsyncHandler(events)])
    question = [[HumanMessage(content="哪种花卉最适合生日?只简单说3种,不超过50字")]]
    with get_openai_callback() as cb:
        result = await model.agenerate(question)
    assert events[:2] == ["start", "started"] and events[-1] == "end"
    tokens = [e.removeprefix("token:") for e in events[2:-1]]
    assert all(e.startswith("token:") for e in events[2:-1])
    assert "".join(tokens) == result.generations[0][0].text
    reported = await chat_model("gpt-4o-mini+len=6", max_tokens=100,
                                stream_usage=True).ainvoke(question[0])
    assert reported.usage_metadata is not None
    assert (cb.prompt_tokens, cb.completion_tokens) == (
        reported.usage_metadata["input_tokens"], reported.usage_metadata["output_tokens"])
    assert cb.estimated_requests == 1


@pytest.mark.parametrize("where", ["constructor", "config", "with_config", "generate",
                                   "langchain manager"])
def test_otel_handler_wherever_langchain_takes_callbacks(
        otel: InMemoryTelemetry, chat_model: ModelFactory, where: str) -> None:
    """Row 3: OpenTelemetryCallbackHandler accepted in the constructor, config, with_config,
    generate(callbacks=) and in a LangChain CallbackManager: one chat span with the usage the
    server reported."""
    handler = otel.handler()
    if where == "constructor":
        reply = chat_model(callbacks=[handler]).invoke("hi")
    elif where == "config":
        reply = chat_model().invoke("hi", config={"callbacks": [handler]})
    elif where == "with_config":
        reply = chat_model().with_config(callbacks=[handler]).invoke("hi")
    elif where == "generate":
        result = chat_model().generate([[HumanMessage("hi")]], callbacks=[handler])
        reply = result.generations[0][0].message  # type: ignore[attr-defined]
    else:
        reply = chat_model(callbacks=CallbackManager([handler])).invoke("hi")
    [span] = otel.spans()
    attrs = span.attributes or {}
    assert reply.usage_metadata is not None
    assert attrs[semconv.GEN_AI_USAGE_INPUT_TOKENS] == reply.usage_metadata["input_tokens"]
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == reply.usage_metadata["output_tokens"]


@pytest.mark.parametrize("sdk_layer", [False, True])
def test_counter_around_a_three_turn_conversation(server: ModelServer, otel: InMemoryTelemetry,
                                                  sdk_layer: bool) -> None:
    """Row 4: get_openai_callback() around ConversationChain + ConversationBufferMemory, with no
    setup call: the totals are the server's usage of the three turns, also (not doubled) with
    instrument_openai() on."""
    if sdk_layer:
        instrument_openai([otel.handler()])
    usage = ServerUsage()
    conversation = ConversationChain(llm=completion_model(server, temperature=0.5),
                                     memory=ConversationBufferMemory())
    with get_openai_callback() as cb:
        for turn in TURNS:
            conversation.invoke(turn, config={"callbacks": [usage]})
    assert usage.calls == 3 and usage.prompt > 0
    assert (cb.prompt_tokens, cb.completion_tokens) == (usage.prompt, usage.completion)
    assert cb.successful_requests == 3
    assert TURNS[0] in conversation.memory.buffer


@pytest.mark.parametrize("sdk_layer", [False, True])
async def test_counter_around_gathered_agenerate_calls(server: ModelServer,
                                                       otel: InMemoryTelemetry,
                                                       sdk_layer: bool) -> None:
    """Row 5: get_openai_callback() around asyncio.gather of three llm.agenerate: each task's
    run is counted once, the totals are the server's usage (also with instrument_openai())."""
    if sdk_layer:
        instrument_openai([otel.handler()])
    usage = ServerUsage()
    llm = completion_model(server, temperature=0.5, callbacks=[usage])
    with get_openai_callback() as cb:
        await asyncio.gather(*[llm.agenerate(["我姐姐喜欢什么颜色的花?"]) for _ in range(3)])
    assert usage.calls == 3 and usage.prompt > 0
    # The SDK layer's own OTel handler (no LangChain run has one) still sees each call once.
    assert len(otel.spans()) == (3 if sdk_layer else 0)
    assert (cb.prompt_tokens, cb.completion_tokens) == (usage.prompt, usage.completion)
    assert cb.successful_requests == 3


@pytest.mark.parametrize("sdk_layer", [False, True])
@pytest.mark.parametrize("given", ["OPENAI_BASE_URL", "base_url=", "openai_api_base="])
def test_server_address_however_the_endpoint_was_given(
        server: ModelServer, otel: InMemoryTelemetry, monkeypatch: pytest.MonkeyPatch,
        given: str, sdk_layer: bool) -> None:
    """Row 6: server.address/server.port on the LLM span whether the endpoint came from
    OPENAI_BASE_URL, base_url= or openai_api_base=, with or without instrument_openai(); one
    span per call either way."""
    if sdk_layer:
        instrument_openai([otel.handler()])
    kwargs: dict[str, Any] = {}
    if given == "OPENAI_BASE_URL":
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    elif given == "base_url=":
        kwargs["base_url"] = server.base_url
    else:
        kwargs["openai_api_base"] = server.base_url
    model = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", max_retries=0,
                       http_client=openai.DefaultHttpxClient(),
                       callbacks=[OpenTelemetryCallbackHandler(
                           tracer_provider=otel.tracer_provider,
                           meter_provider=otel.meter_provider)], **kwargs)
    model.invoke("hi")
    list(model.stream("hi"))
    spans = otel.spans()
    assert len(spans) == 2
    host, port = server.url.removeprefix("http://").split(":")
    for span in spans:
        attrs = span.attributes or {}
        assert attrs[semconv.SERVER_ADDRESS] == host and attrs[semconv.SERVER_PORT] == int(port)
