"""Small real LangChain components for the tests: a retriever, a tool, a RAG + tool chain."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from langchain_core.tools import tool


class FlowerRetriever(BaseRetriever):
    """Two documents that mention the query."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [Document(page_content=f"{query} come in red and white", metadata={"id": 1}),
                Document(page_content=f"{query} cost 3 USD a stem", metadata={"id": 2})]


@tool
def flower_price(flower: str) -> str:
    """The price of one stem of a flower, in USD."""
    return f"{flower}: 3.50"


PROMPT = ChatPromptTemplate.from_messages(
    [("system", "Answer from this context: {context}"), ("user", "{question}")]
)


def _format_docs(docs: list[Document]) -> str:
    return "\n".join(d.page_content for d in docs)


def _run_tools(message: AIMessage) -> list[ToolMessage]:
    return [flower_price.invoke(call) for call in message.tool_calls]


def rag_tool_chain(model: Any) -> Runnable[Any, Any]:
    """retriever -> prompt -> model with a tool -> the tool calls it asked for."""
    return (
        {"context": FlowerRetriever() | RunnableLambda(_format_docs).with_config(
            run_name="format_docs"), "question": RunnablePassthrough()}
        | PROMPT
        | model.bind_tools([flower_price])
        | RunnableLambda(_run_tools).with_config(run_name="run_tools")
    )


def prompt_model_parser(model: Any) -> Runnable[Any, str]:
    prompt = ChatPromptTemplate.from_messages([("user", "Tell me about {topic}")])
    return prompt | model | StrOutputParser()
