"""Local price table: coverage, name resolution, overrides, cost arithmetic."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from otel_llm.errors import ConfigurationError
from otel_llm.pricing import (
    PRICES_FILE_ENV,
    Price,
    PriceTable,
    default_price_table,
    load_price_table,
    price_key,
    usage_cost,
)
from otel_llm.usage import TokenUsage

REQUIRED = [
    "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
    "gpt-4o", "gpt-4o-mini", "o1", "o1-mini", "o3", "o3-mini", "o4-mini", "gpt-4",
    "gpt-4-turbo", "gpt-3.5-turbo", "gpt-3.5-turbo-instruct", "davinci-002", "babbage-002",
    "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
]


@pytest.fixture(autouse=True)
def _no_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PRICES_FILE_ENV, raising=False)


def test_shipped_table_is_versioned_and_sourced() -> None:
    """prices.json carries a version, a date and a source note."""
    table = load_price_table()
    assert table.version and table.as_of[:4].isdigit() and "openai" in table.source.lower()


@pytest.mark.parametrize("model", REQUIRED)
def test_every_listed_model_has_a_price(model: str) -> None:
    """Each model family named in the spec resolves to itself with sane prices."""
    table = load_price_table()
    assert table.resolve(model) == model
    price = table.lookup(model)
    assert price is not None
    assert price.input > 0 and 0 <= price.cached_input <= price.input and price.output >= 0


def test_cache_discounted_models_have_lower_cached_price() -> None:
    """Models with prompt caching bill cached input below fresh input; others at input."""
    table = load_price_table()
    for model in ("gpt-5", "gpt-4.1-mini", "gpt-4o-mini", "o4-mini"):
        price = table.lookup(model)
        assert price is not None and price.cached_input < price.input
    legacy = table.lookup("gpt-4")
    assert legacy is not None and legacy.cached_input == legacy.input


@pytest.mark.parametrize(
    ("reported", "billed_as"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("gpt-4-0613", "gpt-4"),
        ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"),
        ("gpt-4-1106-preview", "gpt-4-turbo"),
        ("gpt-5-nano-2025-08-07", "gpt-5-nano"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("text-embedding-ada-002-v2", "text-embedding-ada-002"),
        ("ft:gpt-4o-mini:org::id", "gpt-4o-mini"),
        ("ft:gpt-4o-mini-2024-07-18:org:name:id", "gpt-4o-mini"),
        ("ft:gpt-3.5-turbo-0125:acme::9abc", "gpt-3.5-turbo"),
        ("gpt-35-turbo", "gpt-3.5-turbo"),
        ("gpt-35-turbo-0125", "gpt-3.5-turbo"),
        ("openai/gpt-4o", "gpt-4o"),
        ("GPT-4o-Mini", "gpt-4o-mini"),
    ],
)
def test_snapshots_fine_tunes_and_spellings_resolve(reported: str, billed_as: str) -> None:
    """Dated snapshots, fine-tune ids, Azure spellings and case map to the base price."""
    assert load_price_table().resolve(reported) == billed_as


@pytest.mark.parametrize("model", ["gpt-4o-mini-search-preview", "gpt-4.1-mini-custom",
                                   "gpt-4o-realtime", "gpt-5-chat-x", "text-davinci"])
def test_prefixes_never_borrow_a_siblings_price(model: str) -> None:
    """Only version suffixes are stripped: gpt-4o-mini-* is never priced as gpt-4o."""
    assert load_price_table().resolve(model) is None


def test_sibling_names_keep_their_own_prices() -> None:
    """gpt-4o-mini vs gpt-4o and gpt-4.1-mini vs gpt-4.1 stay distinct."""
    table = load_price_table()
    assert table.lookup("gpt-4o-mini") != table.lookup("gpt-4o")
    assert table.lookup("gpt-4.1-mini-2025-04-14") == table.lookup("gpt-4.1-mini")
    assert table.lookup("gpt-4.1-mini") != table.lookup("gpt-4.1")
    assert table.resolve("davinci") == "davinci"  # the legacy model, not davinci-002's price
    assert table.lookup("davinci") != table.lookup("davinci-002")


def test_shipped_table_never_prices_a_model_at_zero() -> None:
    """Models billed per minute/character/image (whisper-1, tts-1) are left out of the
    generated table, so their cost is None (unknown), never $0; every entry bills input."""
    table = load_price_table()
    for model in table.models:
        price = table.lookup(model)
        assert price is not None and price.input > 0, model
    for model in ("whisper-1", "tts-1", "gpt-4o-mini-2024-07-18.ft-", "ft:gpt-3.5-turbo-"):
        assert model not in table.models


def test_generated_from_genai_prices() -> None:
    """The shipped table names its source (scripts/update_prices.py, `make prices`), and the
    long-context model it used to misprice by name resolution has its own entry."""
    table = load_price_table()
    assert table.version.startswith("genai-prices ")
    assert table.resolve("gpt-3.5-turbo-16k") == "gpt-3.5-turbo-16k"
    assert table.lookup("gpt-3.5-turbo-16k") != table.lookup("gpt-3.5-turbo")


def test_azure_deployment_alias() -> None:
    """A user alias maps an Azure deployment name to a priced model."""
    table = load_price_table(aliases={"Prod-Chat-Deployment": "gpt-4o-mini"})
    assert table.lookup("prod-chat-deployment") == table.lookup("gpt-4o-mini")
    assert table.resolve("Prod-Chat-Deployment") == "gpt-4o-mini"


def test_alias_to_unpriced_model_is_rejected() -> None:
    """An alias must land on a priced model, checked at load time."""
    with pytest.raises(ConfigurationError) as err:
        load_price_table(aliases={"deployment": "no-such-model"})
    assert err.value.setting == "aliases"


def test_unknown_model_costs_none_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    """Unknown models cost None (not 0.0), with one warning per model name per process."""
    table = load_price_table()
    name = f"mystery-model-{uuid.uuid4().hex}"
    other = f"mystery-model-{uuid.uuid4().hex}"
    with caplog.at_level(logging.WARNING, logger="otel_llm.pricing"):
        assert table.cost(name, input_tokens=10, output_tokens=5) is None
        assert table.lookup(name) is None
        assert load_price_table().cost(name, input_tokens=1, output_tokens=1) is None
        assert table.cost(other, input_tokens=1, output_tokens=1) is None
    records = [r for r in caplog.records if r.name == "otel_llm.pricing"]
    assert [r.getMessage().count(name) for r in records if name in r.getMessage()] == [1]
    assert sum(other in r.getMessage() for r in records) == 1


def test_cost_with_cached_tokens_hand_computed() -> None:
    """(input - cached) * in + cached * cached_in + output * out, per 1M tokens."""
    table = load_price_table({"models": {"m": {"input": 2.0, "cached_input": 0.5,
                                               "output": 8.0}}})
    # 10_000 input of which 4_000 cached, 1_500 output (reasoning included):
    # 6_000 * 2.0 + 4_000 * 0.5 + 1_500 * 8.0 = 12_000 + 2_000 + 12_000 = 26_000 -> $0.026
    got = table.cost("m", input_tokens=10_000, cached_input_tokens=4_000, output_tokens=1_500)
    assert got == pytest.approx(0.026, abs=1e-12)


def test_shipped_price_cost_example() -> None:
    """gpt-4o-mini: 1149 prompt (1024 cached) + 353 output, the prompt-caching recording."""
    price = load_price_table().lookup("gpt-4o-mini-2024-07-18")
    assert price == Price(input=0.15, cached_input=0.075, output=0.60)
    cost = load_price_table().cost("gpt-4o-mini-2024-07-18", input_tokens=1149,
                                   cached_input_tokens=1024, output_tokens=353)
    assert cost == pytest.approx((125 * 0.15 + 1024 * 0.075 + 353 * 0.60) / 1e6)


def test_invalid_token_counts_are_rejected() -> None:
    """Negative counts or more cached than input tokens are caller errors."""
    table = load_price_table()
    with pytest.raises(ValueError):
        table.cost("gpt-4o", input_tokens=-1, output_tokens=0)
    with pytest.raises(ValueError, match="cached"):
        table.cost("gpt-4o", input_tokens=10, cached_input_tokens=11, output_tokens=0)


def test_dict_override_wins() -> None:
    """An overrides mapping replaces shipped prices and adds new models."""
    table = load_price_table({"models": {
        "gpt-4o": {"input": 1.0, "output": 2.0},
        "in-house-model": {"input": 0.3, "cached_input": 0.1, "output": 0.9}}})
    assert table.lookup("gpt-4o-2024-08-06") == Price(1.0, 1.0, 2.0)
    assert table.lookup("in-house-model") == Price(0.3, 0.1, 0.9)
    assert table.lookup("gpt-4o-mini") == load_price_table().lookup("gpt-4o-mini")


def test_file_override_and_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_LLM_PRICES_FILE applies, and an explicit file override wins over it."""
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"version": "acme-1", "models": {
        "gpt-4o": {"input": 9.0, "output": 9.0}, "o3": {"input": 7.0, "output": 7.0}}}))
    arg_file = tmp_path / "arg.json"
    arg_file.write_text(json.dumps({"models": {"gpt-4o": {"input": 1.0, "output": 1.0}},
                                    "aliases": {"team-deployment": "o3"}}))
    monkeypatch.setenv(PRICES_FILE_ENV, str(env_file))
    table = load_price_table(arg_file)
    assert table.lookup("gpt-4o") == Price(1.0, 1.0, 1.0)
    assert table.lookup("o3") == Price(7.0, 7.0, 7.0)
    assert table.lookup("team-deployment") == Price(7.0, 7.0, 7.0)
    assert table.version.endswith("+acme-1")


