"""The open-run registry: bounded by count and age; abandoned runs end with a reason, once."""

from __future__ import annotations

import threading
import uuid

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from otel_llm import semconv
from otel_llm.telemetry import ERROR_TYPE_PARENT_ENDED, ERROR_TYPE_RUN_EVICTED
from otel_llm.telemetry.runs import Run, RunKind, RunRegistry
from otel_llm.testing.otel import InMemoryTelemetry

from .events import MODEL, FakeClock, chain_start, chat_result, chat_start, stream

LLM = f"chat {MODEL}"


def test_eviction_by_cap_ends_the_oldest_runs(otel: InMemoryTelemetry) -> None:
    """Past max_open_runs the oldest runs end with ERROR and otel_llm.RunEvicted."""
    handler = otel.handler(max_open_runs=3)
    runs = [chat_start(handler) for _ in range(5)]
    assert handler.open_runs == 3
    evicted = otel.spans(LLM)
    assert len(evicted) == 2
    for span in evicted:
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "evicted: more than 3 runs open"
        assert (span.attributes or {})[semconv.ERROR_TYPE] == ERROR_TYPE_RUN_EVICTED
    # The evicted ones are gone: their late end events are ignored, the others end normally.
    for run in runs:
        handler.on_llm_end(chat_result(), run_id=run)
    spans = otel.spans(LLM)
    assert len(spans) == 5
    assert sum(s.status.status_code is StatusCode.UNSET for s in spans) == 3
    assert handler.open_runs == 0


def test_eviction_by_age_with_injected_clock(otel: InMemoryTelemetry, clock: FakeClock) -> None:
    """A run older than max_run_age is ended (at its last activity) when the next run starts."""
    handler = otel.handler(clock=clock, max_run_age=60)
    stale = chat_start(handler)
    stream(handler, stale, 2, clock, gap=1.0)
    last_activity = clock.now
    clock.advance(30)
    fresh = chat_start(handler)
    assert handler.open_runs == 2
    clock.advance(45)  # stale is 77 s old, fresh 45 s
    chat_start(handler)
    assert handler.open_runs == 2
    [span] = otel.spans(LLM)
    assert span.status.description == "evicted: open longer than 60 s"
    assert (span.attributes or {})[semconv.ERROR_TYPE] == ERROR_TYPE_RUN_EVICTED
    assert span.end_time == last_activity
    # The abandoned stream still counts as a failed operation.
    [duration] = otel.metric_points(
        semconv.METRIC_OPERATION_DURATION, **{semconv.ERROR_TYPE: ERROR_TYPE_RUN_EVICTED}
    )
    assert duration.sum == pytest.approx(2.0)
    handler.on_llm_end(chat_result(), run_id=fresh)
    assert len(otel.spans(LLM)) == 2


def test_ending_a_parent_ends_its_open_descendants(
    otel: InMemoryTelemetry, clock: FakeClock
) -> None:
    """Children and grandchildren still open when the parent ends: ERROR, 'parent run ended first'."""
    handler = otel.handler(clock=clock)
    root = chain_start(handler, "Root")
    mid = chain_start(handler, "Mid", parent=root)
    leaf = chat_start(handler, parent=mid)
    done = chat_start(handler, parent=root)
    handler.on_llm_end(chat_result(), run_id=done)
    end = clock.advance(2)
    handler.on_chain_end({}, run_id=root)
    assert handler.open_runs == 0
    assert otel.span("invoke_workflow Root").status.status_code is StatusCode.UNSET
    for span in (
        otel.span("invoke_workflow Mid"),
        *[s for s in otel.spans(LLM) if s.end_time == end],
    ):
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "parent run ended first"
        assert (span.attributes or {})[semconv.ERROR_TYPE] == ERROR_TYPE_PARENT_ENDED
        assert span.end_time == end
    statuses = sorted(s.status.status_code.name for s in otel.spans(LLM))
    assert statuses == ["ERROR", "UNSET"]
    # Late events of the abandoned runs change nothing.
    handler.on_llm_end(chat_result(), run_id=leaf)
    assert len(otel.spans()) == 4


def test_evicting_a_parent_takes_its_subtree(otel: InMemoryTelemetry) -> None:
    """An evicted chain's open children end with it, with the same reason."""
    handler = otel.handler(max_open_runs=2)
    root = chain_start(handler, "Root")
    chat_start(handler, parent=root)
    chat_start(handler)  # cap reached: Root (the oldest) and its child go
    assert handler.open_runs == 1
    for span in (otel.span("invoke_workflow Root"), otel.span(LLM)):
        assert span.status.description == "evicted: more than 2 runs open"


