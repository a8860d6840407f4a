"""Pure event -> attribute functions: error names, servers, providers, agent detection."""

from __future__ import annotations

import pytest

from otel_llm import semconv
from otel_llm.schema import Generation, LLMResult
from otel_llm.telemetry.attributes import (
    error_type,
    is_agent,
    llm_response_attributes,
    provider_name,
    server_attributes,
)


class _Private(Exception):
    pass


class _Public(Exception):
    pass


_Private.__module__ = "httpx._exceptions"
_Public.__module__ = "langchain_core.exceptions"


@pytest.mark.parametrize(
    ("exc", "name"),
    [
        (ValueError("x"), "ValueError"),
        (KeyError("k"), "KeyError"),
        (_Private(), "httpx._Private"),
        (_Public(), "langchain_core.exceptions._Public"),
    ],
)
def test_error_type_is_the_public_qualified_name(exc: BaseException, name: str) -> None:
    """Module paths stop at the first private part; builtins have no module."""
    assert error_type(exc) == name


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1", {"server.address": "api.openai.com", "server.port": 443}),
        ("http://localhost:8080/v1", {"server.address": "localhost", "server.port": 8080}),
        ("http://10.0.0.1/v1", {"server.address": "10.0.0.1", "server.port": 80}),
        ("not a url", {}),
        ("http://host:99999/", {}),
    ],
)
def test_server_attributes_from_base_url(url: str, expected: dict[str, object]) -> None:
    """server.address and server.port (the scheme's default when implicit); junk gives nothing."""
    assert dict(server_attributes(url)) == expected


@pytest.mark.parametrize(
    ("metadata", "params", "provider"),
    [
        ({"ls_provider": "openai"}, {}, semconv.PROVIDER_OPENAI),
        ({"ls_provider": "azure"}, {}, semconv.PROVIDER_AZURE_OPENAI),
        ({"ls_provider": "azure.ai.openai"}, {}, semconv.PROVIDER_AZURE_OPENAI),
        ({"ls_provider": "Anthropic"}, {}, "anthropic"),
        ({"ls_provider": "bedrock"}, {}, "aws.bedrock"),
        ({}, {"_type": "azure-openai-chat"}, semconv.PROVIDER_AZURE_OPENAI),
        ({}, {"_type": "openai-chat"}, semconv.PROVIDER_OPENAI),
        ({}, {}, "_OTHER"),
    ],
)
def test_provider_names(metadata: dict[str, str], params: dict[str, str], provider: str) -> None:
    """LangChain's ls_provider values map to the conventions' provider names."""
    assert provider_name(metadata, params) == provider


@pytest.mark.parametrize(
    ("name", "serialized", "metadata", "agent"),
    [
        ("AgentExecutor", {}, {}, True),
        ("my_run", {"id": ["langchain", "agents", "AgentExecutor"]}, {}, True),
        ("ResearchAgent", {}, {}, True),
        ("agent", {}, {"langgraph_node": "agent"}, False),
        ("ResearchAgent", {}, {"langgraph_node": "agent"}, True),
        ("tools", {}, {"langgraph_node": "tools"}, False),
        ("RunnableSequence", {"id": ["x", "RunnableSequence"]}, {}, False),
    ],
)
def test_agent_heuristic(
    name: str, serialized: dict[str, object], metadata: dict[str, str], agent: bool
) -> None:
    """Agent: AgentExecutor class or a name ending in 'agent', unless it is a LangGraph node."""
    assert is_agent(name, serialized, metadata) is agent


def test_response_attributes_of_no_one_and_several_prompts() -> None:
    """Finish reasons are read from every prompt's generations: none for a result without
    generations, one per generation for one prompt, all of them for several prompts."""
    def gen(reason: str) -> Generation:
        return Generation("t", generation_info={"finish_reason": reason})

    key = semconv.GEN_AI_RESPONSE_FINISH_REASONS
    assert key not in llm_response_attributes(LLMResult(generations=[], llm_output={"id": "r"}))
    assert llm_response_attributes(LLMResult([[gen("stop"), gen("length")]]))[key] == [
        "stop", "length"]
    assert llm_response_attributes(LLMResult([[gen("stop")], [gen("tool_calls")]]))[key] == [
        "stop", "tool_calls"]
