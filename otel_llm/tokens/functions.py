"""Token cost of tool (function) definitions sent with a chat request.

OpenAI does not show the model the JSON schemas: it rewrites them as a
TypeScript ``namespace functions { ... }`` block inside the system message.
The rendering below follows hmarr/openai-chat-tokens, whose cases were checked
against the API (as is cequence-io/openai-scala-client's finding that
descriptions of nested properties are left out); the fixed overheads are
measured, not derived:

* no system message: the API adds one, costing ``definitions + 9`` tokens;
* with one: the first system message gains a trailing newline and the block
  costs ``definitions + 5``.

Checked on gpt-3.5-turbo (0613 ``functions`` and 0125 ``tools``) and gpt-4-0613;
the same rendering is assumed for newer models, where no measurement was
available. Non-function tools (built-in web search, custom grammar tools) have
no published rendering and count 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "TOOLS_OVERHEAD_NEW_SYSTEM",
    "TOOLS_OVERHEAD_WITH_SYSTEM",
    "function_definitions",
    "render_function_definitions",
    "tool_choice_tokens",
]

#: Tokens added besides the rendered block when the request has no system message.
TOOLS_OVERHEAD_NEW_SYSTEM = 9
#: Tokens added besides the rendered block when a system message carries it.
TOOLS_OVERHEAD_WITH_SYSTEM = 5


def function_definitions(tools: Iterable[Any]) -> list[Mapping[str, Any]]:
    """The function specs in an OpenAI ``tools`` list or a legacy ``functions`` list."""
    out: list[Mapping[str, Any]] = []
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        if tool.get("type") == "function" and isinstance(tool.get("function"), Mapping):
            out.append(tool["function"])
        elif "name" in tool and "type" not in tool:
            out.append(tool)
    return out


def render_function_definitions(functions: Sequence[Mapping[str, Any]]) -> str:
    """The TypeScript block the model sees for ``functions``."""
    lines = ["namespace functions {", ""]
    for fn in functions:
        if fn.get("description"):
            lines.append(f"// {fn['description']}")
        params = fn.get("parameters") or {}
        if params.get("properties"):
            lines.append(f"type {fn['name']} = (_: {{")
            lines.append(_properties(params, 0))
            lines.append("}) => any;")
        else:
            lines.append(f"type {fn['name']} = () => any;")
        lines.append("")
    lines.append("} // namespace functions")
    return "\n".join(lines)


def tool_choice_tokens(choice: Any, count: Callable[[str], int]) -> int:
    """Extra prompt tokens for ``tool_choice``/``function_call``, ``count`` being a tokenizer.

    ``"none"`` costs 1; forcing a named function costs its name plus 4;
    ``"auto"``, ``"required"`` and absent cost nothing measurable.
    """
    if choice == "none":
        return 1
    if isinstance(choice, Mapping):
        fn = choice.get("function") if isinstance(choice.get("function"), Mapping) else choice
        name = fn.get("name") if isinstance(fn, Mapping) else None
        if isinstance(name, str):
            return count(name) + 4
    return 0


def _properties(obj: Mapping[str, Any], indent: int) -> str:
    required = obj.get("required") or ()
    lines = []
    for name, prop in (obj.get("properties") or {}).items():
        prop = prop if isinstance(prop, Mapping) else {}
        if prop.get("description") and indent == 0:  # nested descriptions are dropped
            lines.append(f"// {prop['description']}")
        optional = "" if name in required else "?"
        lines.append(f"{name}{optional}: {_type(prop, indent)},")
    return "\n".join(" " * indent + line for line in lines)


def _type(prop: Mapping[str, Any], indent: int) -> str:
    if "enum" in prop:
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"], ensure_ascii=False)
    for key in ("anyOf", "oneOf"):
        if isinstance(prop.get(key), list):
            return " | ".join(_type(p, indent) for p in prop[key] if isinstance(p, Mapping))
    kind = prop.get("type")
    if isinstance(kind, list):
        return " | ".join(_type({**prop, "type": k}, indent) for k in kind)
    if kind == "string":
        return "string"
    if kind in ("number", "integer"):
        return "number"
    if kind in ("boolean", "null"):
        return str(kind)
    if kind == "object":
        if not prop.get("properties"):
            return "object"
        return "\n".join(["{", _properties(prop, indent + 2), "}"])
    if kind == "array":
        items = prop.get("items")
        return f"{_type(items, indent)}[]" if isinstance(items, Mapping) else "any[]"
    return "any"