@pytest.mark.parametrize(
    "bad",
    [
        {"models": {"x": {"input": "cheap", "output": 1}}},
        {"models": {"x": {"input": -1, "output": 1}}},
        {"models": {"x": {"input": 1}}},
        {"models": {"x": {"input": 1, "output": 1, "ouput": 2}}},
        {"models": {"x": {"input": True, "output": 1}}},
        {"models": ["gpt-4o"]},
        {"prices": {}},
        {"aliases": {"a": 1}},
    ],
)
def test_bad_dict_override_names_the_setting(bad: dict[str, Any]) -> None:
    """Invalid override data fails at load time with ConfigurationError('overrides', ...)."""
    with pytest.raises(ConfigurationError) as err:
        load_price_table(bad)
    assert err.value.setting == "overrides"


def test_bad_env_file_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken or missing OTEL_LLM_PRICES_FILE is reported under that variable's name."""
    broken = tmp_path / "prices.json"
    broken.write_text("{not json")
    monkeypatch.setenv(PRICES_FILE_ENV, str(broken))
    with pytest.raises(ConfigurationError) as err:
        load_price_table()
    assert err.value.setting == PRICES_FILE_ENV and "JSON" in str(err.value)
    monkeypatch.setenv(PRICES_FILE_ENV, str(tmp_path / "missing.json"))
    with pytest.raises(ConfigurationError) as err:
        load_price_table()
    assert err.value.setting == PRICES_FILE_ENV


