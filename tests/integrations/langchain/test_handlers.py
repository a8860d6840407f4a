"""Our handlers read LangChain's real objects (messages, LLMResult, chunks, documents, tool
messages) and metadata: span attributes, content capture, and the stdout/file logs."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import openai
import pytest
from langchain_openai import AzureChatOpenAI
from opentelemetry.trace import StatusCode

from otel_llm import FileCallbackHandler, StdOutCallbackHandler, semconv
from otel_llm.devserver import ModelServer
from otel_llm.testing import InMemoryTelemetry

from .chains import rag_tool_chain
from .conftest import ModelFactory


def test_model_and_provider_attributes_from_langchain_metadata(
        otel: InMemoryTelemetry, chat_model: ModelFactory, server: ModelServer) -> None:
    """ChatOpenAI's ls_provider/ls_model_name and invocation params become the request
    attributes at span start; the response model and finish reason come from its result."""
    model = chat_model("gpt-4o-mini+len=3", temperature=0.3, max_tokens=50, top_p=0.9)
    model.invoke("hi", config={"callbacks": [otel.handler()]})
    attrs = otel.span("chat gpt-4o-mini+len=3").attributes or {}
    host, port = server.url.removeprefix("http://").split(":")
    assert attrs[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attrs[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini+len=3"
    assert attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] == 0.3
    assert attrs[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 50
    assert attrs[semconv.GEN_AI_REQUEST_TOP_P] == 0.9
    assert attrs[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini"
    assert attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[semconv.SERVER_ADDRESS] == host and attrs[semconv.SERVER_PORT] == int(port)
    [duration] = otel.metric_points(semconv.METRIC_OPERATION_DURATION)
    assert (duration.attributes or {})[semconv.SERVER_ADDRESS] == host  # known at start


def test_azure_model_maps_to_azure_provider(otel: InMemoryTelemetry,
                                            server: ModelServer) -> None:
    """AzureChatOpenAI (ls_provider "azure") is gen_ai.provider.name azure.ai.openai, its
    deployment the request model, its endpoint the server; the devserver has no Azure routes,
    so the run fails and the span says so."""
    model = AzureChatOpenAI(azure_endpoint=server.url, api_key="k", api_version="2024-10-21",
                            azure_deployment="gpt-4o-mini", max_retries=0,
                            http_client=openai.DefaultHttpxClient())
    with pytest.raises(openai.NotFoundError) as info:
        model.invoke("hi", config={"callbacks": [otel.handler()]})
    span = otel.span("chat gpt-4o-mini")
    attrs = span.attributes or {}
    assert attrs[semconv.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert attrs[semconv.SERVER_ADDRESS] == "127.0.0.1"
    # The type the caller got: recent langchain-openai re-raises the SDK's 404 as its own
    # subclass (langchain_openai.chat_models.base.OpenAIModelNotFoundError), older ones
    # let openai.NotFoundError through.
    caught = type(info.value)
    public_module = caught.__module__.split("._")[0]  # openai._exceptions -> openai
    assert attrs[semconv.ERROR_TYPE] == f"{public_module}.{caught.__qualname__}"
    assert span.status.status_code is StatusCode.ERROR


def test_content_capture_with_langchain_objects(otel: InMemoryTelemetry,
                                                chat_model: ModelFactory) -> None:
    """Opt-in content from LangChain's messages: the history's system message and the user
    message (both input messages), tool definitions, the model's tool call, and the tool's
    ToolMessage result."""
    forwarder = [otel.handler(capture_content="SPAN_ONLY")]
    out = rag_tool_chain(chat_model("gpt-4o-mini")).invoke("lilies",
                                                           config={"callbacks": forwarder})
    chat = otel.span("chat gpt-4o-mini").attributes or {}
    inputs = json.loads(chat[semconv.GEN_AI_INPUT_MESSAGES])
    assert [m["role"] for m in inputs] == ["system", "user"]
    assert "lilies come in red" in inputs[0]["parts"][0]["content"]
    assert inputs[1] == {"role": "user", "parts": [{"type": "text", "content": "lilies"}]}
    assert semconv.GEN_AI_SYSTEM_INSTRUCTIONS not in chat
    [tool_def] = json.loads(chat[semconv.GEN_AI_TOOL_DEFINITIONS])
    assert tool_def["name"] == "flower_price"
    [call] = json.loads(chat[semconv.GEN_AI_OUTPUT_MESSAGES])[0]["parts"]
    assert call["type"] == "tool_call" and call["name"] == "flower_price"
    tool = otel.span("execute_tool flower_price").attributes or {}
    assert json.loads(tool[semconv.GEN_AI_TOOL_CALL_ARGUMENTS]) == call["arguments"]
    assert tool[semconv.GEN_AI_TOOL_CALL_RESULT] == out[0].content


async def test_stdout_and_file_logs_read_langchain_objects(
        tmp_path: Path, chat_model: ModelFactory) -> None:
    """The stdout and file logs show the model, prompt, tokens (provider's, or estimated for
    a stream without usage), answer, retriever documents and tool output of real runs."""
    out = io.StringIO()
    log = tmp_path / "run.log"
    with FileCallbackHandler(str(log)) as file_handler:
        forwarder = [StdOutCallbackHandler(stream=out), file_handler]
        reply = await chat_model().ainvoke("hello", config={"callbacks": forwarder})
        async for _ in chat_model().astream("again", config={"callbacks": forwarder}):
            pass
        await rag_tool_chain(chat_model("gpt-4o-mini")).ainvoke(
            "irises", config={"callbacks": forwarder})
    text = out.getvalue()
    usage = reply.usage_metadata
    assert usage is not None
    assert "[chat start] ChatOpenAI gpt-4o-mini+len=5 1 message(s), last: hello" in text
    assert (f"tokens in={usage['input_tokens']} out=5 total={usage['total_tokens']} "
            f"answer: {reply.content}") in text
    assert "out=5 total=" in text and " estimated answer: " in text
    assert "[retriever end]" in text and "2 document(s)" in text
    assert "[tool start] flower_price" in text and "irises" in text
    # The same lines in both logs. Each handler times runs itself, so a duration may round
    # differently between the two; and the retriever and passthrough branches run at once,
    # their events reaching each sync handler from LangChain's executor threads, so the
    # two handlers may see them interleaved in different orders.
    assert _lines(log.read_text()) == _lines(text)


def _lines(log: str) -> list[str]:
    return sorted(re.sub(r"\(\d+\.\d+s\)", "(?s)", log).splitlines())
