"""Every telemetry name this package emits, in one place.

The GenAI semantic conventions are still "Development": a rename upstream is
one edit here. Names under ``otel_llm.*`` are this project's documented
extensions (the conventions have no cost metric and no estimate marker).
Prometheus sees dots as underscores, ``s`` units as ``_seconds`` and histograms
as ``_bucket``/``_sum``/``_count``; ``PROMETHEUS_NAMES`` spells that out for
the dashboards.
"""

from __future__ import annotations

from typing import Final

#: The conventions version these names follow (``schema_url`` of the tracer, meter and
#: logger), so backends can translate names when the conventions move.
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.41.0"

# --- span / metric attributes -------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
#: General conventions: the user and the session a run is for (never metric labels by default).
USER_ID: Final = "user.id"
SESSION_ID: Final = "session.id"
GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_AGENT_DESCRIPTION: Final = "gen_ai.agent.description"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
OPENAI_REQUEST_SERVICE_TIER: Final = "openai.request.service_tier"
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = "openai.response.system_fingerprint"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
ERROR_TYPE_OTHER: Final = "_OTHER"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
#: The span event of a failure and its attributes (OTel exception conventions).
EVENT_EXCEPTION: Final = "exception"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"

# --- this project's extensions -----------------------------------------------
#: bool: token numbers were counted with tiktoken, not reported by the provider.
OTEL_LLM_USAGE_ESTIMATED: Final = "otel_llm.usage.estimated"
#: bool: an estimated input count includes images of unknown size (remote URLs), counted at
#: an assumed size.
OTEL_LLM_USAGE_IMAGE_SIZE_GUESSED: Final = "otel_llm.usage.image_size_guessed"
#: float: cost of the run in USD from the local price table (absent when unknown).
OTEL_LLM_USAGE_COST: Final = "otel_llm.usage.cost"
#: The recommended ``otel_llm.attributes()`` key for the product feature a call serves;
#: allow-listed (``metric_attributes``), it feeds the dashboard's per-feature panels.
APP_FEATURE: Final = "app.feature"
#: Metric label value of an allow-listed attribute past its cap of distinct values.
OTEL_LLM_OTHER_VALUE: Final = "_other"
#: int attribute of a chunk span event: 0-based chunk index.
OTEL_LLM_CHUNK_INDEX: Final = "otel_llm.chunk.index"
#: str: the provider's error code of a failed run (``context_length_exceeded``).
OTEL_LLM_ERROR_CODE: Final = "otel_llm.error.code"
#: ``error.type`` of a run ended because it was dropped from the open-run registry.
ERROR_TYPE_RUN_EVICTED: Final = "otel_llm.RunEvicted"
#: ``error.type`` of a run ended because its parent ended while it was still open.
ERROR_TYPE_PARENT_ENDED: Final = "otel_llm.ParentEnded"

# --- values ------------------------------------------------------------------
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_EMBEDDINGS: Final = "embeddings"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
OP_RETRIEVAL: Final = "retrieval"
PROVIDER_OPENAI: Final = "openai"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"
PROVIDER_OTHER: Final = "_OTHER"
PROVIDER_AZURE_AI_INFERENCE: Final = "azure.ai.inference"
PROVIDER_DEEPSEEK: Final = "deepseek"
PROVIDER_GROQ: Final = "groq"
PROVIDER_MISTRAL_AI: Final = "mistral_ai"
PROVIDER_PERPLEXITY: Final = "perplexity"
PROVIDER_X_AI: Final = "x_ai"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
OUTPUT_TYPE_TEXT: Final = "text"
OUTPUT_TYPE_JSON: Final = "json"
#: ``openai.response.service_tier`` values kept on metric points; any other is ``_OTHER``.
OPENAI_SERVICE_TIERS: Final = frozenset({"auto", "default", "flex", "scale", "priority"})
TOOL_TYPE_FUNCTION: Final = "function"
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"

# --- span events and log events ----------------------------------------------
EVENT_FIRST_TOKEN: Final = "gen_ai.content.first_token"
EVENT_CHUNK: Final = "gen_ai.content.chunk"
EVENT_INFERENCE_DETAILS: Final = "gen_ai.client.inference.operation.details"

# --- metrics: (name, unit, bucket boundaries) ---------------------------------
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)
DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)
COST_BUCKETS: Final = (
    0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0,
)

METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"
METRIC_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.operation.time_per_output_chunk"
#: Extension: USD per LLM run, recorded only when the model's price is known.
METRIC_COST: Final = "otel_llm.client.cost"

UNIT_TOKEN: Final = "{token}"
UNIT_SECONDS: Final = "s"
UNIT_USD: Final = "USD"

#: The series Prometheus stores for each metric (default OTLP -> Prometheus translation).
PROMETHEUS_NAMES: Final = {
    METRIC_TOKEN_USAGE: "gen_ai_client_token_usage",
    METRIC_OPERATION_DURATION: "gen_ai_client_operation_duration_seconds",
    METRIC_TIME_TO_FIRST_CHUNK: "gen_ai_client_operation_time_to_first_chunk_seconds",
    METRIC_TIME_PER_OUTPUT_CHUNK: "gen_ai_client_operation_time_per_output_chunk_seconds",
    METRIC_COST: "otel_llm_client_cost_USD",
}

#: The only attributes a metric may carry: bounded, never run ids or metadata values.
METRIC_ATTRIBUTES: Final = frozenset(
    {
        GEN_AI_OPERATION_NAME,
        GEN_AI_PROVIDER_NAME,
        GEN_AI_REQUEST_MODEL,
        GEN_AI_RESPONSE_MODEL,
        GEN_AI_TOKEN_TYPE,
        SERVER_ADDRESS,
        SERVER_PORT,
        ERROR_TYPE,
        OTEL_LLM_USAGE_ESTIMATED,
        OPENAI_RESPONSE_SERVICE_TIER,  # bounded: a known tier or _OTHER
    }
)
