"""The tutorial's FileCallbackHandler sample: a verbose LLMChain logged to stdout and "output.log".

    python examples/03_file_and_stdout_logging.py [output.log]

The model: with OPENAI_API_KEY and/or OPENAI_BASE_URL set, the OpenAI API or your
OpenAI-compatible server; otherwise otel-llm's embedded model server, started here (no key,
no network). The code is the tutorial's with the imports of today's packages: LLMChain from
langchain-classic, OpenAI from langchain-openai, FileCallbackHandler from otel_llm.callbacks.
"""

import os
import sys

from langchain_classic.chains import LLMChain
from langchain_core.prompts import PromptTemplate
from langchain_openai import OpenAI
from loguru import logger

from otel_llm import get_openai_callback
from otel_llm.callbacks import FileCallbackHandler
from otel_llm.devserver import ModelServer

if not (os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")):
    server = ModelServer().start()  # the embedded server, stopped when the process exits
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = "sk-embedded"

logfile = sys.argv[1] if len(sys.argv) > 1 else "output.log"

logger.add(logfile, colorize=True, enqueue=True)
handler = FileCallbackHandler(logfile)

# The tutorial's OpenAI() defaulted to text-davinci-003, retired since: its successor.
llm = OpenAI(model="gpt-3.5-turbo-instruct")
prompt = PromptTemplate.from_template("1 + {number} = ")

# this chain will both print to stdout (because verbose=True) and write to 'output.log'
# if verbose=False, the FileCallbackHandler will still write to 'output.log'
chain = LLMChain(llm=llm, prompt=prompt, callbacks=[handler], verbose=True)
with get_openai_callback() as cb:  # not in the tutorial: the tokens the call used
    answer = chain.invoke({"number": 2})["text"]  # chain.run(number=2) is deprecated
logger.info(answer)
logger.complete()  # enqueue=True: wait until the line is in the file
print(f"Total Tokens: {cb.total_tokens}")
print(f"Prompt Tokens: {cb.prompt_tokens}")
print(f"Completion Tokens: {cb.completion_tokens}")
