"""The local price table: shipped data, user overrides, cost arithmetic.

Prices never come from the network. The shipped ``prices.json`` is a snapshot
(see its ``as_of`` and ``source``); deployments with negotiated, Azure or
newer prices layer their own file on top through ``OTEL_LLM_PRICES_FILE`` or
the ``overrides`` argument. Both use the shipped file's shape::

    {"models": {"my-model": {"input": 1.0, "cached_input": 0.1, "output": 4.0}},
     "aliases": {"my-azure-deployment": "gpt-4o-mini"}}

An unknown model costs ``None``, never ``0.0``, so dashboards show a gap
rather than a free call; it is logged once per model name per process.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from otel_llm.errors import ConfigurationError
from otel_llm.pricing.names import resolve_model

__all__ = [
    "PRICES_FILE_ENV",
    "Price",
    "PriceTable",
    "default_price_table",
    "load_price_table",
]

#: Environment variable naming a JSON file of price overrides.
PRICES_FILE_ENV = "OTEL_LLM_PRICES_FILE"

logger = logging.getLogger("otel_llm.pricing")

_PRICE_FIELDS = frozenset({"input", "cached_input", "output"})
_warned: set[str] = set()
_warned_lock = threading.Lock()
_RESOLVE_CACHE_MAX = 4096


@dataclass(frozen=True)
class Price:
    """USD per 1M tokens. Cached input equals input where there is no cache discount."""

    input: float
    cached_input: float
    output: float


class PriceTable:
    """Model name -> :class:`Price`, with the name resolution of :mod:`.names`."""

    def __init__(
        self,
        prices: Mapping[str, Price],
        aliases: Mapping[str, str] | None = None,
        *,
        version: str = "",
        as_of: str = "",
        source: str = "",
    ) -> None:
        self._prices = {k.lower(): v for k, v in prices.items()}
        self._aliases = {k.lower(): v.lower() for k, v in (aliases or {}).items()}
        self.version = version
        self.as_of = as_of
        self.source = source
        self._resolved: dict[str, str | None] = {}

    @property
    def models(self) -> tuple[str, ...]:
        """Names with a price of their own (aliases excluded)."""
        return tuple(self._prices)

    def resolve(self, model: str) -> str | None:
        """The table entry ``model`` is billed as, or None when unknown."""
        try:
            return self._resolved[model]
        except KeyError:
            pass
        key = resolve_model(model, self._prices, self._aliases)
        if len(self._resolved) < _RESOLVE_CACHE_MAX:
            self._resolved[model] = key
        return key

    def lookup(self, model: str) -> Price | None:
        """The price of ``model``; None (and one warning per name per process) if unknown."""
        key = self.resolve(model)
        if key is None:
            _warn_unknown(model)
            return None
        return self._prices[key]

    def cost(
        self,
        model: str,
        *,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
    ) -> float | None:
        """USD for one call, or None for an unknown model.

        OpenAI conventions: ``input_tokens`` includes ``cached_input_tokens``,
        and ``output_tokens`` includes reasoning tokens.
        """
        if min(input_tokens, output_tokens, cached_input_tokens) < 0:
            raise ValueError("token counts must not be negative")
        if cached_input_tokens > input_tokens:
            raise ValueError(
                f"cached_input_tokens ({cached_input_tokens}) exceeds input_tokens "
                f"({input_tokens}); input_tokens must include the cached ones"
            )
        price = self.lookup(model)
        if price is None:
            return None
        return (
            (input_tokens - cached_input_tokens) * price.input
            + cached_input_tokens * price.cached_input
            + output_tokens * price.output
        ) / 1_000_000


def load_price_table(
    overrides: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> PriceTable:
    """The shipped table, then ``OTEL_LLM_PRICES_FILE``, then ``overrides``, then ``aliases``.

    Later layers win per model. ``overrides`` is a mapping or a path to a JSON
    file, in the shipped file's shape. Invalid data raises
    :class:`~otel_llm.errors.ConfigurationError` naming the setting at fault.
    """
    base = _shipped()
    prices = dict(_prices(base, "prices.json"))
    alias_map = dict(_aliases(base, "prices.json"))
    version, as_of, source = str(base["version"]), str(base["as_of"]), str(base["source"])

    layers: list[tuple[str, Mapping[str, Any]]] = []
    env_path = os.environ.get(PRICES_FILE_ENV)
    if env_path:
        layers.append((PRICES_FILE_ENV, _read_file(env_path, PRICES_FILE_ENV)))
    if overrides is not None:
        data = (overrides if isinstance(overrides, Mapping)
                else _read_file(overrides, "overrides"))
        layers.append(("overrides", data))
    for setting, data in layers:
        if not isinstance(data, Mapping):
            raise ConfigurationError(setting, "expected a JSON object with a 'models' key")
        unknown = set(data) - {"models", "aliases", "version", "as_of", "source",
                               "currency", "unit"}
        if unknown:
            raise ConfigurationError(setting, f"unknown top-level keys {sorted(unknown)}")
        if "models" not in data and "aliases" not in data:
            raise ConfigurationError(setting, "expected 'models' and/or 'aliases'")
        prices.update(_prices(data, setting))
        alias_map.update(_aliases(data, setting))
        if data.get("version"):
            version = f"{version}+{data['version']}"
    if aliases is not None:
        alias_map.update(_aliases({"aliases": aliases}, "aliases"))
    for alias, target in alias_map.items():
        if target not in prices:
            raise ConfigurationError(
                "aliases", f"alias {alias!r} points to {target!r}, which has no price"
            )
    return PriceTable(prices, alias_map, version=version, as_of=as_of, source=source)


@cache
def default_price_table() -> PriceTable:
    """The process-wide table (shipped data plus ``OTEL_LLM_PRICES_FILE``, read once)."""
    return load_price_table()


def _warn_unknown(model: str) -> None:
    with _warned_lock:
        if model in _warned:
            return
        _warned.add(model)
    logger.warning("no price for model %r: its cost is reported as unknown (None); "
                   "add it with %s or load_price_table(overrides=...)", model, PRICES_FILE_ENV)


@cache
def _shipped() -> Mapping[str, Any]:
    text = resources.files("otel_llm.pricing").joinpath("prices.json").read_text("utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


def _read_file(path: str | os.PathLike[str], setting: str) -> Any:
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except OSError as exc:
        raise ConfigurationError(setting, f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ConfigurationError(setting, f"{path} is not valid JSON: {exc}") from exc


def _prices(data: Mapping[str, Any], setting: str) -> dict[str, Price]:
    models = data.get("models", {})
    if not isinstance(models, Mapping):
        raise ConfigurationError(setting, "'models' must be an object of model name -> prices")
    out: dict[str, Price] = {}
    for name, entry in models.items():
        if not isinstance(entry, Mapping):
            raise ConfigurationError(setting, f"models[{name!r}] must be an object")
        extra = set(entry) - _PRICE_FIELDS
        if extra:
            raise ConfigurationError(setting, f"models[{name!r}]: unknown fields {sorted(extra)}")
        inp = _amount(entry.get("input"), f"models[{name!r}].input", setting)
        out_price = _amount(entry.get("output"), f"models[{name!r}].output", setting)
        cached = entry.get("cached_input")
        cached_price = inp if cached is None else _amount(
            cached, f"models[{name!r}].cached_input", setting)
        out[str(name).lower()] = Price(inp, cached_price, out_price)
    return out


def _aliases(data: Mapping[str, Any], setting: str) -> dict[str, str]:
    raw = data.get("aliases", {})
    if not isinstance(raw, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ConfigurationError(setting, "'aliases' must map names to model names (strings)")
    return {k.lower(): v.lower() for k, v in raw.items()}


def _amount(value: Any, where: str, setting: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(setting, f"{where} must be a number (USD per 1M tokens)")
    if not math.isfinite(value) or value < 0:
        raise ConfigurationError(setting, f"{where} must be a finite number >= 0")
    return float(value)
