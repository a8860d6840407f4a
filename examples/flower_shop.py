"""The seed's flower-shop handlers: a sync token handler and an async start/end handler.

Ported from the LangChain tutorial by changing the imports only. The model is
otel_llm's scripted fake chat model (no API key, no network).

    python examples/flower_shop.py
"""

import asyncio
from typing import Any, Dict, List  # kept as in the seed

from otel_llm.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from otel_llm.schema import HumanMessage, LLMResult
from otel_llm.testing.fake import FakeChatModel


# 创建同步回调处理器 (sync handler)
class MyFlowerShopSyncHandler(BaseCallbackHandler):
    def on_llm_new_token(self, token: str, **kwargs) -> None:
        print(f"获取花卉数据: token: {token}")


# 创建异步回调处理器 (async handler)
class MyFlowerShopAsyncHandler(AsyncCallbackHandler):
    async def on_llm_start(
        self, serialized: Dict[str, Any], prompts: List[str], **kwargs: Any
    ) -> None:
        print("正在获取花卉数据...")
        await asyncio.sleep(0.5)  # 模拟异步操作
        print("花卉数据获取完毕。提供建议...")

    async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        print("整理花卉建议...")
        await asyncio.sleep(0.5)  # 模拟异步操作
        print("祝你今天愉快!")


async def main() -> None:
    flower_shop_chat = FakeChatModel(
        ["玫瑰、百合、向日葵。"],
        streaming=True,
        callbacks=[MyFlowerShopSyncHandler(), MyFlowerShopAsyncHandler()],
    )
    # 异步生成聊天回复
    await flower_shop_chat.agenerate(
        [[HumanMessage(content="哪种花卉最适合生日?只简单说3种,不超过50字")]]
    )


if __name__ == "__main__":
    asyncio.run(main())
