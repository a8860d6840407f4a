"""The token/cost counter: totals, scoping across tasks and threads, reset on exceptions."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from otel_llm.callbacks import scoped_handlers
from otel_llm.counter import TokenCounter, get_openai_callback, token_counter
from otel_llm.schema import AIMessage, ChatGeneration, LLMResult
from otel_llm.testing.fake import FakeChatModel

# FakeChatModel usage: prompt = words + 3 per message, completion = one per chunk.
ONE_CALL = {"prompt_tokens": 4, "completion_tokens": 3}  # "q" -> "a b c"


def _model() -> FakeChatModel:
    return FakeChatModel(["a b c"], model_name="gpt-4o-mini")


def test_counter_totals_match_the_reported_usage() -> None:
    """Three calls inside the block give three times one call's usage and three requests."""
    with get_openai_callback() as cb:
        for _ in range(3):
            _model().invoke("q")
    assert cb.prompt_tokens == 3 * ONE_CALL["prompt_tokens"]
    assert cb.completion_tokens == 3 * ONE_CALL["completion_tokens"]
    assert cb.total_tokens == cb.prompt_tokens + cb.completion_tokens
    assert cb.successful_requests == 3 and cb.failed_requests == 0
    assert cb.per_model["gpt-4o-mini"].requests == 3
    assert "Tokens Used: 21" in str(cb)


async def test_two_hundred_concurrent_async_calls_give_exact_totals() -> None:
    """asyncio.gather of 200 calls inside one counter counts every one exactly once."""
    model = _model()
    with token_counter() as cb:
        await asyncio.gather(*(model.ainvoke("q") for _ in range(200)))
    assert cb.successful_requests == 200
    assert cb.prompt_tokens == 200 * ONE_CALL["prompt_tokens"]
    assert cb.completion_tokens == 200 * ONE_CALL["completion_tokens"]


async def test_concurrent_counters_in_separate_tasks_do_not_see_each_other() -> None:
    """Two tasks with their own counters, interleaved, each count only their own calls."""
    model = FakeChatModel(["a b c"], model_name="gpt-4o-mini", streaming=True)

    async def work(n: int) -> TokenCounter:
        with token_counter() as cb:
            for _ in range(n):
                await model.ainvoke("q")
                await asyncio.sleep(0)
        return cb

    a, b = await asyncio.gather(work(3), work(7))
    assert (a.successful_requests, b.successful_requests) == (3, 7)


def test_nested_counters_each_see_their_block_and_the_outer_includes_the_inner() -> None:
    """The inner counter counts its call; the outer counts both."""
    with token_counter() as outer:
        _model().invoke("q")
        with token_counter() as inner:
            _model().invoke("q")
    assert inner.successful_requests == 1
    assert outer.successful_requests == 2


def test_an_exception_in_the_block_leaves_no_counter_active() -> None:
    """After a block that raised, no handler is in scope and later calls are not counted."""
    with pytest.raises(ValueError), token_counter() as cb:
        _model().invoke("q")
        raise ValueError("user code failed")
    assert scoped_handlers() == ()
    _model().invoke("q")
    assert cb.successful_requests == 1 and cb.closed


def test_threads_started_inside_the_block_are_counted() -> None:
    """Plain threads and a pool created inside the block count toward it."""
    with token_counter() as cb:
        threads = [threading.Thread(target=_model().invoke, args=("q",)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: _model().invoke("q"), range(6)))
    assert cb.successful_requests == 10


def test_a_thread_started_in_a_block_stops_counting_when_the_block_ends() -> None:
    """A pool worker that outlives the block no longer reports to that block's counter."""
    pool = ThreadPoolExecutor(1)
    try:
        with token_counter() as cb:
            pool.submit(_model().invoke, "q").result()
        pool.submit(_model().invoke, "q").result()
    finally:
        pool.shutdown()
    assert cb.successful_requests == 1


def test_failed_calls_are_counted_separately() -> None:
    """A failing call increments failed_requests and adds no tokens."""
    with token_counter() as cb, pytest.raises(TimeoutError):
        FakeChatModel(error=TimeoutError("slow")).invoke("q")
    assert (cb.failed_requests, cb.successful_requests, cb.total_tokens) == (1, 0, 0)


def test_cached_reasoning_and_estimated_usage_are_broken_out() -> None:
    """Cached prompt and reasoning tokens come from the details; estimates are flagged."""
    counter = TokenCounter()
    import uuid

    run = uuid.uuid4()
    counter.on_chat_model_start({}, [[]], run_id=run, invocation_params={"model": "gpt-4o"})
    counter.on_llm_end(LLMResult([[ChatGeneration(message=AIMessage("x"))]], {
        "token_usage": {"prompt_tokens": 100, "completion_tokens": 50,
                        "prompt_tokens_details": {"cached_tokens": 60},
                        "completion_tokens_details": {"reasoning_tokens": 20}},
        "otel_llm_usage_estimated": True,
    }), run_id=run)
    assert counter.cached_prompt_tokens == 60 and counter.reasoning_tokens == 20
    assert counter.estimated_requests == 1
    assert "counted with tiktoken" in str(counter)


def test_cost_uses_the_local_price_table_and_unknown_models_make_it_unknown() -> None:
    """Known models are priced from the table; one unpriced model makes total_cost None, not $0."""
    from otel_llm.pricing import default_price_table

    expected = default_price_table().cost("gpt-4o-mini", input_tokens=4, output_tokens=3)
    assert expected is not None and expected > 0
    with token_counter() as cb:
        _model().invoke("q")
    assert cb.total_cost == pytest.approx(expected)
    assert "Total Cost (USD): $" in str(cb)
    with token_counter() as cb2:
        _model().invoke("q")
        FakeChatModel(["a b c"], model_name="my-private-model").invoke("q")
    assert cb2.total_cost is None
    assert cb2.per_model["gpt-4o-mini"].cost == pytest.approx(expected)
    assert cb2.per_model["my-private-model"].cost is None
    assert "Total Cost (USD): unknown" in str(cb2)
