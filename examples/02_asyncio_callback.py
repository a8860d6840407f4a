"""在异步操作时使用回调函数: the LangChain callbacks tutorial's second sample (a callback at
the end of async work).

While ``compute`` awaits, the event loop runs ``another_task``: both start before
either finishes. The tutorial left ``callback(result)`` commented out, so its callback
never ran; it is called here, as the text describes.

    python examples/02_asyncio_callback.py
"""

import asyncio


async def compute(x, y, callback):
    print("Starting compute...")
    await asyncio.sleep(0.5)  # 模拟异步操作 (a pretend asynchronous operation)
    result = x + y
    callback(result)
    print("Finished compute...")


def print_result(value):
    print(f"The result is: {value}")


async def another_task():
    print("Starting another task...")
    await asyncio.sleep(1)
    print("Finished another task...")


async def main():
    print("Main starts...")
    task1 = asyncio.create_task(compute(3, 4, print_result))
    task2 = asyncio.create_task(another_task())
    await task1
    await task2
    print("Main ends...")


asyncio.run(main())