def test_close_ends_every_open_run(otel: InMemoryTelemetry) -> None:
    """close() ends what is still open, so nothing is lost at shutdown."""
    handler = otel.handler()
    root = chain_start(handler)
    chat_start(handler, parent=root)
    handler.close()
    assert handler.open_runs == 0
    assert len(otel.spans()) == 2
    assert all(s.status.status_code is StatusCode.ERROR for s in otel.spans())


def test_a_run_id_started_twice_ends_the_first(otel: InMemoryTelemetry) -> None:
    """Reusing a run id does not leak the first span."""
    handler = otel.handler()
    run = uuid.uuid4()
    chat_start(handler, run_id=run)
    chat_start(handler, run_id=run)
    handler.on_llm_end(chat_result(), run_id=run)
    spans = otel.spans(LLM)
    assert [s.status.description for s in spans] == ["evicted: run id started again", None]


def _run(run_id: uuid.UUID, start_ns: int, parent: uuid.UUID | None = None) -> Run:
    return Run(run_id, parent, RunKind.WORKFLOW, "r", trace.INVALID_SPAN, start_ns)


def test_registry_pop_is_atomic_across_threads() -> None:
    """Concurrent end events for one run: exactly one caller gets it."""
    registry = RunRegistry(max_open=100, max_age_ns=10**12)
    run_id = uuid.uuid4()
    registry.add(_run(run_id, 0), 0)
    got: list[object] = []
    barrier = threading.Barrier(8)

    def end() -> None:
        barrier.wait()
        got.append(registry.pop(run_id))

    threads = [threading.Thread(target=end) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(g is not None for g in got) == 1


def test_registry_children_bookkeeping() -> None:
    """Ended children are forgotten by their parent; the parent's pop returns only open ones."""
    registry = RunRegistry(max_open=100, max_age_ns=10**12)
    parent, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    registry.add(_run(parent, 0), 0)
    registry.add(_run(a, 1, parent), 1)
    registry.add(_run(b, 2, parent), 2)
    registry.pop(a)
    popped = registry.pop(parent)
    assert popped is not None
    assert [r.run_id for r in popped[1]] == [b]
    assert len(registry) == 0


def test_registry_finds_runs_by_equal_ids_of_any_uuid_class_and_by_other_ids() -> None:
    """Runs are kept under their id's int: a run started under a uuid.UUID is found, and
    popped with its child, by an equal id of another UUID class (and the other way round);
    ids that are not UUIDs (strings) work as they are."""

    class OtherUUID(uuid.UUID):  # e.g. a library's own UUID type
        pass

    registry = RunRegistry(10, 10**12)
    parent_id, child_id = uuid.uuid4(), uuid.uuid4()
    other_parent = OtherUUID(int=parent_id.int)
    parent = Run(parent_id, None, RunKind.WORKFLOW, "p", trace.INVALID_SPAN, 0)
    child = Run(OtherUUID(int=child_id.int), other_parent, RunKind.LLM, "c",
                trace.INVALID_SPAN, 0)
    assert registry.add(parent, 0) == [] and registry.add(child, 0) == []
    assert registry.get(other_parent) is parent and registry.get(child_id) is child
    popped = registry.pop(other_parent)
    assert popped is not None and popped[0] is parent and popped[1] == [child]
    assert len(registry) == 0
    named = Run("run-1", None, RunKind.WORKFLOW, "n", trace.INVALID_SPAN, 0)  # type: ignore[arg-type]
    registry.add(named, 0)
    assert registry.get("run-1") is named  # type: ignore[arg-type]


def test_registry_pass_through_runs_lead_to_their_nearest_recorded_ancestor() -> None:
    """A run without a span (pass_through) leads its children to its recorded ancestor, through
    nested pass-throughs; ending it forgets it; the entries are bounded like open runs."""
    registry = RunRegistry(max_open=3, max_age_ns=10**12)
    root, step, inner = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    registry.add(_run(root, 0), 0)
    registry.pass_through(step, root)
    registry.pass_through(inner, step)
    assert registry.parent(step) is registry.parent(inner) is registry.get(root)
    assert registry.pop(inner) is None  # a pass-through's end: no run to end, forgotten
    assert registry.parent(inner) is None
    orphan = uuid.uuid4()
    registry.pass_through(orphan, uuid.uuid4())  # its parent is unknown: children are roots
    assert registry.parent(orphan) is None
    for _ in range(5):
        registry.pass_through(uuid.uuid4(), root)
    assert registry.parent(step) is None  # the oldest entries made room
    assert len(registry) == 1
