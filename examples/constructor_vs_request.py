"""Constructor callbacks vs request callbacks (the LangChain callbacks tutorial's table), on a
real LangChain chain.

Constructor callbacks (``ChatOpenAI(callbacks=...)``) see only the runs of the object they
were given to; request callbacks (``invoke(..., config={"callbacks": ...})``) see every run
of that call, the chain's children included. Our handlers go in either place as they are.

    python examples/constructor_vs_request.py

The model: with OPENAI_API_KEY and/or OPENAI_BASE_URL set, the OpenAI API or your server;
otherwise the embedded model server.
"""

import os
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate
from langchain_openai import ChatOpenAI

from otel_llm.callbacks import BaseCallbackHandler
from otel_llm.devserver import ModelServer

if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")):
    server = ModelServer().start()  # the embedded server, stopped when the process exits
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-embedded"


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


llm = ChatOpenAI(model="gpt-4o-mini", callbacks=[Tell("constructor")])
chain = PromptTemplate.from_template("2 + {number} = ") | llm | StrOutputParser()

print("--- constructor callbacks only: the model's run, not the chain's")
chain.invoke({"number": 2})

print("--- plus request callbacks: every run of this call, the model included")
chain.invoke({"number": 2}, config={"callbacks": [Tell("request")]})
