"""``otel-llm demo``: the seed's scenarios on the embedded model, nothing to set up."""

from __future__ import annotations

import asyncio
from typing import Any

from otel_llm.callbacks import AsyncCallbackHandler, BaseCallbackHandler, StdOutCallbackHandler
from otel_llm.schema import HumanMessage, LLMResult
from otel_llm.testing.fake import FakeChain, FakeChatModel


class _TokenPrinter(BaseCallbackHandler):
    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        print(f"  token: {token!r}")


class _AsyncNotifier(AsyncCallbackHandler):
    async def on_llm_start(self, serialized: dict[str, Any], prompts: list[str],
                           **kwargs: Any) -> None:
        print("  (async handler) fetching flower data...")
        await asyncio.sleep(0.1)

    async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        await asyncio.sleep(0.1)
        print("  (async handler) have a nice day!")


def run_demo() -> int:
    print("== 1. streamed flower-shop answer, one sync and one async handler")
    model = FakeChatModel(["玫瑰、百合、向日葵。"], streaming=True, token_delay=0.02,
                          callbacks=[_TokenPrinter(), _AsyncNotifier()])
    asyncio.run(model.agenerate([[HumanMessage(content="哪种花卉最适合生日?")]]))

    print("\n== 2. a prompt chain with verbose=True (stdout handler)")
    chain = FakeChain(FakeChatModel(["3"]), "1 + {number} = ", verbose=True)
    print("answer:", chain.run(number=2))

    print("\n== 3. request callbacks reach the model inside the chain")
    chain.run(number=2, callbacks=[StdOutCallbackHandler()])
    return 0
