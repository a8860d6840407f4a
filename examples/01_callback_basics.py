"""回调函数的简单示例: the LangChain callbacks tutorial's first sample (a plain callback,
nothing asynchronous).

``compute`` is given a function and calls it back with its result.

    python examples/01_callback_basics.py
"""


def compute(x, y, callback):
    result = x + y
    callback(result)


def print_result(value):
    print(f"The result is: {value}")


def square_result(value):
    print(f"The squared result is: {value**2}")


# 使用print_result作为回调 (print_result as the callback)
compute(3, 4, print_result)  # 输出 (prints): The result is: 7

# 使用square_result作为回调 (square_result as the callback)
compute(3, 4, square_result)  # 输出 (prints): The squared result is: 49
