"""Map the model name a call reports to a price-table entry.

Order, first hit wins (names compared lower-cased):

1. the name itself, then through the alias map (user aliases, e.g. Azure
   deployment names, take precedence over the shipped ones);
2. without an ``openai/``/``azure/`` provider prefix;
3. a fine-tune id ``ft:BASE:org[:suffix]:id`` as ``BASE``;
4. the longest entry ``K`` such that the name is ``K-<version>``, where the
   version starts with a digit or ``v<digit>`` (``gpt-4o-mini-2024-07-18``,
   ``gpt-3.5-turbo-0125``, ``text-embedding-ada-002-v2``).

Rule 4 never crosses a word: ``gpt-4o-mini`` is not ``gpt-4o`` + version and
``gpt-4.1-mini`` is not ``gpt-4.1``, so an unpriced variant stays unknown
instead of borrowing a sibling's price. Exact entries beat the prefix rule,
which lets a dated snapshot with its own price (``gpt-4o-2024-05-13``) win.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["resolve_model"]

_VERSION = re.compile(r"^(\d|v\d)")
_PROVIDER_PREFIXES = ("openai/", "azure/")


def resolve_model(
    model: str, prices: Mapping[str, object], aliases: Mapping[str, str]
) -> str | None:
    """The key of ``prices`` that ``model`` is billed as, or None."""
    name = model.strip().lower()
    for prefix in _PROVIDER_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    hit = _exact(name, prices, aliases)
    if hit is not None:
        return hit
    if name.startswith("ft:"):
        name = name[3:].split(":", 1)[0]
        hit = _exact(name, prices, aliases)
        if hit is not None:
            return hit
    return _by_version_prefix(name, prices, aliases)


def _exact(name: str, prices: Mapping[str, object], aliases: Mapping[str, str]) -> str | None:
    if name in prices:
        return name
    target = aliases.get(name)
    if target is not None and target in prices:
        return target
    return None


def _by_version_prefix(
    name: str, prices: Mapping[str, object], aliases: Mapping[str, str]
) -> str | None:
    best: str | None = None
    for key in (*prices, *aliases):
        if (len(name) > len(key) + 1 and name.startswith(key) and name[len(key)] == "-"
                and _VERSION.match(name[len(key) + 1:])
                and (best is None or len(key) > len(best))):
            best = key
    return None if best is None else _exact(best, prices, aliases)
