"""Callback managers: reach of constructor vs request callbacks, run ids, verbose, scopes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from otel_llm.callbacks import (
    AsyncCallbackManager,
    CallbackManager,
    StdOutCallbackHandler,
    scoped_callbacks,
)
from otel_llm.schema import Generation, HumanMessage, LLMResult
from otel_llm.testing.fake import FakeChain, FakeChatModel

from .conftest import Recorder


def test_request_callbacks_reach_child_runs_constructor_callbacks_do_not() -> None:
    """Request callbacks see the chain and its LLM child; the chain's constructor ones only the chain."""
    request, chain_ctor, llm_ctor = Recorder("req"), Recorder("chain"), Recorder("llm")
    chain = FakeChain(FakeChatModel(["3"], callbacks=[llm_ctor]), "1 + {number} = ",
                      callbacks=[chain_ctor])
    assert chain.run(callbacks=[request], number=2) == "3"
    assert request.hooks == ["chain_start", "text", "chat_start", "llm_end", "chain_end"]
    assert chain_ctor.hooks == ["chain_start", "text", "chain_end"]
    assert llm_ctor.hooks == ["chat_start", "llm_end"]


def test_run_ids_are_fresh_per_run_and_children_point_at_their_parent() -> None:
    """Each run gets its own uuid4; the LLM run's parent_run_id is the chain's run_id."""
    rec = Recorder()
    chain = FakeChain(FakeChatModel(["x"]), "{q}")
    chain.run(callbacks=[rec], q="a")
    chain.run(callbacks=[rec], q="b")
    starts = [e for e in rec.events if e[0] in ("chain_start", "chat_start")]
    chain1, llm1, chain2, llm2 = starts
    assert chain1[2] is None and chain2[2] is None
    assert llm1[2] == chain1[1] and llm2[2] == chain2[1]
    assert len({chain1[1], llm1[1], chain2[1], llm2[1]}) == 4
    assert all(isinstance(e[1], uuid.UUID) and e[1].version == 4 for e in starts)
    # end events carry the same ids as their start
    ends = {e[1]: e for e in rec.events if e[0] in ("chain_end", "llm_end")}
    assert set(ends) == {chain1[1], llm1[1], chain2[1], llm2[1]}
    assert ends[llm1[1]][2] == chain1[1]


def test_explicit_run_id_is_used_and_one_run_per_prompt() -> None:
    """A caller-supplied run_id names the first run; every prompt gets a run of its own."""
    rec = Recorder()
    rid = uuid.uuid4()
    runs = CallbackManager([rec]).on_llm_start({}, ["a", "b", "c"], run_id=rid)
    assert runs[0].run_id == rid
    assert len({r.run_id for r in runs}) == 3
    assert [e[1] for e in rec.events] == [r.run_id for r in runs]


def test_verbose_adds_a_stdout_handler_for_the_component_only(capsys: pytest.CaptureFixture[str]) -> None:
    """verbose=True prints the chain's events; the child LLM run is not logged by it (local)."""
    chain = FakeChain(FakeChatModel(["3"]), "1 + {number} = ", verbose=True)
    chain.run(number=2)
    out = capsys.readouterr().out
    assert "> Entering new LLMChain chain..." in out
    assert "Prompt after formatting:\n1 + 2 = " in out
    assert "> Finished chain." in out
    assert "[chat start]" not in out
    mgr = CallbackManager.configure(None, None, verbose=True)
    assert [type(h) for h in mgr.handlers] == [StdOutCallbackHandler]
    again = CallbackManager.configure(None, mgr.handlers, verbose=True)
    assert len(again.handlers) == 1, "verbose must not add a second stdout handler"


def test_tags_and_metadata_split_into_inheritable_and_local() -> None:
    """Inheritable tags/metadata reach the child manager; local ones stay on the parent."""
    seen: dict[str, object] = {}

    class Tags(Recorder):
        def on_llm_start(self, serialized, prompts, **kw):  # type: ignore[no-untyped-def]
            seen["llm"] = (kw["tags"], kw["metadata"])

        def on_chain_start(self, serialized, inputs, **kw):  # type: ignore[no-untyped-def]
            seen["chain"] = (kw["tags"], kw["metadata"])

    mgr = CallbackManager.configure([Tags()], None, inheritable_tags=["req"], local_tags=["own"],
                                    inheritable_metadata={"user": "u1"},
                                    local_metadata={"k": "v"})
    chain = mgr.on_chain_start({"name": "c"}, {})
    chain.get_child("step").on_llm_start({}, ["p"])
    assert seen["chain"] == (["req", "own"], {"user": "u1", "k": "v"})
    assert seen["llm"] == (["req", "step"], {"user": "u1"})


