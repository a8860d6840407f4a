"""The seed's FileCallbackHandler sample: a prompt chain logged to stdout and to "output.log".

    python examples/03_file_and_stdout_logging.py [output.log]

Model and telemetry: see _setup.py (embedded model server unless OPENAI_API_KEY is set).
"""

import logging
import sys

from _setup import chat_model
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import PromptTemplate

from otel_llm import OpenTelemetryCallbackHandler
from otel_llm.callbacks import FileCallbackHandler, StdOutCallbackHandler
from otel_llm.integrations.langchain import LangChainCallbackHandler

logfile = sys.argv[1] if len(sys.argv) > 1 else "output.log"
# The seed used loguru (logger.add(logfile)): its lines go to stderr and to the log file.
# loguru is not a dependency, so the standard library's logging does the same here.
logger = logging.getLogger("chain_logging")
logger.setLevel(logging.INFO)
for sink in (logging.StreamHandler(), logging.FileHandler(logfile, encoding="utf-8")):
    sink.setFormatter(logging.Formatter("%(asctime)s | %(levelname)s | %(message)s"))
    logger.addHandler(sink)

handler = FileCallbackHandler(logfile)
llm = chat_model()  # the seed's OpenAI(): a completion model then, a chat model now
prompt = PromptTemplate.from_template("1 + {number} = ")

# LLMChain(llm=llm, prompt=prompt, callbacks=[handler], verbose=True), today: `prompt | llm`
# (+ StrOutputParser: the answer as text, as chain.run returned it) with the callbacks passed
# to every run of the call (so the model's run is logged too). LCEL has no verbose=True, which
# meant "add a StdOutCallbackHandler": we add ours. Our handlers ride in one forwarder, a
# LangChain handler; OpenTelemetryCallbackHandler exports spans when _setup configured OTLP.
# this chain will both print to stdout (StdOutCallbackHandler) and write to the log file
# without StdOutCallbackHandler, the FileCallbackHandler will still write to the log file
chain = (prompt | llm | StrOutputParser()).with_config(callbacks=[LangChainCallbackHandler(
    [handler, StdOutCallbackHandler(), OpenTelemetryCallbackHandler()])])
answer = chain.invoke({"number": 2})
logger.info(answer)
