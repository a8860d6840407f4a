"""A scripted chat model and prompt chain that emit callback events like LangChain's.

They let users (and our tests) exercise handlers, managers and the OTel handler
with no network and no LangChain: constructor ``callbacks=`` are local,
``callbacks=`` passed to a call are inheritable, ``verbose=True`` logs to stdout,
and ``streaming=True`` emits ``on_llm_new_token`` per chunk. Token counts are
scripted (one per chunk; prompt = words + 3 per message), not tokenizer counts.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from otel_llm.callbacks.manager import AsyncCallbackManager, CallbackManager, Callbacks
from otel_llm.schema import (
    LS_MODEL_NAME,
    LS_MODEL_TYPE,
    LS_PROVIDER,
    AIMessage,
    BaseMessage,
    ChatGeneration,
    ChatGenerationChunk,
    HumanMessage,
    LLMResult,
)

__all__ = ["FakeChain", "FakeChatModel"]

# A chunk is one CJK character (as real tokenizers split Chinese) or a word with its space.
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_CHUNK = re.compile(rf"[{_CJK}]|\s*[^\s{_CJK}]+|\s+")


@dataclass
class _Answer:
    chunks: list[str]
    result: LLMResult


class FakeChatModel:
    """Answers with ``responses`` in turn (cycling); raises ``error`` instead if given."""

    def __init__(
        self,
        responses: Sequence[str] = ("Hello from the fake model.",),
        *,
        model_name: str = "fake-chat-model",
        provider: str = "fake",
        streaming: bool = False,
        token_delay: float = 0.0,
        error: BaseException | None = None,
        callbacks: Callbacks = None,
        verbose: bool = False,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.model_name = model_name
        self.provider = provider
        self.streaming = streaming
        self.token_delay = token_delay
        self.error = error
        self.callbacks = callbacks
        self.verbose = verbose
        self.tags = list(tags or [])
        self.metadata = dict(metadata or {})
        self._responses = itertools.cycle(responses)
        self._lock = threading.Lock()

    # --- the scripted part (shared by sync and async) -------------------------
    def _answer(self, messages: list[BaseMessage]) -> _Answer:
        with self._lock:
            text = next(self._responses)
        chunks = _CHUNK.findall(text) or [""]
        prompt = sum(len(m.text.split()) + 3 for m in messages)
        usage = {"prompt_tokens": prompt, "completion_tokens": len(chunks),
                 "total_tokens": prompt + len(chunks)}
        message = AIMessage(content=text, usage_metadata={
            "input_tokens": prompt, "output_tokens": len(chunks),
            "total_tokens": usage["total_tokens"]})
        gen = ChatGeneration(message=message, generation_info={"finish_reason": "stop"})
        return _Answer(chunks, LLMResult([[gen]], {"token_usage": usage,
                                                   "model_name": self.model_name}))

    def _start_kwargs(self) -> dict[str, Any]:
        return {
            "invocation_params": {"model": self.model_name, "stream": self.streaming,
                                  "_type": "fake-chat"},
            "name": type(self).__name__,
        }

    def _manager_args(self, callbacks: Callbacks, tags: Sequence[str] | None,
                      metadata: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "inheritable_callbacks": callbacks,
            "local_callbacks": self.callbacks,
            "verbose": self.verbose,
            "inheritable_tags": tags,
            "local_tags": self.tags,
            "inheritable_metadata": metadata,
            "local_metadata": {LS_PROVIDER: self.provider, LS_MODEL_NAME: self.model_name,
                               LS_MODEL_TYPE: "chat", **self.metadata},
        }

    @property
    def _serialized(self) -> dict[str, Any]:
        return {"name": type(self).__name__, "id": ["otel_llm", "testing", type(self).__name__]}

    # --- sync ------------------------------------------------------------------
    def generate(self, messages: list[list[BaseMessage]], callbacks: Callbacks = None, *,
                 tags: Sequence[str] | None = None,
                 metadata: dict[str, Any] | None = None) -> LLMResult:
        cm = CallbackManager.configure(**self._manager_args(callbacks, tags, metadata))
        runs = cm.on_chat_model_start(self._serialized, messages, **self._start_kwargs())
        generations = []
        for run, msgs in zip(runs, messages, strict=True):
            try:
                if self.error is not None:
                    raise self.error
                answer = self._answer(msgs)
                if self.streaming:
                    for piece in answer.chunks:
                        if self.token_delay:
                            time.sleep(self.token_delay)
                        run.on_llm_new_token(piece, chunk=_chunk(piece))
            except BaseException as exc:
                run.on_llm_error(exc)
                raise
            run.on_llm_end(answer.result)
            generations.extend(answer.result.generations)
        return LLMResult(generations, {"model_name": self.model_name})

    def invoke(self, input: str | list[BaseMessage], config: dict[str, Any] | None = None) -> Any:
        config = config or {}
        result = self.generate([_as_messages(input)], config.get("callbacks"),
                               tags=config.get("tags"), metadata=config.get("metadata"))
        return getattr(result.generations[0][0], "message", None)

    # --- async -----------------------------------------------------------------
    async def agenerate(self, messages: list[list[BaseMessage]], callbacks: Callbacks = None, *,
                        tags: Sequence[str] | None = None,
                        metadata: dict[str, Any] | None = None) -> LLMResult:
        cm = AsyncCallbackManager.configure(**self._manager_args(callbacks, tags, metadata))
        runs = await cm.on_chat_model_start(self._serialized, messages, **self._start_kwargs())
        generations = []
        for run, msgs in zip(runs, messages, strict=True):
            try:
                if self.error is not None:
                    raise self.error
                answer = self._answer(msgs)
                if self.streaming:
                    for piece in answer.chunks:
                        await asyncio.sleep(self.token_delay)
                        await run.on_llm_new_token(piece, chunk=_chunk(piece))
            except BaseException as exc:
                await run.on_llm_error(exc)
                raise
            await run.on_llm_end(answer.result)
            generations.extend(answer.result.generations)
        return LLMResult(generations, {"model_name": self.model_name})

    async def ainvoke(self, input: str | list[BaseMessage],
                      config: dict[str, Any] | None = None) -> Any:
        config = config or {}
        result = await self.agenerate([_as_messages(input)], config.get("callbacks"),
                                      tags=config.get("tags"), metadata=config.get("metadata"))
        return getattr(result.generations[0][0], "message", None)


def _chunk(piece: str) -> ChatGenerationChunk:
    return ChatGenerationChunk(message=AIMessage(content=piece))


def _as_messages(input: str | list[BaseMessage]) -> list[BaseMessage]:
    return [HumanMessage(content=input)] if isinstance(input, str) else list(input)


class FakeChain:
    """A prompt template feeding a chat model, like LangChain's ``LLMChain``.

    Emits chain start/end, the formatted prompt via ``on_text``, and runs the
    model as a child run (so only inheritable callbacks reach the model).
    """

    def __init__(self, llm: FakeChatModel, prompt: str, *, callbacks: Callbacks = None,
                 verbose: bool = False, name: str = "LLMChain") -> None:
        self.llm = llm
        self.prompt = prompt
        self.callbacks = callbacks
        self.verbose = verbose
        self.name = name

    @property
    def _serialized(self) -> dict[str, Any]:
        return {"name": self.name, "id": ["otel_llm", "testing", "FakeChain"]}

    def run(self, callbacks: Callbacks = None, **inputs: Any) -> str:
        cm = CallbackManager.configure(callbacks, self.callbacks, self.verbose)
        run = cm.on_chain_start(self._serialized, inputs, name=self.name)
        try:
            prompt = self.prompt.format(**inputs)
            run.on_text(f"Prompt after formatting:\n{prompt}")
            result = self.llm.generate([[HumanMessage(content=prompt)]], run.get_child())
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        text = result.generations[0][0].text
        run.on_chain_end({"text": text})
        return text

    async def arun(self, callbacks: Callbacks = None, **inputs: Any) -> str:
        cm = AsyncCallbackManager.configure(callbacks, self.callbacks, self.verbose)
        run = await cm.on_chain_start(self._serialized, inputs, name=self.name)
        try:
            prompt = self.prompt.format(**inputs)
            await run.on_text(f"Prompt after formatting:\n{prompt}")
            result = await self.llm.agenerate([[HumanMessage(content=prompt)]], run.get_child())
        except BaseException as exc:
            await run.on_chain_error(exc)
            raise
        text = result.generations[0][0].text
        await run.on_chain_end({"text": text})
        return text
