"""What the model "says": deterministic replies, chunking and tool-call arguments.

Determinism is the point: the same request always gets the same text, so demo
output, test assertions and benchmark chunk counts are stable. Order of rules:
an explicit length gives lorem text; then a canned answer chosen by keyword;
then arithmetic (``1 + 2 =`` -> ``3``); then the content of trailing tool results
(so an agent loop ends after one round); then lorem text whose length comes from
a hash of the prompt.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "CANNED",
    "LOREM_WORDS",
    "chat_reply",
    "group",
    "lorem",
    "message_text",
    "pieces",
    "prompt_reply",
    "sample_json",
    "structured",
    "tool_call_plan",
]

# (keywords, answer): the first entry with a keyword found in the last user message wins.
CANNED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("生日",), "生日最适合送玫瑰和向日葵：红玫瑰表达爱意，向日葵象征阳光和快乐。"),
    (("母亲节", "妈妈"), "母亲节首选康乃馨，粉色康乃馨代表感恩与温暖的母爱。"),
    (("婚礼", "结婚"), "婚礼常用白玫瑰、百合和满天星，寓意纯洁与百年好合。"),
    (("探望", "病人"), "探望病人适合送康乃馨或百合，颜色淡雅，香气不要太浓。"),
    (("价格", "多少钱"), "我们的花束价格从 99 元到 599 元不等，满 200 元同城免费配送。"),
    (("营业时间", "几点"), "花店每天早上 9 点到晚上 9 点营业，节假日照常营业。"),
    (("花卉", "鲜花", "花店"), "我们的鲜花每天清晨到货，玫瑰、百合和郁金香最受欢迎。"),
    (("joke",), "Why did the span break up with the log? It needed more context!"),
    (("capital of france",), "The capital of France is Paris."),
    (("count to 5",), "1, 2, 3, 4, 5"),
    (("strawberry",), 'There are three "r"s in "strawberry".'),
    (("weather",), "It is 22 degrees and sunny."),
    (("hello", "你好"), "Hello! How can I help you today?"),
)

# Each is one token with or without a leading space and capitalised, in both
# cl100k_base and o200k_base, so ``len=N`` means exactly N completion tokens.
LOREM_WORDS: tuple[str, ...] = (
    "the", "quick", "brown", "fox", "over", "lazy", "dog", "trace", "span", "metric", "model",
    "token", "stream", "server", "request", "response", "signal", "event", "value", "time",
    "system", "open", "light", "river", "stone", "green", "blue", "cloud", "water", "music",
    "paper", "window", "market", "report", "simple", "number", "little", "world", "people",
    "house", "story", "bright", "forest", "city", "table", "friend", "letter", "data", "code",
    "page", "line", "point", "field", "group", "order", "state", "place", "night", "answer",
)

_PIECE = re.compile(r"\s*(?:[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d])|\s+")
_ARITHMETIC = re.compile(
    r"\s*(?:what\s+is|what's|calculate|compute)?\s*"
    r"(-?\d+(?:\.\d+)?)\s*([-+*/×÷x])\s*(-?\d+(?:\.\d+)?)\s*=?\s*\??\s*",
    re.IGNORECASE,
)


_TEXT_PARTS = ("text", "input_text", "output_text", None)


def message_text(content: Any) -> str:
    """Text of a message ``content``: a string, or the text parts of a part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") in _TEXT_PARTS
        )
    return ""


def _seed(text: str, choice: int) -> int:
    return zlib.crc32(text.encode()) + 7919 * choice


def lorem(words: int, seed: int = 0) -> str:
    """``words`` lorem words, each exactly one token; the first is capitalised."""
    if words <= 0:
        return ""
    n = len(LOREM_WORDS)
    out = [LOREM_WORDS[(seed + i * 7) % n] for i in range(words)]
    return out[0].capitalize() + "".join(" " + w for w in out[1:])


def _arithmetic(text: str) -> str | None:
    match = _ARITHMETIC.fullmatch(text)
    if match is None:
        return None
    a, op, b = float(match[1]), match[2], float(match[3])
    if op in "/÷" and b == 0:
        return "undefined"
    result = {"+": a + b, "-": a - b, "*": a * b, "x": a * b, "×": a * b}.get(
        op.lower(), a / b if b else 0.0
    )
    return str(int(result)) if result == int(result) else f"{result:.10g}"


