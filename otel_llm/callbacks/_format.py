"""One readable line per callback event, shared by the stdout and file handlers.

Opt-in local debugging output: it shows prompts and answers (shortened), which
is why these handlers are never installed implicitly except by ``verbose=True``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any
from uuid import UUID

__all__ = ["EventFormatter"]

_COLORS = {"blue": "36;1", "yellow": "33;1", "pink": "38;5;200", "green": "32;1",
           "red": "31;1", "grey": "2"}
_MAX_OPEN = 10_000  # runs whose start time we remember; abandoned runs age out
_SHORT = 240


def _short(text: Any, limit: int = _SHORT) -> str:
    s = str(text).replace("\n", "\\n")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def run_name(serialized: dict[str, Any] | None, kwargs: dict[str, Any], default: str) -> str:
    if kwargs.get("name"):
        return str(kwargs["name"])
    serialized = serialized or {}
    if serialized.get("name"):
        return str(serialized["name"])
    ids = serialized.get("id")
    return str(ids[-1]) if isinstance(ids, list) and ids else default


def _model(kwargs: dict[str, Any]) -> str:
    params = kwargs.get("invocation_params") or {}
    md = kwargs.get("metadata") or {}
    return str(params.get("model") or params.get("model_name") or md.get("ls_model_name") or "")


def _usage(response: Any) -> str:
    out = getattr(response, "llm_output", None) or {}
    usage = out.get("token_usage") or {}
    if not usage:
        return ""
    est = " estimated" if out.get("otel_llm_usage_estimated") else ""
    get = usage.get
    return (f" tokens in={get('prompt_tokens', '?')} out={get('completion_tokens', '?')}"
            f" total={get('total_tokens', '?')}{est}")


def _answer(response: Any) -> str:
    gens = getattr(response, "generations", None) or []
    texts = [g.text for batch in gens for g in batch if getattr(g, "text", "")]
    return _short(" | ".join(texts)) if texts else ""


class EventFormatter:
    """Formats events into lines; remembers start times to print durations."""

    def __init__(self, color: bool) -> None:
        self.color = color
        self._started: OrderedDict[UUID, float] = OrderedDict()

    def paint(self, text: str, color: str) -> str:
        return f"\x1b[{_COLORS[color]}m{text}\x1b[0m" if self.color else text

    def start(self, run_id: UUID) -> None:
        self._started[run_id] = time.perf_counter()
        if len(self._started) > _MAX_OPEN:
            self._started.popitem(last=False)

    def elapsed(self, run_id: UUID) -> str:
        t0 = self._started.pop(run_id, None)
        return f" ({time.perf_counter() - t0:.2f}s)" if t0 is not None else ""

    # Each method returns the line to print, or None for nothing.
    def llm_start(self, serialized: dict[str, Any], prompts: list[str], run_id: UUID,
                  kwargs: dict[str, Any]) -> str:
        self.start(run_id)
        name = run_name(serialized, kwargs, "llm")
        model = _model(kwargs)
        head = self.paint(f"[llm start] {name}{' ' + model if model else ''}", "blue")
        return f"{head} prompt: {_short(prompts[0] if prompts else '')}"

    def chat_start(self, serialized: dict[str, Any], messages: list[list[Any]], run_id: UUID,
                   kwargs: dict[str, Any]) -> str:
        self.start(run_id)
        name = run_name(serialized, kwargs, "chat model")
        model = _model(kwargs)
        msgs = messages[0] if messages else []
        last = msgs[-1] if msgs else None
        text = getattr(last, "text", None) or getattr(last, "content", "") if last else ""
        head = self.paint(f"[chat start] {name}{' ' + model if model else ''}", "blue")
        return f"{head} {len(msgs)} message(s), last: {_short(text)}"

    def llm_end(self, response: Any, run_id: UUID) -> str:
        head = self.paint(f"[llm end]{self.elapsed(run_id)}", "green")
        return f"{head}{_usage(response)} answer: {_answer(response)}"

    def error(self, kind: str, error: BaseException, run_id: UUID) -> str:
        head = self.paint(f"[{kind} error]{self.elapsed(run_id)}", "red")
        return f"{head} {type(error).__name__}: {_short(error)}"

    def chain_start(self, serialized: dict[str, Any] | None, run_id: UUID,
                    kwargs: dict[str, Any]) -> str:
        self.start(run_id)
        name = run_name(serialized, kwargs, "chain")
        return f"\n\n{self.paint(f'> Entering new {name} chain...', 'grey')}"

    def chain_end(self, outputs: Any, run_id: UUID) -> str:
        return self.paint(f"> Finished chain.{self.elapsed(run_id)}", "grey")

    def tool_start(self, serialized: dict[str, Any], input_str: str, run_id: UUID,
                   kwargs: dict[str, Any]) -> str:
        self.start(run_id)
        name = run_name(serialized, kwargs, "tool")
        return f"{self.paint(f'[tool start] {name}', 'yellow')} input: {_short(input_str)}"

    def tool_end(self, output: Any, run_id: UUID) -> str:
        head = self.paint(f"[tool end]{self.elapsed(run_id)}", "yellow")
        return f"{head} output: {_short(output)}"

    def retriever_start(self, serialized: dict[str, Any], query: str, run_id: UUID,
                        kwargs: dict[str, Any]) -> str:
        self.start(run_id)
        name = run_name(serialized, kwargs, "retriever")
        return f"{self.paint(f'[retriever start] {name}', 'pink')} query: {_short(query)}"

    def retriever_end(self, documents: Any, run_id: UUID) -> str:
        n = len(documents) if hasattr(documents, "__len__") else "?"
        return self.paint(f"[retriever end]{self.elapsed(run_id)} {n} document(s)", "pink")

    def agent_action(self, action: Any) -> str:
        return self.paint(getattr(action, "log", "") or
                          f"[agent] {getattr(action, 'tool', '?')}", "green")

    def agent_finish(self, finish: Any) -> str:
        return self.paint(getattr(finish, "log", "") or "[agent] finished", "green")
