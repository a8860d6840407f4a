"""Wire builder for ``/v1/embeddings``: deterministic unit vectors, float or base64.

The SDK asks for ``encoding_format="base64"`` by default and decodes little-endian
float32, so both encodings are produced from the same float32 values. Vectors
depend only on the input text, so similarity searches in demos are repeatable.
"""

from __future__ import annotations

import base64
import math
import random
import struct
import zlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from otel_llm.devserver.options import Controls
from otel_llm.devserver.usage import input_tokens
from otel_llm.devserver.wire import ApiError, Reply, dumps

__all__ = ["embedding_dimensions", "embeddings"]


def embedding_dimensions(model: str) -> int:
    return 3072 if "3-large" in model else 1536


@lru_cache(maxsize=512)
def _vector(text: str, dims: int) -> tuple[str, str]:
    """(JSON float list, base64 float32) of the unit vector for ``text``."""
    rng = random.Random(zlib.crc32(text.encode()))
    raw = [rng.gauss(0.0, 1.0) for _ in range(dims)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    packed = struct.pack(f"<{dims}f", *(x / norm for x in raw))
    values = struct.unpack(f"<{dims}f", packed)  # exactly the float32 the base64 carries
    return dumps(list(values)), base64.b64encode(packed).decode("ascii")


def embeddings(body: Mapping[str, Any], controls: Controls, **_: Any) -> Reply:
    raw = body.get("input")
    if raw is None or raw == "" or raw == []:
        raise ApiError(
            400, "'input' : input must be a string or an array of strings", param="input"
        )
    if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int)):
        inputs = [raw]
    else:
        inputs = list(raw)
    model = controls.model
    dims = int(body.get("dimensions") or embedding_dimensions(model))
    base64_format = body.get("encoding_format") == "base64"
    tokens = input_tokens(raw, model)
    data: list[str] = []
    for index, item in enumerate(inputs):
        # Pre-tokenised input is embedded by its token ids' text.
        text = " ".join(map(str, item)) if isinstance(item, list) else str(item)
        floats, b64 = _vector(text, dims)
        vector = f'"{b64}"' if base64_format else floats
        data.append(f'{{"object":"embedding","index":{index},"embedding":{vector}}}')
    usage = dumps({"prompt_tokens": tokens, "total_tokens": tokens})
    body_text = (
        f'{{"object":"list","data":[{",".join(data)}],"model":{dumps(model)},"usage":{usage}}}'
    )
    return Reply(body=body_text.encode())