def test_scoped_callbacks_join_every_manager_and_leave_on_exception() -> None:
    """Handlers in a scoped_callbacks block see runs started inside it, and none after it."""
    rec = Recorder()
    model = FakeChatModel(["hi"])
    with pytest.raises(RuntimeError), scoped_callbacks(rec):
        model.invoke("a")
        raise RuntimeError("boom")
    model.invoke("b")
    assert rec.hooks == ["chat_start", "llm_end"]


async def test_scoped_callbacks_reach_tasks_started_inside() -> None:
    """asyncio tasks created in the block copy the scope; tasks of other scopes don't mix."""
    a, b = Recorder("a"), Recorder("b")
    model = FakeChatModel(["hi"])

    async def work(handler: Recorder, n: int) -> None:
        with scoped_callbacks(handler):
            await asyncio.gather(*(model.ainvoke("q") for _ in range(n)))

    await asyncio.gather(work(a, 3), work(b, 5))
    assert a.hooks.count("llm_end") == 3
    assert b.hooks.count("llm_end") == 5


async def test_async_manager_mirrors_sync_semantics() -> None:
    """The async manager returns awaitables with the same reach and parent ids as the sync one."""
    request, ctor = Recorder("req"), Recorder("ctor")
    chain = FakeChain(FakeChatModel(["3"], streaming=True), "1 + {n} = ", callbacks=[ctor])
    assert await chain.arun(callbacks=[request], n=2) == "3"
    assert request.hooks == ["chain_start", "text", "chat_start", "token", "llm_end", "chain_end"]
    assert ctor.hooks == ["chain_start", "text", "chain_end"]
    chain_id = request.events[0][1]
    assert request.events[2][2] == chain_id


async def test_thousand_concurrent_tasks_each_see_only_their_own_events() -> None:
    """1,000 concurrent requests, each with its own request handler, never see another's runs."""
    model = FakeChatModel(["a b c"], streaming=True)
    handlers = [Recorder(str(i)) for i in range(1000)]

    async def one(h: Recorder) -> None:
        await model.agenerate([[HumanMessage(content=h.name)]], callbacks=[h])

    await asyncio.gather(*(one(h) for h in handlers))
    run_ids = set()
    for h in handlers:
        assert h.hooks == ["chat_start", "token", "token", "token", "llm_end"]
        ids = {e[1] for e in h.events}
        assert len(ids) == 1
        run_ids |= ids
    assert len(run_ids) == 1000


async def test_async_custom_event_and_tool_and_retriever_runs() -> None:
    """Tool and retriever runs start under a chain with its run id as parent; custom events arrive."""
    got: list[tuple[str, object]] = []

    class H(Recorder):
        def on_tool_start(self, serialized, input_str, **kw):  # type: ignore[no-untyped-def]
            got.append(("tool_start", kw["parent_run_id"]))

        def on_tool_end(self, output, **kw):  # type: ignore[no-untyped-def]
            got.append(("tool_end", output))

        def on_retriever_start(self, serialized, query, **kw):  # type: ignore[no-untyped-def]
            got.append(("retriever_start", kw["parent_run_id"]))

        def on_retriever_end(self, documents, **kw):  # type: ignore[no-untyped-def]
            got.append(("retriever_end", len(documents)))

        def on_custom_event(self, name, data, **kw):  # type: ignore[no-untyped-def]
            got.append((name, data))

    mgr = AsyncCallbackManager([H()], [H()])
    chain = await mgr.on_chain_start({"name": "agent"}, {})
    child = chain.get_child()
    tool = await child.on_tool_start({"name": "calc"}, "1+1")
    await tool.on_tool_end("2")
    retr = await child.on_retriever_start({"name": "docs"}, "q")
    await retr.on_retriever_end([1, 2])
    await mgr.on_custom_event("progress", {"pct": 50})
    assert got == [("tool_start", chain.run_id), ("tool_end", "2"),
                   ("retriever_start", chain.run_id), ("retriever_end", 2),
                   ("progress", {"pct": 50})]


def test_llm_result_usage_reads_like_langchain() -> None:
    """Handlers read usage as response.llm_output['token_usage'] and text as generations[0][0].text."""
    seen = {}

    class Usage(Recorder):
        def on_llm_end(self, response, **kw):  # type: ignore[no-untyped-def]
            seen["usage"] = response.llm_output["token_usage"]
            seen["text"] = response.generations[0][0].text

    FakeChatModel(["four words right here"]).invoke("hello there", {"callbacks": [Usage()]})
    assert seen["text"] == "four words right here"
    assert seen["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
    assert LLMResult([[Generation("x")]]).llm_output is None
