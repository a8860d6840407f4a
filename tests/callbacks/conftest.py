from __future__ import annotations

from typing import Any

import pytest

from otel_llm.callbacks import AsyncCallbackHandler, BaseCallbackHandler


class Recorder(BaseCallbackHandler):
    """Records (hook, run_id, parent_run_id) for every event it gets."""

    def __init__(self, name: str = "rec") -> None:
        self.name = name
        self.events: list[tuple[str, Any, Any]] = []

    def _rec(self, hook: str, kw: dict[str, Any]) -> None:
        self.events.append((hook, kw.get("run_id"), kw.get("parent_run_id")))

    def on_llm_start(self, serialized, prompts, **kw):  # type: ignore[no-untyped-def]
        self._rec("llm_start", kw)

    def on_chat_model_start(self, serialized, messages, **kw):  # type: ignore[no-untyped-def]
        self._rec("chat_start", kw)

    def on_llm_new_token(self, token, **kw):  # type: ignore[no-untyped-def]
        self._rec("token", kw)

    def on_llm_end(self, response, **kw):  # type: ignore[no-untyped-def]
        self._rec("llm_end", kw)

    def on_llm_error(self, error, **kw):  # type: ignore[no-untyped-def]
        self._rec("llm_error", kw)

    def on_chain_start(self, serialized, inputs, **kw):  # type: ignore[no-untyped-def]
        self._rec("chain_start", kw)

    def on_chain_end(self, outputs, **kw):  # type: ignore[no-untyped-def]
        self._rec("chain_end", kw)

    def on_chain_error(self, error, **kw):  # type: ignore[no-untyped-def]
        self._rec("chain_error", kw)

    def on_text(self, text, **kw):  # type: ignore[no-untyped-def]
        self._rec("text", kw)

    @property
    def hooks(self) -> list[str]:
        return [e[0] for e in self.events]


class AsyncRecorder(AsyncCallbackHandler):
    def __init__(self) -> None:
        self.events: list[str] = []

    async def on_chat_model_start(self, serialized, messages, **kw):  # type: ignore[no-untyped-def]
        self.events.append("chat_start")

    async def on_llm_new_token(self, token, **kw):  # type: ignore[no-untyped-def]
        self.events.append(f"token:{token}")

    async def on_llm_end(self, response, **kw):  # type: ignore[no-untyped-def]
        self.events.append("llm_end")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
