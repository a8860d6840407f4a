"""Prompt tokens of a chat request, reproducing OpenAI's accounting.

Each message costs ``3 + role + content`` (``<|im_start|>role<|im_sep|>content<|im_end|>``),
a ``name`` adds its tokens plus 1, the reply priming adds 3 (2 on reasoning
models, see :class:`~otel_llm.tokens.models.ChatFormat`). Tool calls and tool
results follow :mod:`otel_llm.tokens.tool_calls`, tool definitions
:mod:`otel_llm.tokens.functions`.

Image parts add the tokens of OpenAI's published formula for the model
(:mod:`otel_llm.tokens.images`; a remote URL's size is guessed, and counted in
``images.guessed`` when the caller passes an ``ImageCount``). Not counted:
audio and file parts, and anything the API adds for features it does not
document (e.g. built-in tools). Messages with several text parts are counted
part by part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from otel_llm.tokens.encodings import get_encoding
from otel_llm.tokens.functions import (
    TOOLS_OVERHEAD_NEW_SYSTEM,
    TOOLS_OVERHEAD_WITH_SYSTEM,
    function_definitions,
    render_function_definitions,
    tool_choice_tokens,
)
from otel_llm.tokens.images import ImageCount, is_image_part
from otel_llm.tokens.models import chat_format_for, encoding_name_for
from otel_llm.tokens.tool_calls import (
    ToolCall,
    history_renderings,
    parse_tool_calls,
    result_header,
)

__all__ = ["count_message_tokens"]

# LangChain ``message.type`` -> OpenAI role. Chunk classes ("AIMessageChunk") are
# matched by prefix.
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool",
          "function": "function", "developer": "developer", "user": "user",
          "assistant": "assistant"}
_TYPE_PREFIXES = (("AIMessage", "assistant"), ("HumanMessage", "user"),
                  ("SystemMessage", "system"), ("ToolMessage", "tool"),
                  ("FunctionMessage", "function"))


@dataclass
class _Message:
    role: str
    texts: list[str]
    name: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    images: list[Mapping[str, Any]] = field(default_factory=list)


def count_message_tokens(
    messages: Iterable[Any],
    model: str,
    tools: Iterable[Any] | None = None,
    *,
    functions: Iterable[Any] | None = None,
    tool_choice: Any = None,
    images: ImageCount | None = None,
) -> int:
    """Prompt tokens OpenAI will bill for ``messages`` sent to ``model``.

    ``messages``: OpenAI wire dicts or message objects with ``.type``/``.content``
    (ours or LangChain's). ``tools``: the request's ``tools`` (a legacy
    ``functions`` list is accepted there too, or via ``functions``).
    ``tool_choice`` (or legacy ``function_call``) adds what forcing costs.
    ``images`` (optional) receives the image tokens and how many sizes were guessed.
    """
    enc_name, _ = encoding_name_for(model)
    encode = get_encoding(enc_name).encode_ordinary
    fmt = chat_format_for(model)
    per_message = fmt.tokens_per_message
    defs = function_definitions(tools or ()) + function_definitions(functions or ())

    total = fmt.reply_priming
    if images is None:
        images = ImageCount()
    names_by_id: dict[str, str] = {}
    system_padded = False
    for raw in messages:
        if type(raw) is dict and _is_plain(raw) and not (
                defs and not system_padded and raw.get("role") in ("system", "developer")):
            # Fast path for the common case: a text message without tools or name.
            total += per_message + _small(enc_name, raw.get("role") or "user")
            content = raw.get("content")
            if content:
                total += len(encode(content))
            continue
        msg = _message(raw)
        if defs and not system_padded and msg.role in ("system", "developer"):
            msg.texts = [*msg.texts[:-1], (msg.texts[-1] if msg.texts else "") + "\n"]
            system_padded = True
        content = sum(len(encode(t)) for t in msg.texts if t)
        content += sum(images.add(part, model) for part in msg.images)
        if msg.tool_calls:
            for call in msg.tool_calls:
                if call.id:
                    names_by_id[call.id] = call.name
            if content:  # text said alongside the calls travels as its own message
                total += per_message + _small(enc_name, msg.role) + content
            for header, body in history_renderings(msg.tool_calls, fmt.legacy_tools):
                total += per_message + _small(enc_name, header) + len(encode(body))
        elif msg.role in ("tool", "function"):
            name = names_by_id.get(msg.tool_call_id or "") or msg.name or msg.role
            header = result_header(name, fmt.legacy_tools)
            total += per_message + _small(enc_name, header) + content
        else:
            total += per_message + _small(enc_name, msg.role) + content
            if msg.name:
                total += _small(enc_name, msg.name) + fmt.tokens_per_name
    if defs:
        total += len(encode(render_function_definitions(defs)))
        total += TOOLS_OVERHEAD_WITH_SYSTEM if system_padded else TOOLS_OVERHEAD_NEW_SYSTEM
    if tool_choice is not None:
        total += tool_choice_tokens(tool_choice, lambda s: _small(enc_name, s))
    return total


@lru_cache(maxsize=4096)
def _small(encoding_name: str, text: str) -> int:
    """Token count of a short, repeating string (roles, headers, names)."""
    return len(get_encoding(encoding_name).encode_ordinary(text))


def _is_plain(raw: dict[str, Any]) -> bool:
    content = raw.get("content")
    return ((content is None or type(content) is str) and not raw.get("tool_calls")
            and not raw.get("function_call") and not raw.get("name")
            and raw.get("role") not in ("tool", "function"))


def _message(raw: Any) -> _Message:
    if isinstance(raw, Mapping):
        role = str(raw.get("role") or "user")
        calls_raw = raw.get("tool_calls") or ()
        function_call = raw.get("function_call")
        return _Message(
            role=role,
            texts=_texts(raw.get("content")),
            name=raw.get("name"),
            tool_calls=parse_tool_calls([*calls_raw, *([function_call] if function_call else [])]),
            tool_call_id=raw.get("tool_call_id"),
            images=_images(raw.get("content")),
        )
    kind = str(getattr(raw, "type", "") or "")
    role = _ROLES.get(kind) or str(getattr(raw, "role", "") or "")
    if not role:
        cls = type(raw).__name__
        role = next((r for prefix, r in _TYPE_PREFIXES if cls.startswith(prefix)), "user")
    extra = getattr(raw, "additional_kwargs", None) or {}
    calls_raw = getattr(raw, "tool_calls", None) or extra.get("tool_calls") or ()
    function_call = extra.get("function_call")
    return _Message(
        role=role,
        texts=_texts(getattr(raw, "content", "")),
        name=getattr(raw, "name", None),
        tool_calls=parse_tool_calls([*calls_raw, *([function_call] if function_call else [])]),
        tool_call_id=getattr(raw, "tool_call_id", None),
        images=_images(getattr(raw, "content", None)),
    )


def _texts(content: Any) -> list[str]:
    if content is None:
        return []
    if isinstance(content, str):
        return [content]
    out = []
    for part in content:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Mapping):
            text = part.get("text", part.get("refusal"))
            if isinstance(text, str):
                out.append(text)
    return out


def _images(content: Any) -> list[Mapping[str, Any]]:
    if content is None or isinstance(content, str):
        return []
    return [part for part in content if is_image_part(part)]
