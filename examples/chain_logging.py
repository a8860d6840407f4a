"""The seed's chain logging: stdout (verbose=True) and a log file at once.

The chain's constructor callbacks hold a FileCallbackHandler; verbose=True adds
the stdout handler. The seed used loguru for its own lines; plain logging here.

    python examples/chain_logging.py [output.log]
"""

import logging
import sys

from otel_llm.callbacks import FileCallbackHandler
from otel_llm.testing.fake import FakeChain, FakeChatModel

logfile = sys.argv[1] if len(sys.argv) > 1 else "output.log"
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s",
                    handlers=[logging.StreamHandler(sys.stdout),
                              logging.FileHandler(logfile, encoding="utf-8")])
logger = logging.getLogger("chain_logging")

with FileCallbackHandler(logfile) as handler:
    llm = FakeChatModel(["3"])
    # this chain will both print to stdout (because verbose=True) and write to the log file
    # if verbose=False, the FileCallbackHandler will still write to the log file
    chain = FakeChain(llm, "1 + {number} = ", callbacks=[handler], verbose=True)
    answer = chain.run(number=2)
    logger.info(answer)
