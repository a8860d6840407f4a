"""The scripted fake model behaves like a LangChain chat model from a handler's view."""

from __future__ import annotations

import pytest

from otel_llm.testing.fake import FakeChatModel
from tests.callbacks.conftest import Recorder


def test_fake_model_cycles_responses_and_streams_chunks() -> None:
    """Responses come in turn; streaming emits one token event per word chunk, text intact."""
    rec = Recorder()
    model = FakeChatModel(["a b", "c"], streaming=True)
    assert model.invoke("q", {"callbacks": [rec]}).content == "a b"
    assert model.invoke("q", {"callbacks": [rec]}).content == "c"
    assert rec.hooks == ["chat_start", "token", "token", "llm_end", "chat_start", "token",
                         "llm_end"]


async def test_fake_model_error_reaches_handlers_and_caller() -> None:
    """A scripted error is reported with on_llm_error and re-raised unchanged."""
    rec = Recorder()
    err = TimeoutError("slow")
    with pytest.raises(TimeoutError) as info:
        await FakeChatModel(error=err).ainvoke("q", {"callbacks": [rec]})
    assert info.value is err
    assert rec.hooks == ["chat_start", "llm_error"]
