"""Every example script runs as a user runs it and prints what the seed promises.

Each script is a subprocess with no OPENAI_* / OTEL_* variable, so the LLM examples start
the embedded model server in their own process. To check numbers against the server, the
LLM examples also run against a devserver owned by the test (``OPENAI_BASE_URL``): the
requests it received are replayed to a fresh devserver with usage switched on, and the
answers and usage it reports are what the printed tokens, memory and totals must equal
(those runs must print exactly what the embedded-server runs printed). Two runs export over
OTLP/gRPC to an in-process receiver. All runs start at once, four at a time.
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

from otel_llm import semconv
from otel_llm.devserver import ModelServer, RecordedRequest
from otel_llm.pricing import usage_cost
from otel_llm.testing.collector import GrpcCollector
from otel_llm.tokens import count_tokens
from otel_llm.usage import TokenUsage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
MODEL = "gpt-4o-mini"
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
    collector: GrpcCollector | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def chat_requests(self) -> list[RecordedRequest]:
        assert self.server is not None
        return [r for r in self.server.requests if r.path.endswith("/chat/completions")]


@dataclass(frozen=True)
class Reply:
    """What a fresh devserver answers to a request, with usage switched on."""

    text: str
    prompt: int
    completion: int


def replay(requests: list[RecordedRequest]) -> list[Reply]:
    replies = []
    with ModelServer() as fresh:
        for request in requests:
            body: dict[str, Any] = dict(request.body)
            if body.get("stream"):
                body["stream_options"] = {"include_usage": True}
            sent = urllib.request.Request(
                f"{fresh.base_url}/chat/completions", data=json.dumps(body).encode(),
                headers={"content-type": "application/json", "authorization": "Bearer sk-x"})
            with urllib.request.urlopen(sent, timeout=10) as answer:
                raw = answer.read().decode()
            if body.get("stream"):
                chunks = [json.loads(line[6:]) for line in raw.splitlines()
                          if line.startswith("data: {")]
                text = "".join(c["choices"][0]["delta"].get("content") or ""
                               for c in chunks if c["choices"])
                usage = next(c["usage"] for c in chunks if c.get("usage"))
            else:
                reply = json.loads(raw)
                text, usage = reply["choices"][0]["message"]["content"], reply["usage"]
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
              collector: GrpcCollector | None = None, **files: Path) -> None:
        extra = {"OPENAI_BASE_URL": server.base_url} if server else {}
        if collector:
            extra["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.endpoint
            extra["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"  # configure()'s default is http/protobuf
        job = self._pool.submit(_execute, script, list(args), _env(**extra), self._cwd)
        self._runs[key] = (job, Run("", "", server, collector, files))

    def get(self, key: str) -> Run:
        job, run = self._runs[key]
        run.out, run.err = job.result()
        return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    cwd = tmp_path_factory.mktemp("examples")
    with ExitStack() as stack:
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=4))
        own = {name: stack.enter_context(ModelServer()) for name in ("04", "05", "06")}
        collectors = {name: stack.enter_context(GrpcCollector()) for name in ("04", "05")}
        r = Runs(pool, cwd)
        # slowest first: they stream, sleep, or export
        r.start("04-otlp", "04_flower_shop_streaming.py", collector=collectors["04"])
        r.start("05-otlp", "05_conversation_token_count.py", collector=collectors["05"])
        for name, script in (("04", "04_flower_shop_streaming.py"),
                             ("05", "05_conversation_token_count.py"),
                             ("06", "06_gather_token_count.py")):
            r.start(f"{name}-own", script, server=own[name])
            r.start(name, script)
        r.start("03", "03_file_and_stdout_logging.py", str(cwd / "chain.log"),
                log=cwd / "chain.log")
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

_DURATION = re.compile(r"\(\d+\.\d+s\)")
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \| INFO \| 3$")


def test_file_and_stdout_logging_write_the_same_chain_log(runs: Runs) -> None:
    """The chain's event log goes to stdout and to the file; the logger's answer line goes to
    stderr and is appended to the same file after the chain's log."""
    run = runs.get("03")
    printed = [line for line in run.lines if line]
    assert printed[0] == "> Entering new RunnableSequence chain..."
    assert "[chat start] ChatOpenAI gpt-4o-mini 1 message(s), last: 1 + 2 = " in printed
    assert any(line.startswith("[llm end]") and line.endswith("answer: 3") for line in printed)
    assert printed[-1].startswith("> Finished chain.")
    written = [line for line in run.files["log"].read_text(encoding="utf-8").splitlines() if line]
    assert [_DURATION.sub("", x) for x in written[:-1]] == [_DURATION.sub("", x) for x in printed]
    assert _LOG_LINE.match(written[-1]), written[-1]
    assert [line for line in run.err.splitlines() if _LOG_LINE.match(line)] == [written[-1]]


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
    """Async on_llm_start's two lines, then one line per streamed token, then async
    on_llm_end's two lines; the tokens joined are the server's answer to the request."""
    run = runs.get("04-own")
    assert run.lines[:2] == ["正在获取花卉数据...", "花卉数据获取完毕。提供建议..."]
    assert run.lines[-2:] == ["整理花卉建议...", "祝你今天愉快!"]
    middle = run.lines[2:-2]
    assert all(line.startswith(TOKEN) for line in middle), middle
    [request] = run.chat_requests()
    assert request.body["stream"] is True and request.body["max_completion_tokens"] == 100
    assert request.body["messages"] == [{"role": "user", "content": FLOWER_QUESTION}]
    [reply] = replay([request])
    assert "".join(line.removeprefix(TOKEN) for line in middle) == reply.text
    assert len([line for line in middle if line != TOKEN]) > 5, "streamed in several chunks"
    assert runs.get("04").out == run.out, "the embedded server must behave the same"


