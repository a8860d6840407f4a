"""Every example script runs as a user runs it and prints what the LangChain callbacks tutorial
promises, with token totals equal to the model server's reported usage.

Each script is a subprocess with no OPENAI_* / OTEL_* variable, so the LLM examples start
the embedded model server in their own process. To check numbers against the server, the
LLM examples also run against a devserver owned by the test (``OPENAI_BASE_URL``): the
requests it received are replayed to a fresh devserver with usage switched on, and the
answers and usage it reports are what the printed tokens, memory and totals must equal
(those runs must print exactly what the embedded-server runs printed). All runs start at
once, four at a time.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from otel_llm.devserver import ModelServer, RecordedRequest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FLOWER_QUESTION = "哪种花卉最适合生日?只简单说3种,不超过50字"
TURNS = ("我姐姐明天要过生日,我需要一束生日花束。", "她喜欢粉色玫瑰,颜色是粉色的。",
         "我又来了,还记得我昨天为什么要来买花吗?")
TOKEN = "获取花卉数据: token: "
_ENV_PREFIXES = ("OPENAI_", "OTEL_", "LANGCHAIN_", "LANGSMITH_")


@dataclass
class Run:
    out: str
    err: str
    server: ModelServer | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def requests(self, path: str) -> list[RecordedRequest]:
        assert self.server is not None
        return [r for r in self.server.requests if r.path.endswith(path)]


@dataclass(frozen=True)
class Reply:
    """What a fresh devserver answers to a request, with usage switched on."""

    text: str
    prompt: int
    completion: int


def replay(requests: list[RecordedRequest]) -> list[Reply]:
    """The server's answers and reported usage for these (chat or text completion) requests."""
    replies = []
    with ModelServer() as fresh:
        for request in requests:
            body: dict[str, Any] = dict(request.body)
            chat = request.path.endswith("/chat/completions")
            if body.get("stream"):
                body["stream_options"] = {"include_usage": True}
            path = "/chat/completions" if chat else "/completions"
            sent = urllib.request.Request(
                f"{fresh.base_url}{path}", data=json.dumps(body).encode(),
                headers={"content-type": "application/json", "authorization": "Bearer sk-x"})
            with urllib.request.urlopen(sent, timeout=10) as answer:
                raw = answer.read().decode()
            if body.get("stream"):
                chunks = [json.loads(line[6:]) for line in raw.splitlines()
                          if line.startswith("data: {")]
                text = "".join((c["choices"][0]["delta"].get("content") or "") if chat
                               else c["choices"][0]["text"] for c in chunks if c["choices"])
                usage = next(c["usage"] for c in chunks if c.get("usage"))
            else:
                reply = json.loads(raw)
                first = reply["choices"][0]
                text, usage = first["message"]["content"] if chat else first["text"], reply["usage"]
            replies.append(Reply(text, usage["prompt_tokens"], usage["completion_tokens"]))
    return replies


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}
    return env | {"PYTHONIOENCODING": "utf-8"} | extra


def _execute(script: str, args: list[str], env: dict[str, str], cwd: Path) -> tuple[str, str]:
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, encoding="utf-8", timeout=120, env=env, cwd=cwd)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stderr}"
    return proc.stdout, proc.stderr


class Runs:
    """Runs started in the background; ``get`` waits for one."""

    def __init__(self, pool: ThreadPoolExecutor, cwd: Path) -> None:
        self._pool, self._cwd = pool, cwd
        self._runs: dict[str, tuple[Future[tuple[str, str]], Run]] = {}

    def start(self, key: str, script: str, *args: str, server: ModelServer | None = None,
              **files: Path) -> None:
        extra = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"} if server else {}
        job = self._pool.submit(_execute, script, list(args), _env(**extra), self._cwd)
        self._runs[key] = (job, Run("", "", server, files))

    def get(self, key: str) -> Run:
        job, run = self._runs[key]
        run.out, run.err = job.result()
        return run


