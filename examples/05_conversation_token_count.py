"""The tutorial's token counter: a three-turn ConversationChain with memory in get_openai_callback().

    python examples/05_conversation_token_count.py

The tutorial's code with today's imports: OpenAI from langchain-openai, ConversationChain and
ConversationBufferMemory from langchain-classic, get_openai_callback from otel_llm (it counts
LangChain's runs with no setup). The model: with OPENAI_API_KEY and/or OPENAI_BASE_URL set,
the OpenAI API or your server; otherwise the embedded model server.
"""

import os

from langchain_classic.chains import ConversationChain
from langchain_classic.memory import ConversationBufferMemory
from langchain_openai import OpenAI

from otel_llm import get_openai_callback
from otel_llm.devserver import ModelServer

if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")):
    server = ModelServer().start()  # the embedded server, stopped when the process exits
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-embedded"

# 初始化大语言模型 (the LLM; text-davinci-003 is retired: its successor)
llm = OpenAI(temperature=0.5, model_name="gpt-3.5-turbo-instruct")

# 初始化对话链 (the conversation chain)
conversation = ConversationChain(
    llm=llm,
    memory=ConversationBufferMemory()
)

# 使用context manager进行token counting (count tokens with the context manager)
with get_openai_callback() as cb:
    # 第一天的对话 (day one)
    # 回合1 (turn 1: "My sister's birthday is tomorrow, I need a birthday bouquet.")
    conversation.invoke("我姐姐明天要过生日,我需要一束生日花束。")  # conversation(...) is deprecated
    print("第一次对话后的记忆:", conversation.memory.buffer)  # "memory after turn 1"

    # 回合2 (turn 2: "She likes pink roses, the colour is pink.")
    conversation.invoke("她喜欢粉色玫瑰,颜色是粉色的。")
    print("第二次对话后的记忆:", conversation.memory.buffer)

    # 回合3 (第二天的对话) (turn 3, the next day: "I'm back, remember why I came for flowers?")
    conversation.invoke("我又来了,还记得我昨天为什么要来买花吗?")
    print("\n第三次对话后时提示:\n", conversation.prompt.template)  # "the prompt after turn 3"
    print("\n第三次对话后的记忆:\n", conversation.memory.buffer)

# 输出使用的tokens (the tokens used)
print("\n总计使用的tokens:", cb.total_tokens)  # "total tokens used"
print(f"Prompt Tokens: {cb.prompt_tokens}")
print(f"Completion Tokens: {cb.completion_tokens}")
