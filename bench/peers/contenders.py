"""Who competes: one entry per worker process, with its venv, suite and content settings.

Each peer is benchmarked with its defaults; ``content`` says what that default
captures. The two peers that capture content by default also run as a
``-nocontent`` variant (their documented switch, ``CONTENT_OFF_ENV``), so they can
be compared like for like with otel-llm's metadata-only default; ``--content off``
switches content off for every contender. A ``reference`` contender (``sdk-floor``)
is a yardstick, not a peer: the OTel SDK calls alone, the floor under otel-llm's cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "BASELINE",
    "CONTENDERS",
    "CONTENT_OFF_ENV",
    "FLOOR_LABEL",
    "SUITES",
    "Contender",
    "by_name",
    "content_env",
    "select",
]

SUITES = ("openai", "langchain")
FLOOR_LABEL = "OTel SDK floor (span + histograms only, no logic)"
BASELINE = {"openai": "none", "langchain": "lc-none"}

#: Environment that switches message content off, per peer family (their documented knobs).
CONTENT_OFF_ENV: dict[str, dict[str, str]] = {
    "openllmetry": {"TRACELOOP_TRACE_CONTENT": "false"},
    "openinference": {"OPENINFERENCE_HIDE_INPUTS": "true", "OPENINFERENCE_HIDE_OUTPUTS": "true"},
    "official": {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "NO_CONTENT"},
    "otel-llm": {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "NO_CONTENT"},
    "none": {},
}


@dataclass(frozen=True)
class Contender:
    name: str
    suite: str
    family: str  # key of CONTENT_OFF_ENV
    label: str
    package: str  # distribution whose version the report shows ("" for none)
    venv: str = "peers"  # key of bench.peers.venvs.VENVS
    content: str = "off"  # what the default captures
    scenarios: tuple[str, ...] | None = None  # None: every scenario of the suite
    note: str = ""
    env: dict[str, str] = field(default_factory=dict)
    variant_of: str = ""  # a second configuration of another contender (no memory run)
    #: A yardstick, not a peer: not in "lower than every peer", no probes, no memory run.
    reference: bool = False

    @property
    def is_baseline(self) -> bool:
        return self.name == BASELINE[self.suite]


CONTENDERS: tuple[Contender, ...] = (
    Contender("none", "openai", "none", "no instrumentation", ""),
    Contender("otel-llm", "openai", "otel-llm", "otel-llm", "otel-llm",
              note="instrument_openai([OpenTelemetryCallbackHandler()]): spans, metrics, "
                   "include_usage added for known servers, tiktoken otherwise"),
    Contender("otel-llm-estimate", "openai", "otel-llm", "otel-llm, stream_usage=False",
              "otel-llm", scenarios=("stream-no-usage",), variant_of="otel-llm",
              note="never adds include_usage: stream tokens counted locally with tiktoken "
                   "(what a non-OpenAI server gets)"),
    Contender("sdk-floor", "openai", "none", FLOOR_LABEL, "opentelemetry-sdk", reference=True,
              note="bench/peers/floor.py: only the SDK calls otel-llm's telemetry makes (one "
                   "span, duration/token/cost/TTFT/chunk-gap histograms), constants where "
                   "the wire gives no value; the lower bound of otel-llm's overhead"),
    Contender("openllmetry", "openai", "openllmetry", "OpenLLMetry",
              "opentelemetry-instrumentation-openai", content="on"),
    Contender("openinference", "openai", "openinference", "OpenInference",
              "openinference-instrumentation-openai", content="on"),
    Contender("openllmetry-nocontent", "openai", "openllmetry", "OpenLLMetry, content off",
              "opentelemetry-instrumentation-openai", variant_of="openllmetry",
              env=CONTENT_OFF_ENV["openllmetry"], note="TRACELOOP_TRACE_CONTENT=false"),
    Contender("openinference-nocontent", "openai", "openinference",
              "OpenInference, content off", "openinference-instrumentation-openai",
              variant_of="openinference", env=CONTENT_OFF_ENV["openinference"],
              note="OPENINFERENCE_HIDE_INPUTS/OUTPUTS=true"),
    Contender("otel-genai-openai", "openai", "official", "OTel genai-openai",
              "opentelemetry-instrumentation-genai-openai"),
    Contender("otel-openai-v2", "openai", "official", "OTel openai-v2",
              "opentelemetry-instrumentation-openai-v2", venv="openai-v2",
              note="own venv: needs opentelemetry-util-genai <= 1.1b0"),
    Contender("lc-none", "langchain", "none", "no instrumentation", ""),
    Contender("lc-otel-llm", "langchain", "otel-llm", "otel-llm", "otel-llm",
              note="instrument_langchain([OpenTelemetryCallbackHandler()])"),
    Contender("lc-openllmetry", "langchain", "openllmetry", "OpenLLMetry",
              "opentelemetry-instrumentation-langchain", content="on"),
    Contender("lc-openinference", "langchain", "openinference", "OpenInference",
              "openinference-instrumentation-langchain", content="on"),
    Contender("lc-openllmetry-nocontent", "langchain", "openllmetry", "OpenLLMetry, content off",
              "opentelemetry-instrumentation-langchain", variant_of="lc-openllmetry",
              env=CONTENT_OFF_ENV["openllmetry"], note="TRACELOOP_TRACE_CONTENT=false"),
    Contender("lc-openinference-nocontent", "langchain", "openinference",
              "OpenInference, content off", "openinference-instrumentation-langchain",
              variant_of="lc-openinference", env=CONTENT_OFF_ENV["openinference"],
              note="OPENINFERENCE_HIDE_INPUTS/OUTPUTS=true"),
    Contender("lc-otel-genai", "langchain", "official", "OTel genai-langchain",
              "opentelemetry-instrumentation-genai-langchain",
              note="instrument(skip_dep_check=True): it declares `langchain`, the bench has "
                   "langchain-core only"),
)


def by_name(name: str) -> Contender:
    for contender in CONTENDERS:
        if contender.name == name:
            return contender
    raise KeyError(f"unknown contender {name!r}; known: {[c.name for c in CONTENDERS]}")


def select(only: list[str] | None, suites: list[str]) -> list[Contender]:
    """Contenders of ``suites``; with ``only``, those named plus each suite's baseline."""
    if only:
        for name in only:
            by_name(name)  # unknown names fail early
    chosen = []
    for contender in CONTENDERS:
        if contender.suite not in suites:
            continue
        if only and contender.name not in only and not contender.is_baseline:
            continue
        chosen.append(contender)
    return chosen


def content_env(contender: Contender, mode: str) -> dict[str, str]:
    """Environment for the worker: ``mode`` ``default`` keeps the peer's default."""
    if mode == "default":
        return dict(contender.env)
    if mode == "off":
        return {**CONTENT_OFF_ENV[contender.family], **contender.env}
    raise ValueError(f"content mode must be 'default' or 'off', not {mode!r}")
