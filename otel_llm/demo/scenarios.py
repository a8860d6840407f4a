"""The LangChain callbacks tutorial's scenarios on the real ``openai`` SDK, instrumented.

Each scenario runs under a root span opened by the runner, so its LLM spans
form one trace. Telemetry comes from the process-wide ``instrument_openai``
handler; the flower-shop handlers are attached to one client with
``wrap_openai``; the counters are ``otel_llm.get_openai_callback()`` blocks.
Prompts are the tutorial's (Chinese), each shown with an English gloss.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import openai
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionUserMessageParam

from otel_llm import TokenCounter, attributes, get_openai_callback, semconv
from otel_llm.demo.backend import Backend
from otel_llm.demo.console import Console
from otel_llm.demo.handlers import MyFlowerShopAsyncHandler, MyFlowerShopSyncHandler
from otel_llm.instrumentation.openai import wrap_openai

__all__ = [
    "CONVERSATION_ID",
    "FEATURE",
    "FLOWER_QUESTION",
    "GATHER_QUESTIONS",
    "METRIC_ATTRIBUTES",
    "SCENARIOS",
    "SYSTEM_PROMPT",
    "TURNS",
    "Scenario",
    "Scene",
    "describe_counter",
]

FLOWER_QUESTION = ("哪种花卉最适合生日?只简单说3种,不超过50字",
                   "Which flowers suit a birthday? Just 3, in under 50 characters.")
SYSTEM_PROMPT = "你是一家花店的客服,回答简短。"  # "You serve a flower shop's customers; be brief."
TURNS = (
    ("我姐姐明天要过生日,我需要一束生日花束。",
     "My sister's birthday is tomorrow, I need a birthday bouquet."),
    ("她喜欢粉色玫瑰,一束多少钱?", "She likes pink roses. How much is a bouquet?"),
    ("我又来了,还记得我姐姐过生日要送什么花吗?",
     "Back again: remember which flowers suit my sister's birthday?"),
)
#: The three-turn conversation's id and feature (``otel_llm.attributes``): both on its spans;
#: only the feature on its metric rows, allow-listed as an application would (a conversation
#: id on metrics would make a series per conversation).
CONVERSATION_ID = "flower-shop-1"
FEATURE = "flower-chat"
METRIC_ATTRIBUTES = (semconv.APP_FEATURE,)
GATHER_QUESTIONS = (
    ("母亲节送什么花好?", "What should I give for Mother's Day?"),
    ("你们每天几点开门?", "What time do you open?"),
    ("婚礼用什么花?", "Which flowers for a wedding?"),
)


@dataclass
class Scene:
    """What every scenario needs: where to print and which server to ask."""

    console: Console
    backend: Backend
    handler_pause: float = 0.3


@dataclass(frozen=True)
class Scenario:
    title: str
    span_name: str
    run: Callable[[Scene], None]


def describe_counter(cb: TokenCounter) -> str:
    cost = cb.total_cost
    text = (f"{cb.total_tokens} tokens (prompt {cb.prompt_tokens}, completion "
            f"{cb.completion_tokens}), {cb.successful_requests} requests, cost "
            + (f"${cost:.6f}" if cost is not None else "unknown"))
    if cb.failed_requests:
        text += f", {cb.failed_requests} failed"
    if cb.estimated_requests:
        text += f" ({cb.estimated_requests} counted with tiktoken)"
    return text


def _ask(console: Console, question: tuple[str, str], who: str = "you:  ") -> None:
    console.wrap(question[0], "         ", first=f"  {who} ")
    console.wrap(f"({question[1]})", "         ", first="         ")


def _answer(console: Console, text: str, who: str = "shop: ") -> None:
    console.wrap(text or "(empty answer)", "         ", first=f"  {who} ", max_lines=3)


def _user(text: str) -> ChatCompletionUserMessageParam:
    return {"role": "user", "content": text}


# --- 1. streamed answer, a sync and an async handler ----------------------------------------


def flower_shop(scene: Scene) -> None:
    """The tutorial's ``agenerate`` with MyFlowerShopSyncHandler and MyFlowerShopAsyncHandler."""
    console = scene.console
    _ask(console, FLOWER_QUESTION)

    async def main() -> str:
        handlers = [MyFlowerShopSyncHandler(console),
                    MyFlowerShopAsyncHandler(console, scene.handler_pause)]
        async with wrap_openai(scene.backend.async_client(), callbacks=handlers) as client:
            stream = await client.chat.completions.create(
                model=scene.backend.model, messages=[_user(FLOWER_QUESTION[0])],
                max_tokens=100, stream=True,
            )
            parts = [chunk.choices[0].delta.content or "" async for chunk in stream
                     if chunk.choices]
        return "".join(parts)

    _answer(console, asyncio.run(main()))
    console.wrap(f"(the call awaited the async on_llm_start, {scene.handler_pause:g} s, before "
                 "sending the request, as LangChain does: the span's duration and TTFT include "
                 "it)", "  ", first="  ")


