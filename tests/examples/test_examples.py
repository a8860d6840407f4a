"""Every example script runs as a user would run it and prints what the seed promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script), *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd or ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_flower_shop_runs_sync_token_and_async_start_end_handlers_in_order() -> None:
    """Tokens print one by one between the async handler's start and end messages."""
    out = _run("flower_shop.py").splitlines()
    assert out[0] == "正在获取花卉数据..."
    assert out[1] == "花卉数据获取完毕。提供建议..."
    tokens = [line for line in out if line.startswith("获取花卉数据: token: ")]
    assert "".join(t.removeprefix("获取花卉数据: token: ") for t in tokens) == "玫瑰、百合、向日葵。"
    assert len(tokens) > 5, "the answer must stream in several chunks"
    assert out[-2:] == ["整理花卉建议...", "祝你今天愉快!"]


def test_chain_logging_writes_stdout_and_the_log_file(tmp_path: Path) -> None:
    """verbose=True prints the chain; the FileCallbackHandler writes the same to the log file."""
    log = tmp_path / "output.log"
    out = _run("chain_logging.py", str(log), cwd=tmp_path)
    assert "> Entering new LLMChain chain..." in out and "1 + 2 = " in out
    assert "INFO 3" in out
    text = log.read_text()
    assert "> Entering new LLMChain chain..." in text
    assert "Prompt after formatting:\n1 + 2 = " in text
    assert "> Finished chain." in text
    assert "INFO 3" in text


def test_constructor_vs_request_shows_the_difference() -> None:
    """Constructor callbacks never see the model run; request callbacks do."""
    out = _run("constructor_vs_request.py")
    first, second = out.split("--- plus request callbacks")
    assert "[constructor] chain started" in first and "model started" not in first
    assert "[request] model started" in second
    assert "[constructor] model started" not in second
