"""The calls every contender makes, identical across workers.

OpenAI suite, real SDK over loopback HTTP to the embedded model server in
another process (so a worker's ``process_time`` is client CPU only):

- ``chat``: ``chat.completions.create``, 20-token reply;
- ``stream-usage``: 200 content chunks, ``stream_options={"include_usage": True}``;
- ``stream-no-usage``: the same stream as the caller would write it without usage;
- ``async-50``: ``AsyncOpenAI``, 50 concurrent ``chat`` calls under ``asyncio.gather``.

LangChain suite, no network: ``prompt | fake chat model | StrOutputParser``,
``lc-invoke`` (20-word reply) and ``lc-stream`` (100 words, ~200 chunks).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

__all__ = [
    "CONCURRENCY",
    "LC_INPUT_TOKENS",
    "LC_INVOKE_WORDS",
    "MESSAGES",
    "PROMPT_MARKER",
    "SCENARIOS",
    "STREAM_CHUNKS",
    "Workloads",
    "calls_per_unit",
]

MESSAGES: Any = [{"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Tell me about OpenTelemetry."}]
PROMPT_MARKER = "Tell me about OpenTelemetry."  # finds captured content in span attributes
CHAT_MODEL = "gpt-4o-mini+len=20"
STREAM_CHUNKS = 200
STREAM_MODEL = f"gpt-4o-mini+len={STREAM_CHUNKS}"
CONCURRENCY = 50
LC_INPUT_TOKENS = 14  # the fake model's usage_metadata
LC_INVOKE_WORDS = 20
SCENARIOS: dict[str, tuple[str, ...]] = {
    "openai": ("chat", "stream-usage", "stream-no-usage", "async-50"),
    "langchain": ("lc-invoke", "lc-stream"),
}


def calls_per_unit(scenario: str) -> int:
    """Calls one unit of work makes (``async-50`` gathers 50)."""
    return CONCURRENCY if scenario == "async-50" else 1


class Workloads:
    """Clients and chains, built once per worker; ``unit(scenario)`` is one unit of work."""

    def __init__(self, suite: str, base_url: str | None) -> None:
        self.suite = suite
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self._units: dict[str, Callable[[], Any]] = {}
        if suite == "openai":
            assert base_url, "the openai suite needs the model server's URL"
            self._openai(base_url)
        else:
            self._langchain()

    def unit(self, scenario: str) -> Callable[[], Any]:
        try:
            return self._units[scenario]
        except KeyError:
            raise ValueError(f"scenario {scenario!r} is not in suite {self.suite!r}") from None

    def close(self) -> None:
        if self.suite == "openai":
            self.client.close()
            self.loop.run_until_complete(self.aclient.close())
        self.loop.close()

    # --- openai ---------------------------------------------------------------------
    def _openai(self, base_url: str) -> None:
        import openai

        self.client = openai.OpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)

        async def make_async() -> openai.AsyncOpenAI:  # bound to this worker's loop
            return openai.AsyncOpenAI(base_url=base_url, api_key="sk-bench", max_retries=0)

        self.aclient = self.loop.run_until_complete(make_async())
        create = self.client.chat.completions.create
        acreate = self.aclient.chat.completions.create
        usage: Any = {"include_usage": True}

        def chat() -> None:
            create(model=CHAT_MODEL, messages=MESSAGES)

        def stream_usage() -> None:
            for _ in create(model=STREAM_MODEL, messages=MESSAGES, stream=True,
                            stream_options=usage):
                pass

        def stream_no_usage() -> None:
            for _ in create(model=STREAM_MODEL, messages=MESSAGES, stream=True):
                pass

        async def gather() -> None:
            await asyncio.gather(*(acreate(model=CHAT_MODEL, messages=MESSAGES)
                                   for _ in range(CONCURRENCY)))

        def async_50() -> None:
            self.loop.run_until_complete(gather())

        self._units = {"chat": chat, "stream-usage": stream_usage,
                       "stream-no-usage": stream_no_usage, "async-50": async_50}

    # --- langchain ------------------------------------------------------------------
    def _langchain(self) -> None:
        self.chains = {"lc-invoke": lc_chain(LC_INVOKE_WORDS), "lc-stream": lc_chain(100)}
        invoke_chain, stream_chain = self.chains["lc-invoke"], self.chains["lc-stream"]
        inputs = {"topic": "OpenTelemetry"}

        def invoke() -> None:
            invoke_chain.invoke(inputs)

        def stream() -> None:
            for _ in stream_chain.stream(inputs):
                pass

        self._units = {"lc-invoke": invoke, "lc-stream": stream}


def lc_chain(words: int) -> Any:
    """``prompt | GenericFakeChatModel | StrOutputParser`` answering ``words`` words forever."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    text = " ".join(f"word{i}" for i in range(words))
    reply = AIMessage(
        content=text,
        response_metadata={"model_name": "gpt-4o-mini", "finish_reason": "stop"},
        usage_metadata={"input_tokens": LC_INPUT_TOKENS, "output_tokens": words,
                        "total_tokens": LC_INPUT_TOKENS + words},
    )
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are terse."), ("human", "Tell me about {topic}.")]
    )
    # A fresh message per call: instrumentations may annotate the one they are handed.
    model = GenericFakeChatModel(messages=(reply.model_copy() for _ in itertools.count()))
    return prompt | model | StrOutputParser()
