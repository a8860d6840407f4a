"""``otel_llm.attributes()``: the values reach every span started in the block, and only those."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest
from opentelemetry import context as otel_context
from opentelemetry import propagate

import otel_llm
from otel_llm import attribution
from otel_llm.instrumentation.openai import instrument_openai, uninstrument_openai
from otel_llm.testing import FakeChatModel, InMemoryTelemetry

CONV, USER, SESSION = "gen_ai.conversation.id", "user.id", "session.id"
FEATURE = {"app.feature": "search"}


@pytest.fixture(autouse=True)
def _no_baggage() -> Iterator[None]:
    attribution.propagate_in_baggage(False)
    yield
    attribution.propagate_in_baggage(False)
    uninstrument_openai()


def _ask(model: FakeChatModel, handler: Any) -> None:
    model.invoke("hi", config={"callbacks": [handler]})


def test_block_values_land_on_every_span_in_it_and_not_after(otel: InMemoryTelemetry) -> None:
    """Conversation, user, session and extra keys are span attributes; after the block, none."""
    handler = otel.handler()
    model = FakeChatModel(model_name="m-in")
    with otel_llm.attributes(conversation_id="c-1", user_id="u-1", session_id=7, **FEATURE):
        _ask(model, handler)
    _ask(FakeChatModel(model_name="m-out"), handler)
    inside = otel.span("chat m-in").attributes or {}
    assert (inside[CONV], inside[USER], inside[SESSION], inside["app.feature"]) == \
        ("c-1", "u-1", 7, "search")
    outside = otel.span("chat m-out").attributes or {}
    assert not {CONV, USER, SESSION, "app.feature"} & set(outside)


def test_nested_blocks_merge_inner_wins_and_raising_block_resets(
        otel: InMemoryTelemetry) -> None:
    """An inner block overrides and adds; an exception leaving a block still ends it."""
    handler = otel.handler()
    with otel_llm.attributes(conversation_id="outer", user_id="u"):
        with pytest.raises(KeyError), otel_llm.attributes(conversation_id="inner", **FEATURE):
            _ask(FakeChatModel(model_name="m-inner"), handler)
            raise KeyError("boom")
        _ask(FakeChatModel(model_name="m-outer"), handler)
    assert attribution.current() == {}
    inner = otel.span("chat m-inner").attributes or {}
    outer = otel.span("chat m-outer").attributes or {}
    assert (inner[CONV], inner[USER], inner["app.feature"]) == ("inner", "u", "search")
    assert (outer[CONV], outer[USER]) == ("outer", "u")
    assert "app.feature" not in outer


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"user_id": ["u"]}, TypeError),
    ({"conversation_id": {"a": 1}}, TypeError),
    ({"app.feature": None}, TypeError),
    ({"session_id": "  "}, ValueError),
    ({"": "x"}, ValueError),
    ({"ratio": float("nan")}, ValueError),
])
def test_bad_values_are_refused_at_the_call(kwargs: dict[str, Any],
                                            error: type[Exception]) -> None:
    """A wrong type is a TypeError, an empty or non-finite value a ValueError, before any run."""
    with pytest.raises(error, match=r"otel_llm\.attributes"):
        otel_llm.attributes(**kwargs)


async def test_a_thousand_concurrent_tasks_each_get_only_their_own_values(
        otel: InMemoryTelemetry) -> None:
    """Tasks interleave (a streamed fake model yields between tokens) and never mix values."""
    handler = otel.handler()

    async def one(i: int) -> None:
        with otel_llm.attributes(conversation_id=f"c{i}", user_id=f"u{i}"):
            model = FakeChatModel(["a b c"], model_name=f"m{i}", streaming=True)
            await model.ainvoke("hi", config={"callbacks": [handler]})

    await asyncio.gather(*(one(i) for i in range(1000)))
    spans = otel.spans()
    assert len(spans) == 1000
    for span in spans:
        attrs = span.attributes or {}
        i = str(attrs["gen_ai.request.model"])[1:]
        assert (attrs[CONV], attrs[USER]) == (f"c{i}", f"u{i}")


def test_threads_started_inside_the_block_carry_its_values(otel: InMemoryTelemetry) -> None:
    """A thread pool created in the block runs its calls with the block's values."""
    handler = otel.handler()
    with otel_llm.attributes(conversation_id="pooled"), ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: _ask(FakeChatModel(model_name=f"t{i}"), handler), range(8)))
    spans = otel.spans()
    assert len(spans) == 8
    assert {(s.attributes or {})[CONV] for s in spans} == {"pooled"}