def _totals(lines: list[str], replies: list[Reply]) -> None:
    prompt, completion = sum(r.prompt for r in replies), sum(r.completion for r in replies)
    cost = usage_cost(MODEL, TokenUsage(prompt, completion))
    assert cost is not None
    assert lines[-4:] == [f"Total Tokens: {prompt + completion}", f"Prompt Tokens: {prompt}",
                          f"Completion Tokens: {completion}", f"Total Cost (USD): ${cost:.6f}"]


def test_conversation_memory_and_token_count_equal_the_servers(runs: Runs) -> None:
    """Each turn sends the memory so far; the memory printed is the server's answers; the
    counter's totals and cost are the server's usage of the three requests."""
    run = runs.get("05-own")
    requests = run.chat_requests()
    assert [len(r.body["messages"]) for r in requests] == [2, 4, 6]
    assert [r.body["messages"][-1]["content"] for r in requests] == list(TURNS)
    replies = replay(requests)
    assert requests[2].body["messages"][1:5] == [
        {"role": "user", "content": TURNS[0]}, {"role": "assistant", "content": replies[0].text},
        {"role": "user", "content": TURNS[1]}, {"role": "assistant", "content": replies[1].text}]
    memory = "\n".join(f"Human: {t}\nAI: {r.text}" for t, r in zip(TURNS, replies, strict=True))
    assert f"第一次对话后的记忆: Human: {TURNS[0]}\nAI: {replies[0].text}\n" in run.out
    assert f"\n第三次对话后的记忆:\n {memory}\n" in run.out
    total = sum(r.prompt + r.completion for r in replies)
    assert f"\n总计使用的tokens: {total}\n" in run.out
    _totals(run.lines, replies)
    assert runs.get("05").out == run.out, "the embedded server must behave the same"


def test_gathered_streams_without_usage_are_counted_as_the_server_reports(runs: Runs) -> None:
    """Three concurrent streamed calls, sent without stream usage: the counter's totals (all
    three estimated with tiktoken) equal the usage the server reports for the same requests."""
    run = runs.get("06-own")
    requests = run.chat_requests()
    assert len(requests) == 3
    for request in requests:
        assert request.body["stream"] is True and "stream_options" not in request.body
    replies = replay(requests)
    total = sum(r.prompt + r.completion for r in replies)
    assert run.lines[1] == f"另外的交互中使用的tokens: {total}"
    _totals(run.lines[:-1], replies)
    assert run.lines[-1] == "Requests: 3 (3 counted with tiktoken)"
    assert runs.get("06").out == run.out, "the embedded server must behave the same"


# --- OTLP export ----------------------------------------------------------------------------

def _attrs(span: Any) -> dict[str, Any]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}


def _metric_sum(metric: Any, token_type: str) -> int:
    return sum(int(p.sum) for p in metric.histogram.data_points
               if _attrs(p).get(semconv.GEN_AI_TOKEN_TYPE) == token_type)


def test_conversation_exports_one_tree_per_turn_with_the_counted_usage(runs: Runs) -> None:
    """With OTEL_EXPORTER_OTLP_ENDPOINT set (instrument_langchain() path): three traces, each
    `invoke_workflow conversation` over the prompt and the chat span; the chat spans' usage
    and the token-usage metric add up to the counter's totals; the output is unchanged."""
    run = runs.get("05-otlp")
    assert run.out == runs.get("05-own").out
    assert run.collector is not None
    spans = run.collector.received.spans()
    assert len({s.trace_id for s in spans}) == 3 and len(spans) == 9
    chats = []
    for root in (s for s in spans if not s.parent_span_id):
        assert root.name == "invoke_workflow conversation"
        children = [s for s in spans if s.parent_span_id == root.span_id]
        assert sorted(c.name for c in children) == ["chat gpt-4o-mini",
                                                    "invoke_workflow ChatPromptTemplate"]
        chats += [c for c in children if c.name.startswith("chat")]
    used = [(_attrs(c)[semconv.GEN_AI_USAGE_INPUT_TOKENS],
             _attrs(c)[semconv.GEN_AI_USAGE_OUTPUT_TOKENS]) for c in chats]
    prompt, completion = sum(u[0] for u in used), sum(u[1] for u in used)
    assert run.lines[-3:-1] == [f"Prompt Tokens: {prompt}", f"Completion Tokens: {completion}"]
    usage = run.collector.received.metric(semconv.METRIC_TOKEN_USAGE)[-1]  # cumulative
    assert (_metric_sum(usage, "input"), _metric_sum(usage, "output")) == (prompt, completion)


def test_flower_shop_exports_its_streamed_chat_span(runs: Runs) -> None:
    """The OTel handler passed next to the flower-shop handlers exports the streamed call:
    one root chat span with the first-token event and the answer's token count."""
    run = runs.get("04-otlp")
    assert run.out == runs.get("04-own").out
    assert run.collector is not None
    [span] = run.collector.received.spans()
    assert span.name == "chat gpt-4o-mini" and not span.parent_span_id
    assert semconv.EVENT_FIRST_TOKEN in [e.name for e in span.events]
    answer = "".join(line.removeprefix(TOKEN) for line in run.lines[2:-2])
    attrs = _attrs(span)
    assert attrs[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == count_tokens(answer, MODEL)
    assert attrs[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 100
