"""The seed's flower-shop handlers: a sync handler prints each streamed token, an async one
pretends to fetch flower data before the answer and to thank the customer after it.

The handlers are the seed's, imports changed to otel_llm.callbacks. LangChain's callbacks=
takes LangChain handlers, so ours ride in one AsyncLangChainCallbackHandler (the forwarder
for async code: our async handlers are awaited on this event loop).

    python examples/04_flower_shop_streaming.py

Model and telemetry: see _setup.py (embedded model server unless OPENAI_API_KEY is set).
"""

import asyncio
from typing import Any, Dict, List  # kept as in the seed

from _setup import chat_model
from langchain_core.messages import HumanMessage
from langchain_core.outputs import LLMResult

from otel_llm import OpenTelemetryCallbackHandler
from otel_llm.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.integrations.langchain import AsyncLangChainCallbackHandler


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
    flower_shop_chat = chat_model(
        max_tokens=100,
        streaming=True,
        callbacks=[AsyncLangChainCallbackHandler([
            MyFlowerShopSyncHandler(),
            MyFlowerShopAsyncHandler(),
            OpenTelemetryCallbackHandler(),  # spans and metrics, exported when configured
        ])],
    )
    # 异步生成聊天回复 (generate the chat reply asynchronously)
    # "Which flowers suit a birthday best? Just name 3, in under 50 characters."
    await flower_shop_chat.agenerate([[HumanMessage(content="哪种花卉最适合生日?只简单说3种,不超过50字")]])


# 运行主异步函数 (run the main async function)
asyncio.run(main())
