"""Handler base classes: every hook is a no-op, so a handler overrides only what it needs.

Signatures match ``langchain_core.callbacks`` so a handler written for LangChain
ports by changing its import. Every hook receives keyword-only ``run_id`` and
``parent_run_id``; start hooks also get ``tags`` and ``metadata``; extra keyword
arguments (``invocation_params``, ``name``, ...) arrive in ``**kwargs``.

Flags (class attributes or properties, read when a run's handler set is built):

- ``raise_error``: re-raise this handler's exceptions into the caller
  (otherwise they are logged and counted, and the run goes on).
- ``run_inline``: in async code, call this handler on the event loop, in order,
  instead of off-loop (sync handlers) or concurrently (async handlers). Set it
  only for handlers that never block.
- ``reads_inputs``: ``False`` declares that ``on_llm_start`` /
  ``on_chat_model_start`` never read their prompts / messages; when no handler of
  a run reads them, otel-llm's instrumentations hand over empty inputs instead of
  converting the request's messages.
- ``reads_token_chunk``: ``False`` declares that ``on_llm_new_token`` never reads
  its ``chunk``; when every handler of a run says so, otel-llm's instrumentations
  pass ``chunk=None`` instead of building a chunk object per streamed token.
- ``ignore_llm``, ``ignore_chat_model``, ``ignore_chain``, ``ignore_agent``
  (also covers tools), ``ignore_retriever``, ``ignore_retry``,
  ``ignore_custom_event``: skip that family of events.

A handler without its own ``on_chat_model_start`` receives chat runs as
``on_llm_start`` with the messages rendered as a prompt string, as in LangChain
(the base hook raises ``NotImplementedError``, which is how LangChain's managers
know to fall back).

When langchain-core is installed, these classes *are* LangChain handlers: they
subclass ``langchain_core.callbacks.BaseCallbackHandler`` /
``AsyncCallbackHandler``, so every handler of ours (built-in or yours) is
accepted wherever LangChain takes callbacks, and LangChain's managers call it
directly, with LangChain's own event objects (which our schema mirrors). One
class hierarchy instead of two systems and a bridge. Without langchain-core
they are plain classes and nothing of LangChain is imported: its presence is
checked with ``importlib.util.find_spec``, which imports nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID


def _langchain_installed() -> bool:
    try:
        return importlib.util.find_spec("langchain_core") is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as absent
        return False


#: Whether our handler classes are LangChain's (langchain-core importable at our import).
LANGCHAIN = _langchain_installed()


class _Plain:
    """The base of our handler classes when langchain-core is absent."""


def _bases() -> tuple[type, type]:
    if not LANGCHAIN:
        return _Plain, _Plain
    lc = importlib.import_module("langchain_core.callbacks.base")
    return lc.BaseCallbackHandler, lc.AsyncCallbackHandler


# The type checker sees our own hierarchy (our hooks' signatures, our schema types), the
# same with and without langchain-core; at run time the base is LangChain's when installed.
if TYPE_CHECKING:
    _LCHandler = _Plain
    _LCAsyncHandler = _Plain
else:
    _LCHandler, _LCAsyncHandler = _bases()

if TYPE_CHECKING:
    from otel_llm.schema import (
        AgentAction,
        AgentFinish,
        BaseMessage,
        ChatGenerationChunk,
        Document,
        GenerationChunk,
        LLMResult,
    )

__all__ = ["LANGCHAIN", "AsyncCallbackHandler", "BaseCallbackHandler"]


class _Flags:
    raise_error: bool = False
    run_inline: bool = False
    reads_inputs: bool = True
    reads_token_chunk: bool = True
    ignore_llm: bool = False
    ignore_chat_model: bool = False
    ignore_chain: bool = False
    ignore_agent: bool = False
    ignore_retriever: bool = False
    ignore_retry: bool = False
    ignore_custom_event: bool = False


class BaseCallbackHandler(_Flags, _LCHandler):
    """Synchronous handler. In async code it runs off the event loop unless ``run_inline``."""

    # --- LLM and chat-model runs -------------------------------------------------
    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A text-completion run starts (or a chat run, for handlers without chat support)."""

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A chat run starts. Not overridden: the run arrives as ``on_llm_start`` instead."""
        raise NotImplementedError(f"{type(self).__name__} does not handle chat runs")

    def on_llm_new_token(
        self,
        token: str,
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """A streamed token (or chunk) arrives."""

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """An LLM run ends; ``response.llm_output["token_usage"]`` has the usage."""

    def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """An LLM run fails."""

    # --- chains ------------------------------------------------------------------
    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A chain run starts."""

    def on_chain_end(
        self,
        outputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """A chain run ends."""

    def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """A chain run fails."""

    # --- tools -------------------------------------------------------------------
    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A tool run starts."""

    def on_tool_end(
        self,
        output: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """A tool run ends."""

    def on_tool_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """A tool run fails."""

    # --- retrievers --------------------------------------------------------------
    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A retriever run starts."""

    def on_retriever_end(
        self,
        documents: Sequence[Document],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """A retriever run ends."""

    def on_retriever_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """A retriever run fails."""

    # --- agents, text, retries, custom events ------------------------------------
    def on_agent_action(
        self,
        action: AgentAction,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """An agent decides to call a tool."""

    def on_agent_finish(
        self,
        finish: AgentFinish,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """An agent returns its final answer."""

    def on_text(
        self,
        text: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """Free text from a run (e.g. a formatted prompt)."""

    def on_retry(
        self,
        retry_state: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> Any:
        """A run is retried."""

    def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A user-defined event."""


class AsyncCallbackHandler(_Flags, _LCAsyncHandler):
    """Asynchronous handler: hooks are coroutines, awaited concurrently with other async handlers.

    Called from sync code, they run to completion on a shared background event
    loop (one per process, not one per call), with the caller's context.
    """

    async def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A text-completion run starts (or a chat run, for handlers without chat support)."""

    async def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A chat run starts. Not overridden: the run arrives as ``on_llm_start`` instead."""
        raise NotImplementedError(f"{type(self).__name__} does not handle chat runs")

    async def on_llm_new_token(
        self,
        token: str,
        *,
        chunk: GenerationChunk | ChatGenerationChunk | None = None,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """A streamed token (or chunk) arrives."""

    async def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """An LLM run ends."""

    async def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """An LLM run fails."""

    async def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A chain run starts."""

    async def on_chain_end(
        self,
        outputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """A chain run ends."""

    async def on_chain_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """A chain run fails."""

    async def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A tool run starts."""

    async def on_tool_end(
        self,
        output: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """A tool run ends."""

    async def on_tool_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """A tool run fails."""

    async def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A retriever run starts."""

    async def on_retriever_end(
        self,
        documents: Sequence[Document],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """A retriever run ends."""

    async def on_retriever_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """A retriever run fails."""

    async def on_agent_action(
        self,
        action: AgentAction,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """An agent decides to call a tool."""

    async def on_agent_finish(
        self,
        finish: AgentFinish,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """An agent returns its final answer."""

    async def on_text(
        self,
        text: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Free text from a run."""

    async def on_retry(
        self,
        retry_state: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """A run is retried."""

    async def on_custom_event(
        self,
        name: str,
        data: Any,
        *,
        run_id: UUID,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """A user-defined event."""
