"""The tutorial's flower-shop handlers: a sync handler prints each streamed token, an async one
pretends to fetch flower data before the answer and to thank the customer after it.

    python examples/04_flower_shop_streaming.py

The handlers are the tutorial's with imports from otel_llm.callbacks; they go straight into
ChatOpenAI(callbacks=[...]), as LangChain's own would. The model: with OPENAI_API_KEY and/or
OPENAI_BASE_URL set, the OpenAI API or your server; otherwise the embedded model server.
"""

import asyncio
import os
from typing import Any, Dict, List  # kept as in the tutorial

from langchain_core.messages import HumanMessage
from langchain_core.outputs import LLMResult
from langchain_openai import ChatOpenAI

from otel_llm import get_openai_callback
from otel_llm.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.devserver import ModelServer

if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")):
    server = ModelServer().start()  # the embedded server, stopped when the process exits
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-embedded"


# 创建同步回调处理器 (a sync handler)
class MyFlowerShopSyncHandler(BaseCallbackHandler):
    def on_llm_new_token(self, token: str, **kwargs) -> None:
        print(f"获取花卉数据: token: {token}")  # "getting flower data: token: ..."


# 创建异步回调处理器 (an async handler)
class MyFlowerShopAsyncHandler(AsyncCallbackHandler):
    async def on_llm_start(
        self, serialized: Dict[str, Any], prompts: List[str], **kwargs: Any
    ) -> None:
        print("正在获取花卉数据...")  # "fetching flower data..."
        await asyncio.sleep(0.5)  # 模拟异步操作 (a pretend asynchronous operation)
        print("花卉数据获取完毕。提供建议...")  # "flower data ready, making suggestions..."

    async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        print("整理花卉建议...")  # "putting the suggestions together..."
        await asyncio.sleep(0.5)  # 模拟异步操作
        print("祝你今天愉快!")  # "have a nice day!"


# 主要的异步函数 (the main async function)
async def main():
    flower_shop_chat = ChatOpenAI(
        model="gpt-4o-mini",  # the tutorial relied on the default model of its day
        max_tokens=100,
        streaming=True,
        callbacks=[MyFlowerShopSyncHandler(), MyFlowerShopAsyncHandler()],
    )
    with get_openai_callback() as cb:  # not in the tutorial: the tokens the call used
        # 异步生成聊天回复 (generate the chat reply asynchronously)
        # "Which flowers suit a birthday best? Just name 3, in under 50 characters."
        await flower_shop_chat.agenerate([[HumanMessage(content="哪种花卉最适合生日?只简单说3种,不超过50字")]])
    print(f"Total Tokens: {cb.total_tokens}")
    print(f"Prompt Tokens: {cb.prompt_tokens}")
    print(f"Completion Tokens: {cb.completion_tokens}")


# 运行主异步函数 (run the main async function)
asyncio.run(main())
