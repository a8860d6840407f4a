"""The tutorial's concurrent token count: three llm.agenerate calls under asyncio.gather.

    python examples/06_gather_token_count.py

The tutorial's code with today's imports; get_openai_callback() counts the three calls, made
in three asyncio tasks, with no setup. The model: with OPENAI_API_KEY and/or OPENAI_BASE_URL
set, the OpenAI API or your server; otherwise the embedded model server.
"""

import asyncio
import os

from langchain_openai import OpenAI

from otel_llm import get_openai_callback
from otel_llm.devserver import ModelServer

if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")):
    server = ModelServer().start()  # the embedded server, stopped when the process exits
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-embedded"

# text-davinci-003 is retired: its successor
llm = OpenAI(temperature=0.5, model_name="gpt-3.5-turbo-instruct")


# 进行更多的异步交互和token计数 (more asynchronous interactions, and their token count)
async def additional_interactions():
    with get_openai_callback() as cb:
        await asyncio.gather(
            # "What colour of flowers does my sister like?"
            *[llm.agenerate(["我姐姐喜欢什么颜色的花?"]) for _ in range(3)]
        )
    print("\n另外的交互中使用的tokens:", cb.total_tokens)  # "tokens used by these interactions"
    print(f"Prompt Tokens: {cb.prompt_tokens}")
    print(f"Completion Tokens: {cb.completion_tokens}")
    print(f"Requests: {cb.successful_requests}")


# 运行异步函数 (run the async function)
asyncio.run(additional_interactions())
