"""The SDK methods we instrument, named once so patching and dispatch agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ENDPOINTS", "Endpoint", "Kind"]

#: What a call is, which decides its start event and how its result is read.
Kind = Literal["chat", "parse", "completions", "embeddings", "responses"]


@dataclass(frozen=True, slots=True)
class Endpoint:
    kind: Kind
    module: str
    cls: str
    method: str
    #: Attribute path from a client to the resource (``client.chat.completions``).
    resource: tuple[str, ...]
    is_async: bool
    #: ``ls_model_type``: ``chat``, ``llm`` (text completion) or ``embeddings`` (a field,
    #: not a property: it is read on every call).
    model_type: str = field(init=False)

    def __post_init__(self) -> None:
        model_type = {"completions": "llm", "embeddings": "embeddings"}.get(self.kind, "chat")
        object.__setattr__(self, "model_type", model_type)  # frozen

    @property
    def operation(self) -> str:
        return ".".join((*self.resource, self.method))


def _both(kind: Kind, module: str, cls: str, method: str, resource: tuple[str, ...]
          ) -> tuple[Endpoint, Endpoint]:
    return (Endpoint(kind, module, cls, method, resource, False),
            Endpoint(kind, module, "Async" + cls, method, resource, True))


ENDPOINTS: tuple[Endpoint, ...] = (
    *_both("chat", "openai.resources.chat.completions.completions", "Completions", "create",
           ("chat", "completions")),
    *_both("parse", "openai.resources.chat.completions.completions", "Completions", "parse",
           ("chat", "completions")),
    *_both("completions", "openai.resources.completions", "Completions", "create",
           ("completions",)),
    *_both("embeddings", "openai.resources.embeddings", "Embeddings", "create", ("embeddings",)),
    *_both("responses", "openai.resources.responses.responses", "Responses", "create",
           ("responses",)),
    # Structured output: posts itself (not through ``create``) and returns a ParsedResponse,
    # a Response read like any other. ``responses.stream()`` goes through ``create``.
    *_both("responses", "openai.resources.responses.responses", "Responses", "parse",
           ("responses",)),
    # Beta Responses features (``/responses?beta=true``, recent SDKs only); read like
    # ``responses``. Older SDKs have no such module: skipped there (see ``_patch``).
    *_both("responses", "openai.resources.beta.responses.responses", "Responses", "create",
           ("beta", "responses")),
)