def prompt_reply(text: str, *, length: int | None = None, choice: int = 0) -> str:
    """Reply to a bare prompt (legacy completions, Responses ``input``, last user turn)."""
    if length is not None:
        return lorem(length, _seed(text, choice))
    lowered = text.lower()
    for keywords, answer in CANNED:
        if any(k in lowered for k in keywords):
            return answer
    computed = _arithmetic(text)
    if computed is not None:
        return computed
    seed = _seed(text, choice)
    return lorem(12 + seed % 37, seed)


def chat_reply(
    messages: Sequence[Mapping[str, Any]], *, length: int | None = None, choice: int = 0
) -> str:
    """Reply to a chat: trailing tool results are echoed, otherwise the last user turn."""
    if length is None and messages and messages[-1].get("role") == "tool":
        results: list[str] = []
        for message in reversed(messages):
            if message.get("role") != "tool":
                break
            results.append(message_text(message.get("content")))
        return " ".join(reversed(results))
    users = [m for m in messages if m.get("role") == "user"]
    text = message_text(users[-1].get("content")) if users else ""
    return prompt_reply(text, length=length, choice=choice)


def structured(fmt: Any, text: str) -> str:
    """Honour a JSON response format so SDK ``parse()`` helpers get valid JSON back.

    ``fmt`` is Chat's ``response_format`` (schema under ``json_schema.schema``) or
    the Responses API's ``text.format`` (schema under ``schema``).
    """
    if not isinstance(fmt, Mapping):
        return text
    if fmt.get("type") == "json_schema":
        schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema") or {}
        return json.dumps(sample_json(schema, text=text), ensure_ascii=False)
    if fmt.get("type") == "json_object":
        return json.dumps({"answer": text}, ensure_ascii=False)
    return text


def pieces(text: str) -> list[str]:
    """Split ``text`` the way a tokenizer streams it: a word or a symbol, with its space."""
    return _PIECE.findall(text)


def group(parts: Sequence[str], size: int) -> list[str]:
    """Join ``parts`` ``size`` at a time: the chunks of a stream sending several tokens each."""
    if size <= 1:
        return list(parts)
    return ["".join(parts[i : i + size]) for i in range(0, len(parts), size)]


_STRING_HINTS = {
    "location": "San Francisco, CA",
    "city": "Paris",
    "country": "France",
    "date": "2024-05-01",
    "email": "user@example.com",
    "unit": "celsius",
    "name": "Alice",
    "url": "https://example.com",
}


def sample_json(schema: Any, name: str = "", text: str = "") -> Any:
    """A deterministic value valid for a simple JSON schema (used for tool arguments)."""
    if not isinstance(schema, Mapping):
        return text or "example"
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return sample_json(schema[key][0], name, text)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: sample_json(sub, key, text) for key, sub in props.items()}
    if kind == "array":
        return [sample_json(schema.get("items"), name, text)]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    lowered = name.lower()
    for hint, value in _STRING_HINTS.items():
        if hint in lowered:
            return value
    if lowered in ("query", "q", "question", "text", "input", "prompt") and text:
        return text[:80]
    return f"{name or 'value'}-1"


def tool_call_plan(
    functions: Sequence[Mapping[str, Any]],
    tool_choice: Any,
    text: str,
    *,
    count: int | None = None,
    parallel: bool = True,
) -> list[tuple[str, str]]:
    """``(name, arguments JSON)`` for each call the model makes, or ``[]`` for none.

    ``functions`` are function definitions (``name``, ``parameters``). The model
    calls the forced function, else every function named in the prompt, else the
    first one; ``count`` overrides how many calls (cycling through the functions).
    """
    if not functions or tool_choice == "none":
        return []
    chosen: list[Mapping[str, Any]]
    forced = _forced_name(tool_choice)
    if forced is not None:
        chosen = [f for f in functions if f.get("name") == forced] or [functions[0]]
    else:
        lowered = text.lower()
        chosen = [
            f
            for f in functions
            if str(f.get("name", "")).lower() in lowered
            or str(f.get("name", "")).lower().replace("_", " ") in lowered
        ] or [functions[0]]
    if count is not None:
        pool = chosen if forced is not None else list(functions)
        chosen = [pool[i % len(pool)] for i in range(count)]
    if not parallel:
        chosen = chosen[:1]
    return [
        (str(f.get("name", "")), json.dumps(sample_json(f.get("parameters") or {}, text=text)))
        for f in chosen
    ]


def _forced_name(tool_choice: Any) -> str | None:
    if not isinstance(tool_choice, Mapping):
        return None
    function = tool_choice.get("function")
    if isinstance(function, Mapping):
        return str(function.get("name"))
    name = tool_choice.get("name")
    return None if name is None else str(name)
