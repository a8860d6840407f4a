"""Messages and results carried by callback events.

Shaped like LangChain's (``langchain_core.messages`` / ``langchain_core.outputs``)
so a handler written against LangChain reads them the same way:
``response.generations[0][0].text``, ``response.llm_output["token_usage"]``,
``message.content``, ``message.type``. Plain dataclasses: no pydantic, no
LangChain import. Handlers in this package read these shapes by duck typing,
so LangChain's own objects (forwarded by the LangChain integration) work too.

Metadata keys on start events follow LangChain's ``ls_*`` convention; the
ones this package reads are listed below as constants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "INSTRUCTIONS_KEY",
    "LS_MODEL_NAME",
    "LS_MODEL_TYPE",
    "LS_PROVIDER",
    "AIMessage",
    "AgentAction",
    "AgentFinish",
    "BaseMessage",
    "ChatGeneration",
    "ChatGenerationChunk",
    "Document",
    "Generation",
    "GenerationChunk",
    "HumanMessage",
    "LLMResult",
    "SystemMessage",
    "TextChunk",
    "ToolMessage",
    "get_buffer_string",
]

#: ``metadata`` key naming the provider (``openai``, ``azure.ai.openai``, ...).
LS_PROVIDER = "ls_provider"
#: ``metadata`` key naming the requested model.
LS_MODEL_NAME = "ls_model_name"
#: ``metadata`` key: ``chat``, ``llm`` (text completion) or ``embeddings``.
LS_MODEL_TYPE = "ls_model_type"
#: ``additional_kwargs`` key of a ``SystemMessage`` given apart from the chat history
#: (Responses ``instructions``, a framework's separate system prompt): handlers record
#: it as system instructions. System messages without it are part of the history.
INSTRUCTIONS_KEY = "otel_llm_instructions"


@dataclass
class BaseMessage:
    content: str | list[Any]
    type: str = "generic"
    name: str | None = None
    id: str | None = None
    additional_kwargs: dict[str, Any] = field(default_factory=dict)
    response_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        parts = (p if isinstance(p, str) else p.get("text", "") for p in self.content)
        return "".join(parts)


@dataclass
class HumanMessage(BaseMessage):
    type: str = "human"


@dataclass
class SystemMessage(BaseMessage):
    type: str = "system"


@dataclass
class AIMessage(BaseMessage):
    type: str = "ai"
    #: ``[{"name", "args", "id", "type": "tool_call"}]`` as in LangChain.
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    #: ``{"input_tokens", "output_tokens", "total_tokens", "input_token_details",
    #: "output_token_details"}`` as in LangChain.
    usage_metadata: dict[str, Any] | None = None


@dataclass
class ToolMessage(BaseMessage):
    type: str = "tool"
    tool_call_id: str = ""


_ROLE_PREFIX = {"human": "Human", "ai": "AI", "system": "System", "tool": "Tool"}


def get_buffer_string(messages: Sequence[Any]) -> str:
    """Render chat messages as one prompt string, as LangChain does.

    Used when a handler has no ``on_chat_model_start``: it then gets
    ``on_llm_start`` with this string as the prompt.
    """
    lines = []
    for m in messages:
        prefix = _ROLE_PREFIX.get(getattr(m, "type", ""), getattr(m, "type", "Message"))
        content = getattr(m, "text", None)
        if not isinstance(content, str):
            content = str(getattr(m, "content", m))
        lines.append(f"{prefix}: {content}")
    return "\n".join(lines)


@dataclass
class Generation:
    text: str
    generation_info: dict[str, Any] | None = None
    type: str = "Generation"


@dataclass
class GenerationChunk(Generation):
    type: str = "GenerationChunk"


@dataclass
class ChatGeneration(Generation):
    text: str = ""
    message: BaseMessage = field(default_factory=lambda: AIMessage(content=""))
    type: str = "ChatGeneration"

    def __post_init__(self) -> None:
        if not self.text:
            self.text = self.message.text


@dataclass
class ChatGenerationChunk(ChatGeneration):
    type: str = "ChatGenerationChunk"


class TextChunk(ChatGenerationChunk):
    """``ChatGenerationChunk(text=t, message=AIMessage(content=t))`` with the message built
    when first read.

    Streams emit one chunk per token and most handlers read only ``token``:
    building two dataclasses per token was a visible share of a stream's CPU.
    Compares equal to, and prints as, the plain ``ChatGenerationChunk``.
    """

    def __init__(self, text: str) -> None:  # not the dataclass __init__: no message yet
        self.__dict__["text"] = text

    @property
    def message(self) -> BaseMessage:
        message: BaseMessage | None = self.__dict__.get("_message")
        if message is None:
            message = self.__dict__["_message"] = AIMessage(content=self.text)
        return message

    @message.setter
    def message(self, value: BaseMessage) -> None:
        self.__dict__["_message"] = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChatGenerationChunk):
            return NotImplemented
        return (self.text, self.generation_info, self.message, self.type) == (
            other.text, other.generation_info, other.message, other.type)

    __hash__ = None  # type: ignore[assignment]  # equal to mutable dataclasses

    def __repr__(self) -> str:
        return "ChatGenerationChunk(" + ChatGenerationChunk.__repr__(self).partition("(")[2]


@dataclass
class LLMResult:
    """The outcome of one LLM run: one list of generations per prompt.

    ``llm_output`` carries provider data: ``token_usage`` (OpenAI field names:
    ``prompt_tokens``, ``completion_tokens``, ``total_tokens``,
    ``prompt_tokens_details``, ``completion_tokens_details``), ``model_name``,
    and, from our instrumentation, ``id`` and ``system_fingerprint``.
    """

    generations: list[list[Generation]]
    llm_output: dict[str, Any] | None = None


@dataclass
class Document:
    page_content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass
class AgentAction:
    tool: str
    tool_input: str | dict[str, Any]
    log: str = ""


@dataclass
class AgentFinish:
    return_values: dict[str, Any]
    log: str = ""
