"""The tutorial's two flower-shop handlers, written exactly as for LangChain.

``MyFlowerShopSyncHandler`` prints every streamed token as it arrives (in
async code it runs off the event loop); ``MyFlowerShopAsyncHandler`` awaits
a pretend data fetch when the model starts and a pretend follow-up when it
ends. The call awaits ``on_llm_start`` before sending the request, as
LangChain's managers do.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from otel_llm.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.demo.console import Console, display_width
from otel_llm.schema import LLMResult

__all__ = ["MyFlowerShopAsyncHandler", "MyFlowerShopSyncHandler"]

_TOKEN_INDENT = "    "


class MyFlowerShopSyncHandler(BaseCallbackHandler):
    """Prints the tokens of each run on wrapped lines, separated by ``|``."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.tokens = 0
        self._runs: set[UUID] = set()

    def on_llm_new_token(self, token: str, *, run_id: UUID, **kwargs: Any) -> None:
        shown = token.replace("\n", "\\n")
        with self.console.lock:
            self.tokens += 1
            if run_id not in self._runs:
                self._runs.add(run_id)
                self.console.line("  sync handler, token by token:")
                self.console.write(_TOKEN_INDENT)
            elif self.console.column + 1 + display_width(shown) > self.console.width:
                self.console.write("\n" + _TOKEN_INDENT)
            else:
                self.console.write("|")
            self.console.write(shown)


class MyFlowerShopAsyncHandler(AsyncCallbackHandler):
    """Pretends to fetch flower data before the answer and to follow up after it."""

    def __init__(self, console: Console, pause: float = 0.3) -> None:
        self.console = console
        self.pause = pause

    async def on_llm_start(self, serialized: dict[str, Any], prompts: list[str],
                           **kwargs: Any) -> None:
        self.console.line("  async handler: fetching flower data...")
        await asyncio.sleep(self.pause)  # other tasks run meanwhile
        self.console.line("  async handler: flower data ready, asking the model")

    async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.console.line("  async handler: arranging the suggestions...")
        await asyncio.sleep(self.pause)
        self.console.line("  async handler: have a nice day!")
