"""OpenAI SDK instrumentation: every call becomes callback events, so every handler sees it.

Three ways to attach handlers, combinable without duplicate events:

- process-wide: :func:`instrument_openai` / :func:`uninstrument_openai`, or the
  OpenTelemetry :class:`OpenAIInstrumentor` (``opentelemetry-instrument``);
- per client: :func:`wrap_openai` (the handlers act as constructor callbacks);
- per block of code: :func:`openai_callbacks` (``otel_llm.callbacks.scoped_callbacks``),
  reaching calls made through either of the above.

Covered: ``chat.completions.create`` (plain and streamed) and ``.parse``,
legacy ``completions.create``, ``embeddings.create``, ``responses.create``
(plain and streamed), ``responses.parse`` and, where the installed SDK has it,
``beta.responses.create``, on ``OpenAI``, ``AsyncOpenAI``,
``AzureOpenAI`` and ``AsyncAzureOpenAI``, called directly, through the SDK's
``.stream()`` helpers (they call ``create``) or through ``with_raw_response`` /
``with_streaming_response`` (the caller gets the SDK's response object; see
``_raw``). ``gen_ai.provider.name`` follows the API host (see ``_providers``).

Events: ``on_chat_model_start`` (chat, Responses) or ``on_llm_start`` (legacy
completions, embeddings) with ``invocation_params`` and ``ls_*`` metadata; per
streamed chunk ``on_llm_new_token``; then exactly one ``on_llm_end`` (usage in
``llm_output["token_usage"]``, estimated and flagged with ``USAGE_ESTIMATED_KEY``
when the provider sent none) or ``on_llm_error`` with the SDK's exception,
which the caller then gets unchanged. Frameworks that report their own calls
wrap them in :func:`suppress`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otel_llm.callbacks import scoped_callbacks as openai_callbacks
from otel_llm.instrumentation.openai._call import StreamAbandonedError
from otel_llm.instrumentation.openai._patch import (
    instrument_openai,
    is_instrumented,
    uninstrument_openai,
    wrap_openai,
)
from otel_llm.instrumentation.openai._stream_usage import StreamUsage
from otel_llm.instrumentation.openai._suppress import DETAIL_KEYS, DetailsHook, suppress

if TYPE_CHECKING:
    from otel_llm.instrumentation.openai._instrumentor import OpenAIInstrumentor

__all__ = [
    "DETAIL_KEYS",
    "DetailsHook",
    "OpenAIInstrumentor",
    "StreamAbandonedError",
    "StreamUsage",
    "instrument_openai",
    "is_instrumented",
    "openai_callbacks",
    "suppress",
    "uninstrument_openai",
    "wrap_openai",
]


def __getattr__(name: str) -> Any:
    # opentelemetry-instrumentation is an optional extra: import it only when asked for.
    if name == "OpenAIInstrumentor":
        try:
            from otel_llm.instrumentation.openai._instrumentor import OpenAIInstrumentor
        except ImportError as exc:
            from otel_llm._extras import missing_extra

            raise missing_extra(f"{__name__}.OpenAIInstrumentor", exc) from exc
        return OpenAIInstrumentor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
