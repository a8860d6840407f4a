"""The seed's concurrent token count: three calls under asyncio.gather in one counter.

The calls stream. langchain-openai asks for usage in the stream only on OpenAI's own URL, so
on the embedded server (or any other base URL) the streams carry none: the counter then
counts their tokens with tiktoken, the same numbers the server reports when asked.

    python examples/06_gather_token_count.py

Model and telemetry: see _setup.py (embedded model server unless OPENAI_API_KEY is set).
"""

import asyncio

from _setup import chat_model

from otel_llm import get_openai_callback
from otel_llm.integrations.langchain import instrument_langchain

# Every LangChain run reaches our handlers: spans and metrics (exported when _setup configured
# OTLP) and the get_openai_callback() counters, in every task asyncio.gather starts.
instrument_langchain()

llm = chat_model(temperature=0.5, streaming=True)


# 进行更多的异步交互和token计数 (more asynchronous interactions, and their token count)
async def additional_interactions():
    with get_openai_callback() as cb:
        await asyncio.gather(
            # "What colour of flowers does my sister like?"
            *[llm.ainvoke("我姐姐喜欢什么颜色的花?") for _ in range(3)]
        )
    print("\n另外的交互中使用的tokens:", cb.total_tokens)  # "tokens used by these interactions"
    print(f"Total Tokens: {cb.total_tokens}")
    print(f"Prompt Tokens: {cb.prompt_tokens}")
    print(f"Completion Tokens: {cb.completion_tokens}")
    print("Total Cost (USD):", "unknown" if cb.total_cost is None else f"${cb.total_cost:.6f}")
    print(f"Requests: {cb.successful_requests} ({cb.estimated_requests} counted with tiktoken)")


# 运行异步函数 (run the async function)
asyncio.run(additional_interactions())
