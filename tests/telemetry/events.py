"""Builders for callback events, shaped as the callback manager (and LangChain) sends them."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from otel_llm.schema import AIMessage, ChatGeneration, Generation, HumanMessage, LLMResult
from otel_llm.telemetry import OpenTelemetryCallbackHandler

MODEL = "gpt-4o-mini"
PARAMS: dict[str, Any] = {"model": MODEL, "base_url": "https://api.openai.com/v1"}
METADATA: dict[str, Any] = {"ls_provider": "openai", "ls_model_type": "chat"}


class FakeClock:
    """A ``time.time_ns`` stand-in that moves only when told to."""

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> int:
        self.now += int(seconds * 1e9)
        return self.now


def chat_start(
    handler: OpenTelemetryCallbackHandler,
    run_id: UUID | None = None,
    parent: UUID | None = None,
    messages: list[Any] | None = None,
    params: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> UUID:
    run_id = run_id or uuid.uuid4()
    handler.on_chat_model_start(
        {"id": ["langchain", "chat_models", "openai", "ChatOpenAI"]},
        [messages if messages is not None else [HumanMessage("Hello")]],
        run_id=run_id,
        parent_run_id=parent,
        tags=[],
        metadata=dict(METADATA if metadata is None else metadata),
        invocation_params=dict(PARAMS if params is None else params),
    )
    return run_id


def chain_start(
    handler: OpenTelemetryCallbackHandler,
    cls: str = "MyChain",
    parent: UUID | None = None,
    **kwargs: Any,
) -> UUID:
    """A chain run of class ``cls``; ``kwargs`` as the manager passes them (name, metadata)."""
    run_id = uuid.uuid4()
    handler.on_chain_start(
        {"id": ["langchain", "chains", cls]},
        {"input": "x"},
        run_id=run_id,
        parent_run_id=parent,
        **kwargs,
    )
    return run_id


def chat_result(
    text: str = "Hi there",
    *,
    prompt_tokens: int | None = 12,
    completion_tokens: int | None = 5,
    model: str | None = "gpt-4o-mini-2024-07-18",
    response_id: str | None = "chatcmpl-abc",
    finish_reason: str = "stop",
    extra_output: dict[str, Any] | None = None,
    message: AIMessage | None = None,
) -> LLMResult:
    llm_output: dict[str, Any] = {}
    if prompt_tokens is not None or completion_tokens is not None:
        llm_output["token_usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": (prompt_tokens or 0) + (completion_tokens or 0),
        }
    if model:
        llm_output["model_name"] = model
    if response_id:
        llm_output["id"] = response_id
    llm_output.update(extra_output or {})
    generation = ChatGeneration(
        message=message or AIMessage(text), generation_info={"finish_reason": finish_reason}
    )
    return LLMResult(generations=[[generation]], llm_output=llm_output)


def text_result(text: str = "done") -> LLMResult:
    return LLMResult(generations=[[Generation(text, {"finish_reason": "length"})]], llm_output={})


def stream(
    handler: OpenTelemetryCallbackHandler,
    run_id: UUID,
    n: int,
    clock: FakeClock | None = None,
    gap: float = 0.01,
) -> None:
    for i in range(n):
        if clock is not None:
            clock.advance(gap)
        handler.on_llm_new_token(f"t{i}", run_id=run_id)
