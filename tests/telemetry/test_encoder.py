"""The budgeted JSON encoder: valid JSON within the limit, the head kept, work bounded by the limit."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from otel_llm.telemetry.encoder import encode_json
from otel_llm.telemetry.values import MARKER


def fits(value: Any, limit: int, **kwargs: Any) -> Any:
    """Encode, check the two invariants (valid JSON, within the limit), return the decoded value."""
    text = encode_json(value, limit, **kwargs)
    assert len(text.encode("utf-8")) <= limit, text
    return json.loads(text)


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class CountingList(list[Any]):
    """A list that counts the items read from it (to show the work stops early)."""

    read = 0

    def __iter__(self) -> Iterator[Any]:
        for item in super().__iter__():
            CountingList.read += 1
            yield item


def test_small_values_are_plain_compact_json() -> None:
    """Within the limit the output is exactly json.dumps' compact form."""
    value = {"a": [1, 2.5, None, True, "é\n\"q\""], "b": {"c": []}}
    assert encode_json(value, 1024) == compact(value)


def test_a_million_items_keep_their_head_and_read_only_what_fits() -> None:
    """1M items, 1 KiB: the first items then a marker, and only about a KiB of items is read."""
    CountingList.read = 0
    decoded = fits({"xs": CountingList(range(10**6))}, 1024)
    assert decoded["xs"][:3] == [0, 1, 2]
    assert decoded["xs"][-1] == MARKER
    assert CountingList.read <= 1024


def test_a_long_string_is_cut_inside_with_the_marker() -> None:
    """A 10 MB string in a message keeps its start; multi-byte characters are never split."""
    decoded = fits([{"content": "é" * 5_000_000}], 1000)
    content = decoded[0]["content"]
    assert content.startswith("éé") and content.endswith(MARKER)
    assert len(content) > 400


def test_a_cut_object_ends_with_a_marker_entry() -> None:
    """Cut in the middle of an object's keys: the marker is a key, the JSON stays an object."""
    decoded = fits({f"key{i}": i for i in range(10_000)}, 300)
    assert decoded["key0"] == 0
    assert list(decoded)[-1] == MARKER


def test_cycles_depth_and_item_limits() -> None:
    """A self-reference, over-deep nesting and too many items become markers, not errors."""
    looped: dict[str, Any] = {"name": "x"}
    looped["self"] = looped
    assert fits(looped, 1024) == {"name": "x", "self": "…[cycle]"}
    assert fits([[[[1]]]], 1024, max_depth=2) == [[MARKER]]
    assert fits(list(range(100)), 1024, max_items=11) == [*range(10), MARKER]


def test_values_json_cannot_hold_are_made_safe() -> None:
    """Lone surrogates, NaN, huge ints, bytes, odd keys and objects: all still valid JSON."""
    decoded = fits(
        ["gpt\udcff", float("nan"), float("-inf"), 10**5000, b"\xffab", {1: "a", None: "b"}, object()],
        4096,
    )
    assert decoded[0] == "gpt\ufffd"
    assert decoded[1:3] == ["NaN", "-Infinity"]
    assert decoded[3] == MARKER
    assert decoded[4] == "\ufffdab"
    assert decoded[5] == {"1": "a", "null": "b"}
    assert decoded[6].startswith("<object object")


def test_a_mapping_changed_while_read_ends_the_value_cleanly() -> None:
    """An iterator that fails midway (a dict resized by another thread) ends in a marker."""

    class Broken(list[Any]):
        def __iter__(self) -> Iterator[Any]:
            yield 1
            raise RuntimeError("changed size during iteration")

    assert fits(Broken(), 1024) == [1, MARKER]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 5 or roll < 0.35:
        return rng.choice(
            [0, -7, 2.5, None, False, "x" * rng.randint(0, 300), "é\n\"\\" * rng.randint(0, 40)]
        )
    if roll < 0.7:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 8))]
    return {"k" * rng.randint(0, 30) + str(i): _random_value(rng, depth + 1)
            for i in range(rng.randint(0, 8))}


@pytest.mark.parametrize("seed", range(4))
def test_random_values_always_valid_within_the_limit(seed: int) -> None:
    """Random nested values and limits: valid JSON within the limit, equal to json.dumps when small."""
    rng = random.Random(seed)
    for _ in range(500):
        value, limit = _random_value(rng), rng.randint(256, 3000)
        decoded = fits(value, limit)
        full = compact(value)
        if len(full.encode("utf-8")) <= limit - 30:
            assert decoded == value
