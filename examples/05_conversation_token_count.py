"""The seed's token counter: a three-turn conversation with memory inside get_openai_callback().

Every turn sends the whole conversation so far, so the prompt grows turn by turn: the
counter shows what that memory costs.

    python examples/05_conversation_token_count.py

Model and telemetry: see _setup.py (embedded model server unless OPENAI_API_KEY is set).
"""

from _setup import chat_model
from langchain_core.messages import BaseMessage, HumanMessage, get_buffer_string
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from otel_llm import get_openai_callback
from otel_llm.integrations.langchain import instrument_langchain

# Every LangChain run reaches our handlers: spans and metrics (exported when _setup configured
# OTLP) and the get_openai_callback() counters.
instrument_langchain()

# 初始化大语言模型 (the LLM; the seed's text-davinci-003 is retired: gpt-4o-mini by default)
llm = chat_model(temperature=0.5)

# 初始化对话链 (the conversation chain)
# ConversationChain and ConversationBufferMemory are not in LangChain 1.x, and their successor
# RunnableWithMessageHistory is deprecated (for LangGraph persistence). What they did is small:
# the memory is the list of messages so far, sent with ConversationChain's prompt every turn.
memory: list[BaseMessage] = []
prompt = ChatPromptTemplate.from_messages([
    ("system", "The following is a friendly conversation between a human and an AI. The AI is "
               "talkative and provides lots of specific details from its context. If the AI does "
               "not know the answer to a question, it truthfully says it does not know."),
    MessagesPlaceholder("history"),
    ("human", "{input}"),
])
chain = (prompt | llm).with_config(run_name="conversation")


def conversation(text: str) -> str:
    """One turn, as the seed's conversation("..."): the answer, with both messages remembered."""
    answer = chain.invoke({"history": memory, "input": text})
    memory.extend([HumanMessage(text), answer])
    return answer.text


# 使用context manager进行token counting (count tokens with the context manager)
with get_openai_callback() as cb:
    # 第一天的对话 (day one)
    # 回合1 (turn 1: "My sister's birthday is tomorrow, I need a birthday bouquet.")
    conversation("我姐姐明天要过生日,我需要一束生日花束。")
    # memory.buffer of ConversationBufferMemory was this "Human: ...\nAI: ..." text
    print("第一次对话后的记忆:", get_buffer_string(memory))  # "memory after turn 1"

    # 回合2 (turn 2: "She likes pink roses, the colour is pink.")
    conversation("她喜欢粉色玫瑰,颜色是粉色的。")
    print("第二次对话后的记忆:", get_buffer_string(memory))

    # 回合3 (第二天的对话) (turn 3, the next day: "I'm back, remember why I came for flowers?")
    conversation("我又来了,还记得我昨天为什么要来买花吗?")
    print("\n第三次对话后时提示:\n", prompt.pretty_repr())  # "the prompt after turn 3"
    print("\n第三次对话后的记忆:\n", get_buffer_string(memory))

# 输出使用的tokens (the tokens used)
print("\n总计使用的tokens:", cb.total_tokens)  # "total tokens used"
print(f"Total Tokens: {cb.total_tokens}")
print(f"Prompt Tokens: {cb.prompt_tokens}")
print(f"Completion Tokens: {cb.completion_tokens}")
print("Total Cost (USD):", "unknown" if cb.total_cost is None else f"${cb.total_cost:.6f}")