def test_bad_override_file_names_the_setting(tmp_path: Path) -> None:
    """A file passed as overrides is validated like a mapping."""
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"models": {"x": {"input": 1, "output": None}}}))
    with pytest.raises(ConfigurationError) as err:
        load_price_table(path)
    assert err.value.setting == "overrides" and "output" in str(err.value)


def test_default_table_is_shared() -> None:
    """default_price_table() builds the table once per process."""
    assert default_price_table() is default_price_table()
    assert isinstance(default_price_table(), PriceTable)


def test_prices_follow_the_provider() -> None:
    """A well-known non-OpenAI provider is priced under ``provider/model``: unpriced unless
    the table has that entry, never at OpenAI's price for the same model name; OpenAI,
    Azure and unknown providers use the plain name."""
    table = load_price_table(overrides={"models": {
        "deepseek/deepseek-chat": {"input": 0.28, "output": 0.42}}})
    usage = TokenUsage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert price_key("deepseek-chat", "deepseek") == "deepseek/deepseek-chat"
    assert usage_cost(price_key("deepseek-chat", "deepseek"), usage, table) == pytest.approx(0.70)
    assert usage_cost(price_key("gpt-4o-mini", "groq"), usage, table) is None
    for provider in ("openai", "azure.ai.openai", "azure", "my-gateway", None):
        assert price_key("gpt-4o-mini", provider) == "gpt-4o-mini"
