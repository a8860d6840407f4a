"""Attribute values sanitised where they enter: no event payload can make a batch unencodable.

A lone surrogate (``"gpt\\udcff"``) has no UTF-8 form and an int beyond 64
bits does not fit OTLP: before, one such value failed its whole export batch.
Here every attribute-bearing field of every event carries one, and the spans,
metrics and content events travel through the real OTLP exporters (gRPC and
HTTP) to the in-process receiver, next to a well-formed run in the same batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from otel_llm import semconv
from otel_llm.configuration import configure
from otel_llm.schema import AIMessage, ChatGeneration, HumanMessage, LLMResult
from otel_llm.telemetry import OpenTelemetryCallbackHandler
from otel_llm.telemetry.values import MAX_ATTRIBUTE_CHARS, clean_attributes
from otel_llm.testing.collector import GrpcCollector, HttpCollector

BAD = "x\udcff"  # a lone surrogate, as os.environ or a broken decoder hands it over
GOOD = "x\ufffd"  # what it becomes


class BadError(Exception):
    """An exception whose message carries a surrogate."""


BadError.__qualname__ = f"Bad{BAD}Error"


def _llm_run(handler: OpenTelemetryCallbackHandler) -> None:
    """Every request, response, usage and content field of an LLM run carries a bad value."""
    run = uuid.uuid4()
    handler.on_chat_model_start(
        {"name": BAD},
        [[HumanMessage(f"prompt {BAD}")]],
        run_id=run,
        metadata={"ls_provider": BAD, "ls_model_name": BAD},
        invocation_params={
            "model": f"gpt{BAD}",
            "base_url": f"https://{BAD}.example/v1",
            "stop": [BAD, "ok"],
            "seed": 2**70,
            "tools": [{"type": "function", "function": {"name": BAD}}],
        },
    )
    handler.on_llm_new_token(BAD, run_id=run)
    generation = ChatGeneration(
        message=AIMessage(f"answer {BAD}"), generation_info={"finish_reason": BAD}
    )
    handler.on_llm_end(
        LLMResult(
            generations=[[generation]],
            llm_output={
                "id": BAD,
                "model_name": BAD,
                "base_url": f"http://{BAD}:1/v1",
                "token_usage": {"prompt_tokens": 2**70, "completion_tokens": 3},
            },
        ),
        run_id=run,
    )


def _tool_run(handler: OpenTelemetryCallbackHandler) -> None:
    """Tool name, description, call id, arguments and result."""
    run = uuid.uuid4()
    handler.on_tool_start(
        {"name": BAD, "description": BAD}, BAD, run_id=run, inputs={BAD: BAD},
        tool_call_id=BAD,
    )
    handler.on_tool_end(BAD, run_id=run)


def _chain_and_agent_runs(handler: OpenTelemetryCallbackHandler) -> None:
    """Chain and agent names (the agent promoted by its action), a retriever name."""
    chain, agent, retriever = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    handler.on_chain_start({"name": BAD}, {}, run_id=chain)
    handler.on_chain_start({"id": [BAD]}, {}, run_id=agent, parent_run_id=chain, name=f"{BAD}agent")
    handler.on_retriever_start({"name": BAD}, BAD, run_id=retriever, parent_run_id=agent)
    handler.on_retriever_end([], run_id=retriever)
    handler.on_chain_end({}, run_id=agent)
    handler.on_chain_end({}, run_id=chain)


def _failed_run(handler: OpenTelemetryCallbackHandler) -> None:
    """Error type, message (content is on), provider code and the stack trace."""
    run = uuid.uuid4()
    handler.on_chat_model_start({}, [[HumanMessage("hi")]], run_id=run,
                                invocation_params={"model": "m"})
    error = BadError(f"failed {BAD}")
    error.code = BAD  # type: ignore[attr-defined]
    handler.on_llm_error(error, run_id=run)


def _string_error(handler: OpenTelemetryCallbackHandler) -> None:
    run = uuid.uuid4()
    handler.on_tool_start({"name": "t"}, "", run_id=run)
    handler.on_tool_error(BAD, run_id=run)  # type: ignore[arg-type]


FIELDS: list[Callable[[OpenTelemetryCallbackHandler], None]] = [
    _llm_run, _tool_run, _chain_and_agent_runs, _failed_run, _string_error
]


def _strings(value: AnyValue) -> list[str]:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [s for v in value.array_value.values for s in _strings(v)]
    return [value.string_value] if kind == "string_value" else []


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_bad_values_in_every_field_reach_a_real_collector(protocol: str) -> None:
    """Every span, metric and content event is delivered, with U+FFFD for each surrogate."""
    collector_type = GrpcCollector if protocol == "grpc" else HttpCollector
    with collector_type() as collector:
        telemetry = configure(endpoint=collector.endpoint, protocol=protocol, install=False,
                              capture_content="SPAN_AND_EVENT")
        try:
            handler = telemetry.handler()
            for field in FIELDS:
                field(handler)
            clean = uuid.uuid4()  # a well-formed run in the same batch
            handler.on_chain_start({"name": "clean"}, {}, run_id=clean)
            handler.on_chain_end({}, run_id=clean)
            assert telemetry.force_flush(timeout=10)
        finally:
            telemetry.shutdown(timeout=5)
        spans = collector.received.spans()
        assert len(spans) == 8
        assert handler.failures.counts() == {}
        names = [s.name for s in spans]
        assert f"chat gpt{GOOD}" in names and "invoke_workflow clean" in names
        assert f"invoke_agent {GOOD}agent" in names and f"execute_tool {GOOD}" in names
        texts = [t for s in spans for kv in s.attributes for t in _strings(kv.value)]
        texts += [t for s in spans for e in s.events for kv in e.attributes
                  for t in _strings(kv.value)]
        texts += [s.status.message for s in spans]
        assert not any("\udcff" in t for t in texts)
        for key in (semconv.GEN_AI_REQUEST_MODEL, semconv.GEN_AI_RESPONSE_ID,
                    semconv.GEN_AI_PROVIDER_NAME, semconv.GEN_AI_TOOL_CALL_ID,
                    semconv.GEN_AI_TOOL_DESCRIPTION, semconv.GEN_AI_INPUT_MESSAGES,
                    semconv.GEN_AI_TOOL_CALL_ARGUMENTS, semconv.ERROR_TYPE,
                    semconv.GEN_AI_RESPONSE_FINISH_REASONS, semconv.SERVER_ADDRESS):
            values = [t for s in spans for kv in s.attributes if kv.key == key
                      for t in _strings(kv.value)]
            assert any(GOOD in v for v in values), key
        seeds = [kv.value.string_value for s in spans for kv in s.attributes
                 if kv.key == semconv.GEN_AI_REQUEST_SEED]
        assert seeds == [str(2**70)]
        logs = collector.received.log_records()
        assert len(logs) == 2  # the inference-details events of both LLM runs
        assert collector.received.metric(semconv.METRIC_OPERATION_DURATION)


def test_clean_attributes_rules() -> None:
    """Strings cleaned and bounded, int64 kept, big ints as text, lists kept when homogeneous,
    other values as bounded text, None dropped."""
    cleaned = clean_attributes(
        {
            "s": BAD,
            "long": "a" * (MAX_ATTRIBUTE_CHARS + 10),
            "i": 2**63 - 1,
            "big": -(2**63) - 1,
            "f": 0.5,
            "b": True,
            "list": [BAD, "ok"],
            "ints": (1, 2),
            "empty": [],
            "mixed": [1, "a"],
            "dict": {"k": BAD},
            "none": None,
            BAD: 1,
        }
    )
    assert cleaned["s"] == GOOD
    assert len(cleaned["long"]) == MAX_ATTRIBUTE_CHARS and cleaned["long"].endswith("…[truncated]")
    assert cleaned["i"] == 2**63 - 1 and cleaned["big"] == str(-(2**63) - 1)
    assert (cleaned["f"], cleaned["b"]) == (0.5, True)
    assert cleaned["list"] == (GOOD, "ok") and cleaned["ints"] == (1, 2)
    assert cleaned["empty"] == ()
    assert cleaned["mixed"] == "[1, 'a']"
    assert cleaned["dict"] == "{'k': 'x\\udcff'}"
    assert "none" not in cleaned and cleaned[GOOD] == 1


def test_clean_attributes_cheap_paths_give_the_same_values() -> None:
    """The cheap paths (keys seen before, lists of short ASCII strings) clean exactly as the
    general rules: a second pass over the same keys, a str-subclass element, an over-long
    element and a list longer than 1024 give what the first pass and the rules give."""
    class Tag(str):
        pass

    attrs = {"gen_ai.response.finish_reasons": ["stop", "length"], "odd": ["a", Tag("b")],
             "long": ["x" * (MAX_ATTRIBUTE_CHARS + 1)], "many": ["a"] * 1025, BAD: "v"}
    first, second = clean_attributes(attrs), clean_attributes(attrs)
    assert first == second
    assert first["gen_ai.response.finish_reasons"] == ("stop", "length")
    assert first["odd"] == str(["a", Tag("b")])  # not homogeneous: its text, as before
    assert first["long"][0].endswith("…[truncated]")
    assert first["many"] == str(["a"] * 1025)[:MAX_ATTRIBUTE_CHARS - 12] + "…[truncated]"
    assert first[GOOD] == "v" and BAD not in first