# --- 2. a three-turn conversation inside get_openai_callback() ------------------------------


def conversation(scene: Scene) -> None:
    """ConversationChain with buffer memory: the memory is the message list sent each turn."""
    console = scene.console
    memory: list[ChatCompletionMessageParam] = [{"role": "system", "content": SYSTEM_PROMPT}]
    console.line(f"  conversation id {CONVERSATION_ID} (otel_llm.attributes): on its spans;")
    console.line(f"  app.feature {FEATURE}: on its spans and, allow-listed, metric rows")
    with scene.backend.sync_client() as client, get_openai_callback() as cb, \
            attributes(conversation_id=CONVERSATION_ID, **{semconv.APP_FEATURE: FEATURE}):
        for number, turn in enumerate(TURNS, 1):
            console.line(f"  turn {number}")
            _ask(console, turn)
            memory.append(_user(turn[0]))
            reply = client.chat.completions.create(model=scene.backend.model, messages=memory)
            text = reply.choices[0].message.content or ""
            memory.append({"role": "assistant", "content": text})
            _answer(console, text)
            console.line(f"         memory: {len(memory)} messages")
    console.line("  get_openai_callback() after 3 turns:")
    console.wrap(describe_counter(cb), "    ", first="    ")


# --- 3. three concurrent calls with asyncio.gather -------------------------------------------


def gather(scene: Scene) -> None:
    """Three streamed calls at once; each task has its own counter, the block's counts all."""
    console = scene.console

    async def ask(client: openai.AsyncOpenAI, question: str) -> tuple[str, TokenCounter]:
        with get_openai_callback() as mine:  # nested: counts this task's call only
            stream = await client.chat.completions.create(
                model=scene.backend.model, messages=[_user(question)], stream=True
            )
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream
                            if chunk.choices])
        return text, mine

    async def main() -> tuple[list[tuple[str, TokenCounter]], TokenCounter, float]:
        async with scene.backend.async_client() as client:
            with get_openai_callback() as total:
                started = asyncio.get_running_loop().time()
                results = await asyncio.gather(*(ask(client, q) for q, _ in GATHER_QUESTIONS))
                elapsed = asyncio.get_running_loop().time() - started
        return list(results), total, elapsed

    results, total, elapsed = asyncio.run(main())
    for number, (question, (text, mine)) in enumerate(zip(GATHER_QUESTIONS, results,
                                                          strict=True), 1):
        console.line(f"  call {number}")
        _ask(console, question)
        _answer(console, text)
        console.line(f"         its own counter: {mine.total_tokens} tokens "
                     f"(prompt {mine.prompt_tokens}, completion {mine.completion_tokens})")
    calls = sum(mine.total_tokens for _, mine in results)
    console.line(f"  3 calls in {elapsed:.2f} s; get_openai_callback() around the gather:")
    console.wrap(describe_counter(total), "    ", first="    ")
    same = "equals" if calls == total.total_tokens else "DIFFERS FROM"
    console.line(f"    {same} the sum of the three calls: {calls} tokens")


# --- 4. a failing call ----------------------------------------------------------------------


def failing_call(scene: Scene) -> None:
    """An API error reaches the caller unchanged; its span says ERROR with ``error.type``."""
    console = scene.console
    backend = scene.backend
    console.line(console.fit(f"  asking for {backend.failing_reason}, max_retries=0"))
    with backend.sync_client(max_retries=0) as client, get_openai_callback() as cb:
        try:
            client.chat.completions.create(model=backend.failing_model,
                                           messages=[_user(FLOWER_QUESTION[0])])
        except openai.APIError as exc:
            status = getattr(exc, "status_code", None)
            name = f"openai.{type(exc).__name__}" + (f" ({status})" if status else "")
            body = exc.body.get("message") if isinstance(exc.body, dict) else None
            console.wrap(str(body or exc.message), "    ", first=f"  caught {name}: ",
                         max_lines=2)
        else:
            raise RuntimeError(f"the request to {backend.failing_model!r} did not fail")
    console.line(f"  get_openai_callback(): {cb.successful_requests} requests, "
                 f"{cb.failed_requests} failed, {cb.total_tokens} tokens")


SCENARIOS = (
    Scenario("Flower shop: a streamed answer, a sync and an async handler",
             "demo: flower shop", flower_shop),
    Scenario("A three-turn conversation inside get_openai_callback()",
             "demo: conversation", conversation),
    Scenario("Three concurrent calls with asyncio.gather", "demo: asyncio.gather", gather),
    Scenario("A failing call", "demo: failing call", failing_call),
)
