"""The frameworks :func:`spyglass.autolog` can trace: which library each needs, which
instrumentor traces it, and which extra installs both.

Every framework but OpenAI is traced by its OpenInference instrumentor (the collector reads
OpenInference spans natively). An instrumentor is named by its import path, never imported
here, so knowing a framework costs nothing until it is turned on.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FRAMEWORKS", "OPENAI", "Framework"]

OPENAI = "openai"  # traced by Spyglass's own OpenAI autolog


@dataclass(frozen=True)
class Framework:
    """One traceable library.

    ``name`` is what :func:`spyglass.autolog` reports; ``library`` the module whose presence
    means the app uses it; ``instrumentor`` the ``module:Class`` of its OpenInference
    instrumentor (empty for OpenAI); ``extra`` the ``spyglass[...]`` extra installing it;
    ``calls_openai_from`` the packages of the library that call the ``openai`` client, whose
    calls the instrumentor records itself (so the OpenAI autolog leaves them to it).
    """

    name: str
    library: str
    instrumentor: str
    extra: str
    calls_openai_from: tuple[str, ...] = ()

    @property
    def install_hint(self) -> str:
        """The command that installs what tracing this library needs."""
        return (
            f"pip install 'spyglass[{self.extra}]'" if self.extra else f"pip install {self.library}"
        )


_OI = "openinference.instrumentation."

FRAMEWORKS: tuple[Framework, ...] = (
    Framework(OPENAI, "openai", "", ""),
    Framework("anthropic", "anthropic", _OI + "anthropic:AnthropicInstrumentor", "anthropic"),
    Framework(
        "langchain",
        "langchain_core",
        _OI + "langchain:LangChainInstrumentor",
        "langchain",
        ("langchain_openai",),
    ),
    Framework(
        "llama_index",
        "llama_index.core",
        _OI + "llama_index:LlamaIndexInstrumentor",
        "llama-index",
        ("llama_index.llms.openai",),
    ),
    Framework("litellm", "litellm", _OI + "litellm:LiteLLMInstrumentor", "litellm", ("litellm",)),
    Framework(
        "openai_agents",
        "agents",
        _OI + "openai_agents:OpenAIAgentsInstrumentor",
        "openai-agents",
        ("agents",),
    ),
    Framework("bedrock", "boto3", _OI + "bedrock:BedrockInstrumentor", "bedrock"),
    Framework(
        "google_genai", "google.genai", _OI + "google_genai:GoogleGenAIInstrumentor", "google-genai"
    ),
    Framework("dspy", "dspy", _OI + "dspy:DSPyInstrumentor", "dspy"),
    Framework("crewai", "crewai", _OI + "crewai:CrewAIInstrumentor", "crewai"),
    Framework("haystack", "haystack", _OI + "haystack:HaystackInstrumentor", "haystack"),
)
