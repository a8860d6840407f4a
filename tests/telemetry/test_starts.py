"""LLM start attributes built once per request shape, and never confused between shapes."""

from __future__ import annotations

from otel_llm import semconv
from otel_llm.telemetry import attributes as attrs_of
from otel_llm.telemetry.starts import MAX_SHAPES, LLMStarts, build
from otel_llm.telemetry.values import clean_attributes

_MD = {"ls_provider": "openai", "ls_model_name": "gpt-4o-mini", "ls_model_type": "chat"}


def _params(**extra: object) -> dict[str, object]:
    return {"model": "gpt-4o-mini", "base_url": "https://api.openai.com/v1", **extra}


def test_same_shape_is_built_once_and_equals_a_fresh_build() -> None:
    """Two requests of the same shape get the very same start (built once), and it is what
    the attribute functions give for that request, cleaned."""
    starts = LLMStarts()
    first = starts.get(True, _params(temperature=0.2), _MD)
    again = starts.get(True, _params(temperature=0.2), dict(_MD))
    assert again is first
    attrs, model = attrs_of.llm_request_attributes(semconv.OP_CHAT, _params(temperature=0.2), _MD)
    assert first.attributes == clean_attributes(attrs)
    assert first.span_name == "chat gpt-4o-mini" and first.name == model == "gpt-4o-mini"
    assert first.metric_attributes[semconv.SERVER_ADDRESS] == "api.openai.com"
    assert semconv.GEN_AI_REQUEST_TEMPERATURE not in first.metric_attributes


def test_equal_values_of_other_types_are_other_shapes() -> None:
    """temperature=1, 1.0 and True are equal dict keys but different attributes (int,
    double, and not a number at all): each gets its own start."""
    starts = LLMStarts()
    got = [starts.get(True, _params(temperature=t), _MD).attributes
           .get(semconv.GEN_AI_REQUEST_TEMPERATURE) for t in (1, 1.0, True, 1)]
    assert [(v, type(v)) for v in got] == [(1, int), (1.0, float), (None, type(None)), (1, int)]


def test_unhashable_requests_are_built_every_time_and_the_table_is_bounded() -> None:
    """A request with a list value (stop sequences) is built each time, correctly; past
    MAX_SHAPES shapes the table starts over instead of growing."""
    starts = LLMStarts()
    a = starts.get(True, _params(stop=["x"]), _MD)
    b = starts.get(True, _params(stop=["x"]), _MD)
    assert a is not b and a == b == build(True, _params(stop=["x"]), _MD)
    assert a.attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("x",)
    for seed in range(MAX_SHAPES + 5):
        starts.get(True, _params(seed=seed), _MD)
    assert 0 < len(starts._shapes) <= MAX_SHAPES
