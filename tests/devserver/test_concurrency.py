"""Many concurrent streams through one async client, as the benchmarks run them."""

from __future__ import annotations

import asyncio

import openai

from otel_llm.devserver import ModelServer
from otel_llm.devserver.scripts import prompt_reply


async def _one(client: openai.AsyncOpenAI, i: int) -> tuple[str, str, int, int]:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini+len=200",
        messages=[{"role": "user", "content": f"request {i}"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, content_chunks, completion = "", 0, -1
    ids = set()
    async for chunk in stream:
        ids.add(chunk.id)
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
            content_chunks += 1
        if chunk.usage is not None:
            completion = chunk.usage.completion_tokens
    assert len(ids) == 1
    return ids.pop(), text, content_chunks, completion


async def test_fifty_concurrent_streams(server: ModelServer) -> None:
    """50 concurrent 200-chunk streams all complete with their own correct text and usage."""
    async with openai.AsyncOpenAI(
        base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=30
    ) as client:
        results = await asyncio.gather(*(_one(client, i) for i in range(50)))
    assert len({r[0] for r in results}) == 50
    for i, (_, text, chunks, completion) in enumerate(results):
        assert text == prompt_reply(f"request {i}", length=200)
        assert chunks == 200 and completion == 200


async def test_concurrent_streams_with_chunk_delay() -> None:
    """With a chunk delay, concurrent streams overlap instead of queueing behind each other."""
    with ModelServer(chunk_delay=0.01) as srv:
        async with openai.AsyncOpenAI(base_url=srv.base_url, api_key="sk-test") as client:
            loop = asyncio.get_running_loop()
            start = loop.time()

            async def run(i: int) -> int:
                stream = await client.chat.completions.create(
                    model="gpt-4o-mini+len=20",
                    messages=[{"role": "user", "content": str(i)}],
                    stream=True,
                )
                return sum([1 async for _ in stream])

            counts = await asyncio.gather(*(run(i) for i in range(20)))
            elapsed = loop.time() - start
    assert counts == [22] * 20  # role chunk + 20 words + finish chunk
    assert 0.2 <= elapsed < 2.0  # 21 gaps of 10 ms each, in parallel
