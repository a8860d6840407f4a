"""Server lifecycle and HTTP behaviour: keep-alive, clean shutdown, unknown routes."""

from __future__ import annotations

import socket
import threading

import openai
import pytest

from otel_llm.devserver import ModelServer

from .support import TRANSPORT as httpx2  # httpx, or httpx2 for openai 3


def _devserver_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("devserver", "Thread-"))]


def test_context_manager_starts_and_stops_cleanly() -> None:
    """Leaving the ``with`` block closes the port and leaves no server threads behind,
    even with an idle keep-alive connection and a hanging request open."""
    before = set(_devserver_threads())
    with ModelServer() as srv:
        url = srv.url
        assert url.startswith("http://127.0.0.1:")
        client = openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0)
        client.models.list()  # leaves an idle keep-alive connection
        outcome: list[BaseException] = []

        def hang() -> None:
            try:
                client.chat.completions.create(
                    model="error-hang", messages=[{"role": "user", "content": "x"}]
                )
            except openai.APIConnectionError as exc:
                outcome.append(exc)

        hung = threading.Thread(target=hang)
        hung.start()
        while not any(r.body.get("model") == "error-hang" for r in srv.requests):
            threading.Event().wait(0.01)
    hung.join(2)
    assert not hung.is_alive() and outcome  # the hanging call was cut off, not left waiting
    assert set(_devserver_threads()) <= before
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    client.close()


async def test_keep_alive_reuses_one_connection(server: ModelServer) -> None:
    """Sequential streams from one client travel over a single HTTP/1.1 connection when
    the client reads each to its end: the async SDK's (its raw streamed response, since SDKs
    before 3.30 stop parsing at ``[DONE]`` and drop the connection instead of draining it)
    and httpx2's alike."""
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test") as client:
        before = server.connections_opened
        for _ in range(5):
            async with client.chat.completions.with_streaming_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            ) as response:
                events = [line async for line in response.iter_lines() if line]
            assert len(events) > 3 and events[-1] == "data: [DONE]"
        assert server.connections_opened - before == 1
    with httpx2.Client(base_url=server.base_url) as http:
        peers = set()
        for _ in range(5):
            response = http.post(
                "/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                      "stream": True},
            )
            assert response.http_version == "HTTP/1.1"
            assert response.text.endswith("data: [DONE]\n\n")
            stream = response.extensions["network_stream"]
            peers.add(stream.get_extra_info("client_addr"))
        assert len(peers) == 1


def test_unknown_route_and_bad_json(server: ModelServer) -> None:
    """Unknown URLs get OpenAI's 404 wording; malformed JSON is a 400 error body."""
    r = httpx2.post(server.base_url + "/nope", json={})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Invalid URL (POST /v1/nope)"
    r = httpx2.post(
        server.base_url + "/chat/completions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert httpx2.get(server.url + "/health").json() == {"status": "ok"}


def test_missing_fields_are_openai_errors(client: openai.OpenAI) -> None:
    """Missing ``messages`` is a 400 naming the parameter, like OpenAI's."""
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert info.value.param == "messages"
