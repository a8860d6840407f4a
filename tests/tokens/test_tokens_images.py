"""Image input tokens: sizes read from real image files in data URLs, OpenAI's published
tile and patch formulas per model family, and remote URLs counted at a flagged guess.

Expected numbers are OpenAI's worked examples ("Images and vision", calculating costs):
1024x1024 high on gpt-4o = 765, 2048x4096 = 1105, low = 85; 1024x1024 = 1024 patches,
1800x2400 = 1452 patches. The issue's observation (a prompt counted 13 without its image,
OpenAI reported 438 on gpt-4o) is an image of two 512-px tiles: 85 + 2 * 170 = 425.
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from otel_llm.tokens import count_message_tokens
from otel_llm.tokens.images import ASSUMED_SIZE, ImageCount, image_dimensions, image_tokens


def data_url(width: int, height: int, fmt: str = "PNG") -> str:
    """A real image file of that size, as a data URL."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 60)).save(out, fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(out.getvalue()).decode()


def part(url: str, detail: str | None = None) -> dict[str, object]:
    image: dict[str, object] = {"url": url}
    if detail:
        image["detail"] = detail
    return {"type": "image_url", "image_url": image}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
@pytest.mark.parametrize("size", [(1024, 512), (37, 2000), (3000, 1)])
def test_dimensions_from_data_urls(fmt: str, size: tuple[int, int]) -> None:
    """Width and height come from the image file's header, for each common format."""
    assert image_dimensions(data_url(*size, fmt)) == size


def test_unknown_sizes() -> None:
    """A remote URL, a non-image payload or a truncated header has no known size."""
    assert image_dimensions("https://example.com/cat.png") is None
    assert image_dimensions("data:image/png;base64," + base64.b64encode(b"hello").decode()) is None
    assert image_dimensions(data_url(64, 64)[:40]) is None


@pytest.mark.parametrize(("size", "detail", "model", "tokens"), [
    ((1024, 1024), "high", "gpt-4o", 765),
    ((2048, 4096), "high", "gpt-4o-2024-08-06", 1105),
    ((2048, 4096), "low", "gpt-4.1", 85),
    ((1024, 1024), None, "gpt-4o", 765),  # auto counts as high
    ((1024, 1024), "high", "gpt-4o-mini", 2833 + 4 * 5667),
    ((1024, 1024), "high", "o1", 75 + 4 * 150),
    ((1024, 1024), "high", "gpt-5", 70 + 4 * 140),
    ((1024, 1024), "high", "gpt-4.1-mini", 1659),  # 1024 patches * 1.62
    ((1800, 2400), "low", "gpt-4.1-nano", 3572),  # 1452 patches * 2.46, detail ignored
    ((1800, 2400), "high", "o4-mini", 2498),  # 1452 patches * 1.72
])
def test_published_formulas(size: tuple[int, int], detail: str | None, model: str,
                            tokens: int) -> None:
    """Each model family counts by its published formula, from the image's real size."""
    assert image_tokens(part(data_url(*size), detail), model) == (tokens, True)


def test_image_adds_what_openai_reported() -> None:
    """A two-tile image adds 425 tokens on gpt-4o: the 13 -> 438 of the issue."""
    text = {"type": "text", "text": "What is in this image?"}
    plain = count_message_tokens([{"role": "user", "content": [text]}], "gpt-4o")
    with_image = count_message_tokens(
        [{"role": "user", "content": [text, part(data_url(1024, 512))]}], "gpt-4o")
    assert with_image - plain == 438 - 13


def test_remote_url_is_a_flagged_guess() -> None:
    """A remote image is counted at ASSUMED_SIZE and reported as guessed."""
    images = ImageCount()
    messages = [{"role": "user", "content": [
        part("https://example.com/cat.png"), part(data_url(512, 512))]}]
    total = count_message_tokens(messages, "gpt-4o", images=images)
    guess = image_tokens(part(data_url(*ASSUMED_SIZE)), "gpt-4o")[0]
    assert images.guessed == 1 and images.tokens == guess + 255
    assert total == count_message_tokens([{"role": "user", "content": []}], "gpt-4o") + guess + 255


def test_responses_input_image_parts() -> None:
    """Responses ``input_image`` parts (URL string, detail beside it) count the same way."""
    responses_part = {"type": "input_image", "image_url": data_url(1024, 1024), "detail": "low"}
    assert image_tokens(responses_part, "gpt-4o") == (85, True)
