"""Allow-listed ``attributes()`` keys on metrics: only listed keys, capped distinct values."""

from __future__ import annotations

import logging

import pytest

import otel_llm
from otel_llm.errors import ConfigurationError
from otel_llm.telemetry.dimensions import MetricDimensions
from otel_llm.testing import FakeChatModel
from otel_llm.testing.otel import InMemoryTelemetry

TOKENS = "gen_ai.client.token.usage"
DURATION = "gen_ai.client.operation.duration"
COST = "otel_llm.client.cost"


def _ask(handler: otel_llm.OpenTelemetryCallbackHandler, model: str = "gpt-4o-mini") -> None:
    FakeChatModel(model_name=model, provider="openai").invoke(
        "hi", config={"callbacks": [handler]})


def test_listed_key_is_on_token_duration_and_cost_points(otel: InMemoryTelemetry) -> None:
    """app.feature listed: every token, duration and cost point carries it; IDs stay off."""
    handler = otel.handler(metric_attributes=["app.feature"])
    with otel_llm.attributes(conversation_id="c1", user_id="u1", **{"app.feature": "search"}):
        _ask(handler)
    for name in (TOKENS, DURATION, COST):
        points = otel.metric_points(name)
        assert points, name
        for point in points:
            attrs = dict(point.attributes or {})
            assert attrs["app.feature"] == "search", name
            assert not {"user.id", "gen_ai.conversation.id", "session.id"} & set(attrs), name


def test_nothing_listed_means_no_block_value_on_metrics(otel: InMemoryTelemetry,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The default allow-list is empty: block values never become labels by accident."""
    monkeypatch.delenv("OTEL_LLM_METRIC_ATTRIBUTES", raising=False)
    handler = otel.handler()
    with otel_llm.attributes(user_id="u1", **{"app.feature": "search"}):
        _ask(handler)
    for point in otel.metric_points(TOKENS):
        assert not {"app.feature", "user.id"} & set(point.attributes or {})


def test_listed_id_is_capped_like_any_key(otel: InMemoryTelemetry,
                                          caplog: pytest.LogCaptureFixture) -> None:
    """300 distinct user ids with a cap of 100: 101 label values (100 + _other), one warning."""
    handler = otel.handler(metric_attributes=["user.id"], metric_attribute_cap=100)
    with caplog.at_level(logging.WARNING, logger="otel_llm.telemetry"):
        for i in range(300):
            with otel_llm.attributes(user_id=f"user-{i}"):
                _ask(handler)
    points = otel.metric_points(DURATION)
    values = {dict(p.attributes or {})["user.id"] for p in points}
    assert len(values) == 101
    assert "_other" in values
    assert sum(p.count for p in points if dict(p.attributes or {})["user.id"] == "_other") == 200
    warnings = [r for r in caplog.records if "reached its cap" in r.getMessage()]
    assert len(warnings) == 1
    assert "'user.id'" in warnings[0].getMessage()


def test_env_variable_lists_the_keys(otel: InMemoryTelemetry,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_LLM_METRIC_ATTRIBUTES (comma-separated) is read when the argument is not given."""
    monkeypatch.setenv("OTEL_LLM_METRIC_ATTRIBUTES", "app.feature, app.tier,")
    handler = otel.handler()
    with otel_llm.attributes(**{"app.feature": "chat", "app.tier": "gold", "app.other": "x"}):
        _ask(handler)
    attrs = dict(otel.metric_points(DURATION)[0].attributes or {})
    assert (attrs["app.feature"], attrs["app.tier"]) == ("chat", "gold")
    assert "app.other" not in attrs


def test_conventions_attributes_win_over_a_listed_key_of_the_same_name(
        otel: InMemoryTelemetry) -> None:
    """A block value named like a conventions attribute cannot rewrite the model label."""
    handler = otel.handler(metric_attributes=["gen_ai.request.model"])
    with otel_llm.attributes(**{"gen_ai.request.model": "spoofed"}):
        _ask(handler)
    attrs = dict(otel.metric_points(DURATION)[0].attributes or {})
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"


def test_configure_shares_one_cap_between_its_handlers() -> None:
    """configure(metric_attributes=...) reaches every handler it makes, with one cap per key."""
    telemetry = otel_llm.configure(metric_attributes=["app.feature"], metric_attribute_cap=3,
                                   install=False, traces_exporter="none",
                                   metrics_exporter="none")
    try:
        first, second = telemetry.handler(), telemetry.handler()
        assert first._dimensions is second._dimensions
        assert first._dimensions.keys == ("app.feature",)
        assert first._dimensions.cap == 3
    finally:
        telemetry.shutdown()


@pytest.mark.parametrize(("keys", "cap"), [
    (["app.feature", 3], 100), ([""], 100), (42, 100), (["app.feature"], 0),
    (["app.feature"], True),
])
def test_bad_allow_list_or_cap_is_a_configuration_error(keys: object, cap: object) -> None:
    """Bad settings fail at construction, naming the setting."""
    with pytest.raises(ConfigurationError, match="metric_attribute"):
        MetricDimensions(keys, cap)  # type: ignore[arg-type]