LLM_EXAMPLES = {"03": "03_file_and_stdout_logging.py", "04": "04_flower_shop_streaming.py",
                "05": "05_conversation_token_count.py", "06": "06_gather_token_count.py"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    cwd = tmp_path_factory.mktemp("examples")
    with ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=4))
        r = Runs(pool, cwd)
        for name, script in LLM_EXAMPLES.items():  # slowest first: they stream, sleep, chat
            own = stack.enter_context(ModelServer())
            args = [str(cwd / f"{name}-own.log")] if name == "03" else []
            r.start(f"{name}-own", script, *args, server=own, log=cwd / f"{name}-own.log")
            args = [str(cwd / f"{name}.log")] if name == "03" else []
            r.start(name, script, *args, log=cwd / f"{name}.log")
        r.start("cvr", "constructor_vs_request.py")
        r.start("02", "02_asyncio_callback.py")
        r.start("01", "01_callback_basics.py")
        yield r


# --- plain Python ---------------------------------------------------------------------------

def test_callback_basics_calls_each_callback_with_the_result(runs: Runs) -> None:
    """compute(3, 4, cb) hands 7 to print_result, then to square_result."""
    assert runs.get("01").lines == ["The result is: 7", "The squared result is: 49"]


def test_asyncio_callback_runs_another_task_while_compute_awaits(runs: Runs) -> None:
    """Both tasks start before either ends; the callback fires when compute's sleep is over."""
    assert runs.get("02").lines == [
        "Main starts...", "Starting compute...", "Starting another task...",
        "The result is: 7", "Finished compute...", "Finished another task...", "Main ends..."]


# --- LangChain on the model server ----------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DURATION = re.compile(r" \(\d+\.\d+s\)")


def _totals(lines: list[str], replies: list[Reply]) -> None:
    """The last two lines: the counter's prompt and completion tokens, the server's usage."""
    prompt, completion = sum(r.prompt for r in replies), sum(r.completion for r in replies)
    assert lines[-2:] == [f"Prompt Tokens: {prompt}", f"Completion Tokens: {completion}"]


def test_verbose_llm_chain_logs_to_stdout_and_file_and_counts_the_servers_tokens(
        runs: Runs) -> None:
    """LLMChain(callbacks=[FileCallbackHandler], verbose=True) on a completion model: LangChain's
    verbose log goes to stdout, our handler writes the chain's log to the file, loguru's answer
    line goes to stderr and the file; the counter's totals are the server's usage."""
    run = runs.get("03-own")
    [request] = run.requests("/completions")
    assert request.body["prompt"] == ["1 + 2 = "] and request.body["model"] == \
        "gpt-3.5-turbo-instruct"
    [reply] = replay([request])
    printed = [_ANSI.sub("", line) for line in run.lines if line]
    assert printed[:3] == ["> Entering new LLMChain chain...", "Prompt after formatting:",
                           "1 + 2 = "]
    assert printed[3] == "> Finished chain."
    assert printed[4] == f"Total Tokens: {reply.prompt + reply.completion}"
    _totals(printed, [reply])
    written = [_ANSI.sub("", line) for line in
               run.files["log"].read_text(encoding="utf-8").splitlines() if line]
    assert [_DURATION.sub("", x) for x in written[:4]] == printed[:4]
    answer = reply.text.strip()
    assert written[4].endswith(f"- {answer}"), written[4]
    assert any(_ANSI.sub("", line).endswith(f"- {answer}") for line in run.err.splitlines())
    assert runs.get("03").out == run.out, "the embedded server must behave the same"


