"""Callback dispatch cost: otel_llm's managers vs langchain-core's, same no-op handlers.

Per configuration (sync/async manager x 1/5 handlers) one LLM run is started,
then TOKENS ``on_llm_new_token`` events are dispatched through its run manager
(the per-token hot path); a second figure times whole runs (start, 10 tokens,
end). Contenders alternate within each round; results are medians over rounds.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import AsyncCallbackHandler as LCAsyncHandler
from langchain_core.callbacks import AsyncCallbackManager as LCAsyncManager
from langchain_core.callbacks import BaseCallbackHandler as LCHandler
from langchain_core.callbacks import CallbackManager as LCManager
from langchain_core.outputs import LLMResult as LCResult

from bench._stats import interleaved, median_spread, table, timed
from otel_llm.callbacks import (
    AsyncCallbackHandler,
    AsyncCallbackManager,
    BaseCallbackHandler,
    CallbackManager,
)
from otel_llm.schema import LLMResult

TOKENS = 20_000
RUNS = 2_000


def _noop_handler(base: type) -> type:
    """A handler overriding the LLM hooks with empty bodies (so no library may skip them)."""

    def hook(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    async def ahook(self: Any, *args: Any, **kwargs: Any) -> None:
        return None

    fn = ahook if base in (AsyncCallbackHandler, LCAsyncHandler) else hook
    return type(f"Noop{base.__name__}", (base,), {
        "on_llm_start": fn, "on_chat_model_start": fn, "on_llm_new_token": fn, "on_llm_end": fn,
    })


def _sync_case(manager_cls: Any, handler_cls: type, result: Any,
               n: int) -> dict[str, Callable[[], float]]:
    handlers = [handler_cls() for _ in range(n)]

    def tokens() -> float:
        [run] = manager_cls(handlers=handlers).on_llm_start({}, ["p"])

        def go() -> None:
            tok = run.on_llm_new_token
            for _ in range(TOKENS):
                tok("t")
        return timed(go)

    def runs() -> float:
        def go() -> None:
            for _ in range(RUNS):
                mgr = manager_cls(handlers=handlers)
                [run] = mgr.on_llm_start({}, ["p"])
                for _ in range(10):
                    run.on_llm_new_token("t")
                run.on_llm_end(result)
        return timed(go)

    return {"tokens": tokens, "runs": runs}


def _floor_case(n: int) -> dict[str, Callable[[], float]]:
    """No manager at all: the handlers called directly with the kwargs every hook receives."""
    handlers = [_noop_handler(BaseCallbackHandler)() for _ in range(n)]
    fns = [h.on_llm_new_token for h in handlers]
    run_id = uuid.uuid4()

    def tokens() -> float:
        def go() -> None:
            for _ in range(TOKENS):
                kw = {"chunk": None, "run_id": run_id, "parent_run_id": None, "tags": []}
                for fn in fns:
                    fn("t", **kw)
        return timed(go)

    return {"tokens": tokens}


def _async_case(manager_cls: Any, handler_cls: type, result: Any, n: int,
                loop: asyncio.AbstractEventLoop) -> dict[str, Callable[[], float]]:
    handlers = [handler_cls() for _ in range(n)]

    async def tok_body() -> None:
        [run] = await manager_cls(handlers=handlers).on_llm_start({}, ["p"])
        tok = run.on_llm_new_token
        for _ in range(TOKENS):
            await tok("t")

    async def run_body() -> None:
        for _ in range(RUNS):
            [run] = await manager_cls(handlers=handlers).on_llm_start({}, ["p"])
            for _ in range(10):
                await run.on_llm_new_token("t")
            await run.on_llm_end(result)

    return {"tokens": lambda: timed(lambda: loop.run_until_complete(tok_body())),
            "runs": lambda: timed(lambda: loop.run_until_complete(run_body()))}


def run(rounds: int = 5) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    ours_result, lc_result = LLMResult([]), LCResult(generations=[])
    cases: dict[tuple[str, str, int], dict[str, Callable[[], float]]] = {}
    for n in (1, 5):
        cases[("sync", "otel_llm", n)] = _sync_case(
            CallbackManager, _noop_handler(BaseCallbackHandler), ours_result, n)
        cases[("sync", "langchain-core", n)] = _sync_case(
            LCManager, _noop_handler(LCHandler), lc_result, n)
        cases[("async", "otel_llm", n)] = _async_case(
            AsyncCallbackManager, _noop_handler(AsyncCallbackHandler), ours_result, n, loop)
        cases[("async", "langchain-core", n)] = _async_case(
            LCAsyncManager, _noop_handler(LCAsyncHandler), lc_result, n, loop)
        cases[("sync", "floor", n)] = _floor_case(n)
    results: dict[str, Any] = {}
    for metric, count in (("tokens", TOKENS), ("runs", RUNS)):
        timings = interleaved({f"{k[0]}|{k[1]}|{k[2]}": v[metric] for k, v in cases.items()
                               if metric in v}, rounds)
        for key, xs in timings.items():
            med, spread = median_spread(xs)
            results[f"{metric}|{key}"] = {"per_s": count / med, "spread": spread}
    loop.close()
    return results


def report(results: dict[str, Any]) -> str:
    rows = []
    for metric, unit in (("tokens", "token events/s"), ("runs", "runs/s (start+10 tokens+end)")):
        for mode in ("sync", "async"):
            for n in (1, 5):
                ours = results[f"{metric}|{mode}|otel_llm|{n}"]
                lc = results[f"{metric}|{mode}|langchain-core|{n}"]
                floor = results.get(f"{metric}|{mode}|floor|{n}")
                rows.append([unit, mode, str(n), f"{ours['per_s']:,.0f} ±{ours['spread']:.0%}",
                             f"{lc['per_s']:,.0f} ±{lc['spread']:.0%}",
                             f"{ours['per_s'] / lc['per_s']:.1f}x",
                             f"{floor['per_s'] / lc['per_s']:.1f}x" if floor else "-"])
    return table(["metric", "manager", "handlers", "otel_llm", "langchain-core", "speed-up",
                  "floor (no manager)"], rows)


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(report(run(rounds)))
