"""Token usage extraction from every place providers and LangChain put it."""

from __future__ import annotations

from otel_llm.schema import AIMessage, ChatGeneration, Generation, LLMResult
from otel_llm.usage import TokenUsage, usage_from_result


def result(llm_output: dict[str, object] | None, *messages: AIMessage) -> LLMResult:
    generations = [[ChatGeneration(message=m)] for m in messages] or [[Generation("x")]]
    return LLMResult(generations=generations, llm_output=llm_output)  # type: ignore[arg-type]


def test_openai_token_usage() -> None:
    """OpenAI names, cached and reasoning details, and the estimate flag."""
    usage = usage_from_result(
        result(
            {
                "token_usage": {
                    "prompt_tokens": 10,
                    "completion_tokens": 4,
                    "prompt_tokens_details": {"cached_tokens": 6},
                    "completion_tokens_details": {"reasoning_tokens": 2},
                },
                "otel_llm_usage_estimated": True,
            }
        )
    )
    assert usage == TokenUsage(10, 4, 6, None, 2, estimated=True)


def test_openai_cache_writes_are_cache_creation_tokens() -> None:
    """OpenAI's cache_write_tokens (the SDK's own usage object, dumped the way the
    instrumentation reports it) is gen_ai.usage.cache_creation.input_tokens; null, absent,
    negative or bool is no count, and then an Anthropic-style total still counts."""
    from openai.types import CompletionUsage

    sdk = CompletionUsage.model_validate({
        "prompt_tokens": 1200, "completion_tokens": 5, "total_tokens": 1205,
        "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 1152}})
    written = usage_from_result(result({"token_usage": sdk.model_dump(exclude_unset=True)}))
    assert written == TokenUsage(1200, 5, 0, 1152, None)
    for value in (None, -3, True):
        usage = usage_from_result(result({"token_usage": {
            "prompt_tokens": 9, "completion_tokens": 1,
            "prompt_tokens_details": {"cache_write_tokens": value}}}))
        assert usage is not None and usage.cache_creation_input_tokens is None
    fallback = usage_from_result(result({"token_usage": {
        "prompt_tokens": 9, "completion_tokens": 1, "cache_creation_input_tokens": 4,
        "prompt_tokens_details": {"cache_write_tokens": None}}}))
    assert fallback is not None and fallback.cache_creation_input_tokens == 4


def test_anthropic_style_names() -> None:
    """input/output and cache_read/cache_creation names are understood too."""
    usage = usage_from_result(
        result(
            {
                "usage": {
                    "input_tokens": 10,
                    "output_tokens": 3,
                    "cache_read_input_tokens": 5,
                    "cache_creation_input_tokens": 2,
                }
            }
        )
    )
    assert usage == TokenUsage(10, 3, 5, 2, None)


def test_usage_metadata_summed_over_prompts() -> None:
    """One usage_metadata per prompt (a batch): the run's usage is their sum."""
    usage = usage_from_result(
        result(
            None,
            AIMessage("a", usage_metadata={"input_tokens": 3, "output_tokens": 1}),
            AIMessage(
                "b",
                usage_metadata={
                    "input_tokens": 4,
                    "output_tokens": 2,
                    "input_token_details": {"cache_read": 1},
                },
            ),
        )
    )
    assert usage == TokenUsage(7, 3, 1, None, None)


def test_no_usage() -> None:
    """Nothing reported: None (not zeros); bools and negatives are not counts."""
    assert usage_from_result(result(None)) is None
    assert usage_from_result(result({"token_usage": {}})) is None
    assert usage_from_result(result({"token_usage": {"prompt_tokens": True}})) is None
    assert usage_from_result(result({"token_usage": {"prompt_tokens": -1}})) is None
    assert usage_from_result(object()) is None


def test_counts_that_are_not_plain_ints_fall_back_as_before() -> None:
    """The fast reads take only plain non-negative ints: a negative OpenAI count falls back
    to the Anthropic-style name, bools and strings are no counts, an int subclass is one,
    and details given as another Mapping type are still read."""
    from types import MappingProxyType

    class Count(int):
        pass

    usage = usage_from_result(result({"token_usage": {
        "prompt_tokens": -1, "input_tokens": 7, "completion_tokens": Count(3),
        "prompt_tokens_details": MappingProxyType({"cached_tokens": 2}),
        "completion_tokens_details": {"reasoning_tokens": True},
    }}))
    assert usage == TokenUsage(7, 3, 2, None, None)
    assert usage_from_result(result({"token_usage": {
        "prompt_tokens": "10", "completion_tokens": 4}})) == TokenUsage(None, 4)