def test_constructor_callbacks_see_the_model_request_callbacks_see_every_run(
        runs: Runs) -> None:
    """The model's constructor handler sees only its own run (under the chain), in both
    calls; the request handler sees the chain, its steps and the model."""
    out = runs.get("cvr").out
    first, second = out.split("--- plus request callbacks")
    assert "[request]" not in first and "[constructor] chain" not in out
    assert "[constructor] model started (parent run ..." in first
    assert "[constructor] model answered '4'" in first
    chain_run = re.search(r"\[request\] chain RunnableSequence started \(run \.\.\.(\w+)\)", second)
    assert chain_run, second
    for who in ("request", "constructor"):
        assert f"[{who}] model started (parent run ...{chain_run[1]})" in second
        assert f"[{who}] model answered '4'" in second
    assert "[request] chain PromptTemplate started" in second
    assert "[request] chain StrOutputParser started" in second


def test_flower_shop_prints_the_streamed_answer_between_the_async_handlers_messages(
        runs: Runs) -> None:
    """Our sync and async handlers passed to ChatOpenAI(streaming=True) as they are: async
    on_llm_start's two lines, one line per streamed token, async on_llm_end's two lines; the
    tokens joined are the server's answer, and the totals (a stream without usage, counted
    with tiktoken) are the usage the server reports for it."""
    run = runs.get("04-own")
    assert run.lines[:2] == ["正在获取花卉数据...", "花卉数据获取完毕。提供建议..."]
    assert run.lines[-5:-3] == ["整理花卉建议...", "祝你今天愉快!"]
    middle = run.lines[2:-5]
    assert all(line.startswith(TOKEN) for line in middle), middle
    [request] = run.requests("/chat/completions")
    assert request.body["stream"] is True and request.body["max_completion_tokens"] == 100
    assert request.body["messages"] == [{"role": "user", "content": FLOWER_QUESTION}]
    [reply] = replay([request])
    assert "".join(line.removeprefix(TOKEN) for line in middle) == reply.text
    assert len([line for line in middle if line != TOKEN]) > 5, "streamed in several chunks"
    assert run.lines[-3] == f"Total Tokens: {reply.prompt + reply.completion}"
    _totals(run.lines, [reply])
    assert runs.get("04").out == run.out, "the embedded server must behave the same"


def test_conversation_memory_and_token_count_equal_the_servers(runs: Runs) -> None:
    """ConversationChain with ConversationBufferMemory inside get_openai_callback(): each turn
    sends the memory so far; the memory printed is the server's answers; the counter's totals
    are the server's usage of the three requests."""
    run = runs.get("05-own")
    requests = run.requests("/completions")
    assert len(requests) == 3
    prompts = [r.body["prompt"][0] for r in requests]
    for turn, prompt in zip(TURNS, prompts, strict=True):
        assert prompt.endswith(f"Human: {turn}\nAI:")
    replies = replay(requests)
    memory = "\n".join(f"Human: {t}\nAI: {r.text}"
                       for t, r in zip(TURNS, replies, strict=True))
    assert f"Human: {TURNS[0]}\nAI: {replies[0].text}\nHuman: {TURNS[1]}" in prompts[2]
    assert f"第一次对话后的记忆: Human: {TURNS[0]}\nAI: {replies[0].text}\n" in run.out
    assert f"\n第三次对话后的记忆:\n {memory}\n" in run.out
    total = sum(r.prompt + r.completion for r in replies)
    assert f"\n总计使用的tokens: {total}\n" in run.out
    _totals(run.lines, replies)
    assert runs.get("05").out == run.out, "the embedded server must behave the same"


def test_gathered_agenerate_calls_are_counted_as_the_server_reports(runs: Runs) -> None:
    """Three llm.agenerate calls under asyncio.gather in one get_openai_callback(): the
    counter's totals are the usage the server reports for the three requests."""
    run = runs.get("06-own")
    requests = run.requests("/completions")
    assert len(requests) == 3
    assert all(not r.body.get("stream") for r in requests)
    replies = replay(requests)
    total = sum(r.prompt + r.completion for r in replies)
    assert run.lines[1] == f"另外的交互中使用的tokens: {total}"
    _totals(run.lines[:-1], replies)
    assert run.lines[-1] == "Requests: 3"
    assert runs.get("06").out == run.out, "the embedded server must behave the same"
