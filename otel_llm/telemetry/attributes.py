"""Callback events -> GenAI semantic-convention attributes. Pure functions, no OTel calls."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from otel_llm import semconv
from otel_llm.schema import LS_MODEL_NAME, LS_MODEL_TYPE, LS_PROVIDER
from otel_llm.usage import IMAGE_SIZE_GUESSED_KEY, TokenUsage

__all__ = [
    "AGENT_CLASSES",
    "DECORATED_AGENT",
    "PROVIDER_UNKNOWN",
    "error_type",
    "is_agent",
    "llm_operation",
    "llm_request_attributes",
    "llm_response_attributes",
    "metric_service_tier",
    "output_type_of",
    "provider_name",
    "run_name",
    "server_attributes",
    "usage_attributes",
]

Attributes = dict[str, Any]

#: ``gen_ai.provider.name`` when nothing names the provider (required attribute; kept bounded).
PROVIDER_UNKNOWN = semconv.PROVIDER_OTHER

# LangChain's ``ls_provider`` values -> the conventions' provider names. Others pass through.
_PROVIDERS = {
    "openai": semconv.PROVIDER_OPENAI,
    "azure": semconv.PROVIDER_AZURE_OPENAI,
    "azure_openai": semconv.PROVIDER_AZURE_OPENAI,
    "anthropic": "anthropic",
    "bedrock": "aws.bedrock",
    "amazon_bedrock": "aws.bedrock",
    "google_genai": "gcp.gen_ai",
    "google_vertexai": "gcp.vertex_ai",
    "mistralai": "mistral_ai",
}

#: The serialized class of an ``@otel_llm.agent`` run.
DECORATED_AGENT = "otel_llm.agent"
#: Chain classes that are agents whatever they are called.
AGENT_CLASSES = frozenset({"AgentExecutor", DECORATED_AGENT})

# OpenAI request parameter -> attribute, for numbers copied as they are.
_NUMERIC_PARAMS = (
    ("temperature", semconv.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", semconv.GEN_AI_REQUEST_TOP_P),
    ("top_k", semconv.GEN_AI_REQUEST_TOP_K),
    ("frequency_penalty", semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", semconv.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("seed", semconv.GEN_AI_REQUEST_SEED),
)


def run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any], default: str) -> str:
    """LangChain's rule: the ``name`` argument, else the serialized name, else the class id."""
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if serialized:
        name = serialized.get("name")
        if isinstance(name, str) and name:
            return name
        ids = serialized.get("id")
        if isinstance(ids, list) and ids and isinstance(ids[-1], str):
            return ids[-1]
    return default


def is_agent(name: str, serialized: Mapping[str, Any] | None, metadata: Mapping[str, Any]) -> bool:
    """Whether a chain run is an agent (``invoke_agent``) rather than a workflow step.

    Only signals that children do not inherit count (LangChain copies tags and
    metadata down the tree): the run's class is an ``AgentExecutor``, or its
    name ends in "agent". A LangGraph node (its name equals
    ``metadata["langgraph_node"]``) is a step even when called "agent". A chain
    that emits ``on_agent_action``/``on_agent_finish`` is promoted later.
    """
    if metadata.get("langgraph_node") == name:
        return False
    ids = serialized.get("id") if serialized else None
    class_name = ids[-1] if isinstance(ids, list) and ids else None
    return class_name in AGENT_CLASSES or name in AGENT_CLASSES or name.lower().endswith("agent")


def llm_operation(chat: bool, metadata: Mapping[str, Any]) -> str:
    if metadata.get(LS_MODEL_TYPE) == "embeddings":
        return semconv.OP_EMBEDDINGS
    return semconv.OP_CHAT if chat else semconv.OP_TEXT_COMPLETION