def test_a_thread_outliving_the_block_stops_seeing_it(otel: InMemoryTelemetry) -> None:
    """The block's end is seen by a thread started inside it that runs on afterwards."""
    handler = otel.handler()
    go, done = threading.Event(), threading.Event()

    def later() -> None:
        go.wait(10)
        _ask(FakeChatModel(model_name="late"), handler)
        done.set()

    with otel_llm.attributes(conversation_id="gone"):
        threading.Thread(target=later).start()
    go.set()
    assert done.wait(10)
    assert CONV not in (otel.span("chat late").attributes or {})


def test_sdk_calls_through_instrument_openai_carry_the_values(
        otel: InMemoryTelemetry, client: openai.OpenAI) -> None:
    """A real SDK call over HTTP inside the block: its chat span has the block's values."""
    instrument_openai([otel.handler()])
    with otel_llm.attributes(conversation_id="sdk-conv", **FEATURE):
        client.chat.completions.create(model="gpt-4o-mini",
                                       messages=[{"role": "user", "content": "hi"}])
    attrs = otel.span("chat gpt-4o-mini").attributes or {}
    assert (attrs[CONV], attrs["app.feature"]) == ("sdk-conv", "search")


def test_decorator_on_sync_and_async_functions(otel: InMemoryTelemetry) -> None:
    """Each call of a decorated function runs in a block; outside the calls nothing is set."""
    handler = otel.handler()

    @otel_llm.attributes(user_id="deco-sync")
    def sync() -> str:
        _ask(FakeChatModel(model_name="deco-s"), handler)
        return "s"

    @otel_llm.attributes(user_id="deco-async")
    async def coro() -> str:
        await FakeChatModel(model_name="deco-a").ainvoke("hi", config={"callbacks": [handler]})
        return "a"

    assert sync() == "s"
    assert asyncio.run(coro()) == "a"
    assert attribution.current() == {}
    assert (otel.span("chat deco-s").attributes or {})[USER] == "deco-sync"
    assert (otel.span("chat deco-a").attributes or {})[USER] == "deco-async"


def test_one_block_object_entered_by_concurrent_tasks() -> None:
    """A shared block object entered in many tasks at once leaves each task's scope intact."""
    shared = otel_llm.attributes(**FEATURE)
    seen: list[Any] = []

    async def one(i: int) -> None:
        with otel_llm.attributes(user_id=f"u{i}"), shared:
            await asyncio.sleep(0)
            seen.append(dict(attribution.current()))
        seen.append(dict(attribution.current()))

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(20)))

    asyncio.run(main())
    inside = [s for s in seen if "app.feature" in s]
    assert len(inside) == 20
    assert {s[USER] for s in inside} == {f"u{i}" for i in range(20)}
    assert len([s for s in seen if s == {}]) == 20


class _Downstream(BaseHTTPRequestHandler):
    """A downstream service: extracts the W3C headers and makes an LLM call in that context."""

    handler: Any = None

    def do_GET(self) -> None:
        carrier = {k.lower(): v for k, v in self.headers.items()}
        token = otel_context.attach(propagate.extract(carrier))
        try:
            _ask(FakeChatModel(model_name="downstream"), self.handler)
        finally:
            otel_context.detach(token)
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _call_downstream(port: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    propagate.inject(headers)  # what OpenTelemetry's HTTP client instrumentations do
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return headers


@pytest.mark.parametrize("enabled", [True, False])
def test_baggage_carries_the_values_downstream_only_when_enabled(
        otel: InMemoryTelemetry, enabled: bool) -> None:
    """With the option on, a real HTTP hop with W3C baggage gives the downstream span the values;
    off (the default), nothing leaves the process."""
    _Downstream.handler = otel.handler()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Downstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        attribution.propagate_in_baggage(enabled)
        with otel_llm.attributes(conversation_id="across", user_id="u-9"):
            sent = _call_downstream(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
    attrs = otel.span("chat downstream").attributes or {}
    if enabled:
        assert (attrs[CONV], attrs[USER]) == ("across", "u-9")
        assert "u-9" in sent["baggage"]
    else:
        assert CONV not in attrs and USER not in attrs
        assert "baggage" not in sent


def test_baggage_option_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``OTEL_LLM_ATTRIBUTES_BAGGAGE=true`` turns it on; configure() can turn it off again."""
    monkeypatch.setenv("OTEL_LLM_ATTRIBUTES_BAGGAGE", "true")
    monkeypatch.setattr(attribution, "_baggage_on", None)
    assert attribution._baggage_enabled()
    telemetry = otel_llm.configure(attributes_in_baggage=False, install=False,
                                   traces_exporter="none", metrics_exporter="none")
    telemetry.shutdown()
    assert not attribution._baggage_enabled()
