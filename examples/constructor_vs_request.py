"""Constructor callbacks vs request callbacks (the seed's table), on a real LangChain chain.

Constructor callbacks (``ChatOpenAI(callbacks=...)``) see only the runs of the object they
were given to; request callbacks (``invoke(..., config={"callbacks": ...})``) see every run
of that call, the chain's children included. Our handlers ride in a LangChainCallbackHandler
either way.

    python examples/constructor_vs_request.py

Model: see _setup.py (embedded model server unless OPENAI_API_KEY is set).
"""

from typing import Any

from _setup import chat_model
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate

from otel_llm.callbacks import BaseCallbackHandler
from otel_llm.integrations.langchain import LangChainCallbackHandler


class Tell(BaseCallbackHandler):
    """Says which runs it sees."""

    def __init__(self, who: str) -> None:
        self.who = who

    def on_chain_start(self, serialized: dict[str, Any], inputs: Any, **kw: Any) -> None:
        print(f"[{self.who}] chain {kw.get('name')} started (run ...{str(kw['run_id'])[-6:]})")

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, **kw: Any) -> None:
        print(f"[{self.who}] model started (parent run ...{str(kw['parent_run_id'])[-6:]})")

    def on_llm_end(self, response: Any, **kw: Any) -> None:
        print(f"[{self.who}] model answered {response.generations[0][0].text!r}")


llm = chat_model(callbacks=[LangChainCallbackHandler([Tell("constructor")])])
chain = PromptTemplate.from_template("2 + {number} = ") | llm | StrOutputParser()

print("--- constructor callbacks only: the model's run, not the chain's")
chain.invoke({"number": 2})

print("--- plus request callbacks: every run of this call, the model included")
chain.invoke({"number": 2}, config={"callbacks": [LangChainCallbackHandler([Tell("request")])]})
