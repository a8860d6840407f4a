"""SDK errors: on_llm_error gets the SDK's exception and the caller gets the same object."""

from __future__ import annotations

import socket

import openai
import pytest

from otel_llm.devserver import ModelServer

from .support import USER, Recorder


@pytest.mark.parametrize(("fault", "error"), [
    ("429", openai.RateLimitError),
    ("500", openai.InternalServerError),
    ("400", openai.BadRequestError),
])
@pytest.mark.parametrize("stream", [False, True])
def test_status_errors(client: openai.OpenAI, instrumented: Recorder, fault: str,
                       error: type[Exception], stream: bool) -> None:
    """HTTP errors, streamed or not: one on_llm_error with the very exception raised."""
    with pytest.raises(error) as info:
        client.chat.completions.create(model=f"gpt-4o-mini+error={fault}", messages=USER,
                                       stream=stream)
    end = instrumented.assert_one_run_ended_once()
    assert end.hook == "error"
    assert end.payload is info.value


def test_timeout(server: ModelServer, instrumented: Recorder) -> None:
    """A server that does not answer in time: APITimeoutError, reported then re-raised."""
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                           timeout=0.3)
    with pytest.raises(openai.APITimeoutError) as info:
        client.chat.completions.create(model="gpt-4o-mini+error=hang:2", messages=USER)
    assert instrumented.assert_one_run_ended_once().payload is info.value
    client.close()


def test_connection_refused(instrumented: Recorder) -> None:
    """Nothing listening: APIConnectionError, reported then re-raised."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test",
                           max_retries=0)
    for stream in (False, True):
        instrumented.clear()
        with pytest.raises(openai.APIConnectionError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=stream)
        assert instrumented.assert_one_run_ended_once().payload is info.value
    client.close()


def test_retries_are_one_run(server: ModelServer, instrumented: Recorder) -> None:
    """The SDK's own retries happen inside one call: one run, ending in success."""
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=2)
    server.inject("500", times=1, path="/v1/chat/completions")
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert instrumented.assert_one_run_ended_once().hook == "end"
    client.close()
