"""Constructor callbacks vs request callbacks, side by side.

Constructor (local) callbacks see only the component they were given to;
request (inheritable) callbacks see the whole call, children included.

    python examples/constructor_vs_request.py
"""

from typing import Any

from otel_llm.callbacks import BaseCallbackHandler
from otel_llm.testing.fake import FakeChain, FakeChatModel


class Tell(BaseCallbackHandler):
    def __init__(self, who: str) -> None:
        self.who = who

    def on_chain_start(self, serialized: dict[str, Any], inputs: dict[str, Any], **kw: Any) -> None:
        print(f"[{self.who}] chain started with {inputs}")

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, **kw: Any) -> None:
        print(f"[{self.who}] model started (parent run {str(kw['parent_run_id'])[:8]})")

    def on_chain_end(self, outputs: dict[str, Any], **kw: Any) -> None:
        print(f"[{self.who}] chain ended: {outputs}")


chain = FakeChain(FakeChatModel(["4"]), "2 + {number} = ", callbacks=[Tell("constructor")])

print("--- constructor callbacks only: the chain's runs, not the model's")
chain.run(number=2)

print("--- plus request callbacks: every run of this call, the model included")
chain.run(number=2, callbacks=[Tell("request")])
