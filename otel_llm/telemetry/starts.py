"""What an LLM run's span starts with, built once per distinct request.

An application sends the same few request shapes again and again (model, server,
sampling parameters), and everything a span starts with follows from that shape
alone: the request attributes, cleaned for the OTel API, their metric subset,
the run and span names. Working them out from ``invocation_params`` and
``metadata`` at every start was a large share of a call's own cost, so they are
kept per shape: the key is the parameters' and metadata's items *and the types of
their values* (``1``, ``1.0`` and ``True`` are equal keys but different
attributes). A request with an unhashable value (tools, a ``response_format``
dict) is worked out every time; the table is bounded and simply starts over when
full. The dicts handed out are shared: nobody may change them (the SDK copies
span attributes; metric attribute dicts are copied before being extended).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from otel_llm.telemetry import attributes as attrs_of
from otel_llm.telemetry.instruments import metric_attributes
from otel_llm.telemetry.values import bounded_text, clean_attributes

__all__ = ["LLMStarts", "RunStart"]

#: Distinct request shapes kept (a process talks to few models and servers).
MAX_SHAPES = 256


class RunStart(NamedTuple):
    """What a run's span starts with, clean for the OTel API (any run kind; LLM runs' are
    kept per request shape by :class:`LLMStarts`)."""

    attributes: dict[str, Any]  # cleaned; shared, read-only
    metric_attributes: dict[str, Any]  # their metric subset ({} off LLM runs); read-only
    name: str  # the run's name (LLM runs: the request model, else the operation)
    span_name: str  # LLM runs: "{operation} {model}"


def build(chat: bool, params: Mapping[str, Any], metadata: Mapping[str, Any]) -> RunStart:
    operation = attrs_of.llm_operation(chat, metadata)
    attrs, model = attrs_of.llm_request_attributes(operation, params, metadata)
    clean = clean_attributes(attrs)
    return RunStart(clean, metric_attributes(clean), bounded_text(model or operation),
                    bounded_text(f"{operation} {model}" if model else operation))


class LLMStarts:
    """``get(chat, params, metadata)``: the run's :class:`RunStart`, from the table if seen."""

    __slots__ = ("_shapes",)

    def __init__(self) -> None:
        self._shapes: dict[Any, RunStart] = {}

    def get(self, chat: bool, params: Mapping[str, Any], metadata: Mapping[str, Any]
            ) -> RunStart:
        try:
            key = (chat, tuple(params.items()), tuple(map(type, params.values())),
                   tuple(metadata.items()), tuple(map(type, metadata.values())))
            return self._shapes[key]
        except TypeError:  # an unhashable value: this shape is not kept
            return build(chat, params, metadata)
        except KeyError:
            pass
        start = build(chat, params, metadata)
        shapes = self._shapes
        if len(shapes) >= MAX_SHAPES:
            shapes.clear()
        shapes[key] = start
        return start