def provider_name(metadata: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    raw = metadata.get(LS_PROVIDER)
    if isinstance(raw, str) and raw:
        return _PROVIDERS.get(raw.lower(), raw.lower())
    kind = params.get("_type")  # LangChain: "openai-chat", "azure-openai-chat", ...
    if isinstance(kind, str):
        if "azure" in kind:
            return semconv.PROVIDER_AZURE_OPENAI
        if "openai" in kind:
            return semconv.PROVIDER_OPENAI
    return PROVIDER_UNKNOWN


def llm_request_attributes(
    operation: str, params: Mapping[str, Any], metadata: Mapping[str, Any]
) -> tuple[Attributes, str | None]:
    """Everything known at start, so samplers see it; returns ``(attributes, request model)``."""
    model = _first_str(params.get("model"), params.get("model_name"), metadata.get(LS_MODEL_NAME))
    attrs: Attributes = {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_PROVIDER_NAME: provider_name(metadata, params),
    }
    if model:
        attrs[semconv.GEN_AI_REQUEST_MODEL] = model
    base_url = params.get("base_url")
    if isinstance(base_url, str) and base_url:
        attrs.update(server_attributes(base_url))
    for key, attr in _NUMERIC_PARAMS:
        value = params.get(key)
        if value is not None and _is_number(value):
            attrs[attr] = value
    if semconv.GEN_AI_REQUEST_TEMPERATURE not in attrs and _is_number(
        metadata.get("ls_temperature")
    ):
        attrs[semconv.GEN_AI_REQUEST_TEMPERATURE] = metadata["ls_temperature"]
    max_tokens = next(
        (
            v
            for v in (
                params.get("max_tokens"),
                params.get("max_completion_tokens"),
                metadata.get("ls_max_tokens"),
            )
            if _is_int(v)
        ),
        None,
    )
    if max_tokens is not None:
        attrs[semconv.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    stop = params.get("stop") or metadata.get("ls_stop")
    if isinstance(stop, str):
        attrs[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = [stop]
    elif stop and isinstance(stop, Sequence) and all(isinstance(s, str) for s in stop):
        attrs[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] = list(stop)
    n = params.get("n")
    if _is_int(n) and n != 1:
        attrs[semconv.GEN_AI_REQUEST_CHOICE_COUNT] = n
    if params.get("stream") is True:
        attrs[semconv.GEN_AI_REQUEST_STREAM] = True
    attrs.update(_format_attributes(operation, params))
    return attrs, model


def _format_attributes(operation: str, params: Mapping[str, Any]) -> Attributes:
    """Output type, embeddings dimensions/encodings and the requested OpenAI service tier."""
    attrs: Attributes = {}
    tier = params.get("service_tier")
    if isinstance(tier, str) and tier and tier != "auto":  # conditionally required: not auto
        attrs[semconv.OPENAI_REQUEST_SERVICE_TIER] = tier
    if operation == semconv.OP_EMBEDDINGS:
        dimensions = params.get("dimensions")
        if _is_int(dimensions):
            attrs[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
        encoding = params.get("encoding_format")
        if isinstance(encoding, str) and encoding:
            attrs[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [encoding]
        return attrs
    output_type = output_type_of(params.get("response_format"))
    if output_type is not None:
        attrs[semconv.GEN_AI_OUTPUT_TYPE] = output_type
    return attrs


def output_type_of(response_format: Any) -> str | None:
    """``gen_ai.output.type`` of a ``response_format`` (Chat) or ``text.format`` (Responses).

    ``text`` -> ``text``; ``json_object`` / ``json_schema`` (or a pydantic class,
    as ``parse()`` takes) -> ``json``; nothing named -> None (the attribute is
    conditionally required only when the request names a format).
    """
    if isinstance(response_format, type):
        return semconv.OUTPUT_TYPE_JSON
    kind = response_format.get("type") if isinstance(response_format, Mapping) else (
        getattr(response_format, "type", None))
    if kind == "text":
        return semconv.OUTPUT_TYPE_TEXT
    if kind in ("json_object", "json_schema"):
        return semconv.OUTPUT_TYPE_JSON
    return None


@functools.lru_cache(maxsize=256)
def server_attributes(base_url: str) -> tuple[tuple[str, Any], ...]:
    """``server.address``/``server.port`` of an API base URL (cached: a process talks to few)."""
    try:
        parts = urlsplit(base_url)
        host = parts.hostname
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return ()
    if not host:
        return ()
    attrs: list[tuple[str, Any]] = [(semconv.SERVER_ADDRESS, host)]
    if port:
        attrs.append((semconv.SERVER_PORT, port))
    return tuple(attrs)


def llm_response_attributes(response: Any) -> Attributes:
    """Response id, model and finish reasons, from ``llm_output`` or the first message.

    ``llm_output["base_url"]`` (the endpoint, when only the end of a run knows
    it: the LangChain bridge learns it from the SDK layer) adds the server
    attributes.
    """
    llm_output = getattr(response, "llm_output", None) or {}
    per_prompt = getattr(response, "generations", None) or []
    generations = (per_prompt[0] if per_prompt and not per_prompt[1:]  # one prompt: as is
                   else [g for gens in per_prompt for g in gens])
    first_meta = _response_metadata(generations[0]) if generations else {}
    attrs: Attributes = {}
    # llm_output first; the fallbacks are read only when it has no text there.
    response_id = llm_output.get("id")
    if type(response_id) is not str or not response_id:
        response_id = _first_str(response_id, first_meta.get("id"))
    if response_id:
        attrs[semconv.GEN_AI_RESPONSE_ID] = response_id
    model = llm_output.get("model_name")
    if type(model) is not str or not model:
        model = _first_str(model, llm_output.get("model"), first_meta.get("model_name"))
    if model:
        attrs[semconv.GEN_AI_RESPONSE_MODEL] = model
    reasons = []
    for generation in generations:
        reason = finish_reason(generation)
        if reason:
            reasons.append(reason)
    if reasons:
        attrs[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    for attr, key in ((semconv.OPENAI_RESPONSE_SERVICE_TIER, "service_tier"),
                      (semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT, "system_fingerprint")):
        value = llm_output.get(key)
        if type(value) is not str or not value:
            value = _first_str(value, first_meta.get(key))
        if value:
            attrs[attr] = value
    if llm_output.get(IMAGE_SIZE_GUESSED_KEY) is True:
        attrs[semconv.OTEL_LLM_USAGE_IMAGE_SIZE_GUESSED] = True
    base_url = llm_output.get("base_url")
    if isinstance(base_url, str) and base_url:
        attrs.update(server_attributes(base_url))
    return attrs


def metric_service_tier(tier: Any) -> str | None:
    """``openai.response.service_tier`` for metric points: a known tier, else ``_OTHER``.

    A compatible server may put anything there; metric series must stay bounded.
    """
    if not isinstance(tier, str) or not tier:
        return None
    return tier if tier in semconv.OPENAI_SERVICE_TIERS else semconv.PROVIDER_OTHER


def finish_reason(generation: Any) -> str | None:
    info = getattr(generation, "generation_info", None) or {}
    reason = info.get("finish_reason") or _response_metadata(generation).get("finish_reason")
    return reason if isinstance(reason, str) else None


def usage_attributes(usage: TokenUsage) -> Attributes:
    attrs: Attributes = {}
    for attr, value in (
        (semconv.GEN_AI_USAGE_INPUT_TOKENS, usage.input_tokens),
        (semconv.GEN_AI_USAGE_OUTPUT_TOKENS, usage.output_tokens),
        (semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cache_read_input_tokens),
        (semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cache_creation_input_tokens),
        (semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoning_output_tokens),
    ):
        if value is not None:
            attrs[attr] = value
    if usage.estimated:
        attrs[semconv.OTEL_LLM_USAGE_ESTIMATED] = True
    return attrs


def error_type(exc: BaseException | type[BaseException]) -> str:
    """The exception's public qualified name: ``openai.RateLimitError``, ``ValueError``.

    The module path is cut at its first private part: users know the public
    name, and a library moving a class between private modules must not
    change the metric series.
    """
    cls = exc if isinstance(exc, type) else type(exc)
    module = cls.__module__ or ""
    if module == "builtins":
        return cls.__qualname__
    public = []
    for part in module.split("."):
        if part.startswith("_"):
            break
        public.append(part)
    return ".".join([*public, cls.__qualname__]) if public else cls.__qualname__


def _response_metadata(generation: Any) -> Mapping[str, Any]:
    meta = getattr(getattr(generation, "message", None), "response_metadata", None)
    return meta if type(meta) is dict or isinstance(meta, Mapping) else {}


def _first_str(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and value:
            return value
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
