"""Judge model ids beyond OpenAI: which route a ``<provider>:/<model>`` id takes, the settings
each route reads, the errors for unknown providers and for a missing ``[litellm]`` extra, and
the LiteLLM route's share of the per-endpoint rate limiter."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

import pytest

from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.scorers import EmbeddingSimilarity, Safety, make_judge
from spyglass.evaluator.scorers.judges import endpoints
from spyglass.evaluator.scorers.judges.model import resolve_model
from spyglass.evaluator.scorers.judges.via_litellm import LiteLLMEndpoint
from spyglass.extras import MissingExtraError


@pytest.fixture(autouse=True)
def fresh_endpoints(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai-compatible.example/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.delenv("SPYGLASS_JUDGE_RATE_LIMIT", raising=False)
    endpoints.reset()
    yield
    endpoints.reset()


@pytest.mark.parametrize(
    "model_id, provider, name",
    [
        ("anthropic:/claude-3-5-haiku-latest", "anthropic", "claude-3-5-haiku-latest"),
        ("Gemini:gemini-2.0-flash", "gemini", "gemini-2.0-flash"),
        ("litellm:/openai/gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("litellm:/bedrock/anthropic.claude-3-haiku", "bedrock", "anthropic.claude-3-haiku"),
    ],
)
def test_other_providers_go_through_litellm(model_id: str, provider: str, name: str) -> None:
    model = resolve_model(model_id)
    assert (model.provider, model.name, model.via_litellm) == (provider, name, True)
    endpoint = model.endpoint()
    # the provider's own key and endpoint (read by LiteLLM), never the OPENAI_* settings
    assert (endpoint.litellm_provider, endpoint.base_url, endpoint.api_key) == (provider, "", None)
    assert endpoint.where == f"LiteLLM's {provider} endpoint"
    assert Safety(model=model_id).source_id == model_id


def test_openai_ids_keep_the_openai_compatible_route() -> None:
    model = resolve_model("openai:/gpt-4o-mini")
    assert model.via_litellm is False
    endpoint = model.endpoint()
    assert endpoint.litellm_provider is None
    assert endpoint.where == endpoint.base_url == "http://openai-compatible.example/v1"
    assert endpoint.api_key == "sk-openai"


def test_arguments_set_the_litellm_endpoint() -> None:
    endpoint = resolve_model(
        "anthropic:/claude-x", base_url="http://proxy.example/", api_key="sk-ant", rate_limit=2
    ).endpoint()
    assert (endpoint.base_url, endpoint.api_key, endpoint.rate_limit) == (
        "http://proxy.example",
        "sk-ant",
        2.0,
    )
    assert endpoint.where == "http://proxy.example"


@pytest.mark.parametrize(
    "model_id, message",
    [
        ("nosuch:/model-x", "provider 'nosuch' is not supported"),
        ("litellm:/nosuch/model-x", "provider 'nosuch' is not supported"),
        ("litellm:/claude-x", "write 'litellm:/<provider>/<model>'"),
    ],
)
def test_unknown_providers_fail_when_the_judge_is_made(model_id: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        make_judge("j", "Is {{ outputs }} fine?", model=model_id)


def test_a_missing_litellm_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # not importable here
    with pytest.raises(MissingExtraError) as raised:
        Safety(model="anthropic:/claude-x")
    message = str(raised.value)
    assert "judge model 'anthropic:/claude-x'" in message
    assert "pip install 'spyglass[litellm]'" in message
    assert Safety(model="openai:/gpt-4o-mini").model.via_litellm is False  # unaffected


def test_embeddings_stay_on_openai_compatible_endpoints() -> None:
    with pytest.raises(InvalidArgumentError, match="only OpenAI-compatible models"):
        EmbeddingSimilarity(model="anthropic:/claude-x")


def test_litellm_endpoints_take_permits_from_the_shared_limiter() -> None:
    endpoint = resolve_model("anthropic:/claude-x", rate_limit=2).endpoint()
    chat = endpoints.chat_endpoint(endpoint, owner="judge 'j'")
    assert isinstance(chat, LiteLLMEndpoint)
    assert endpoints.chat_endpoint(endpoint, owner="judge 'j'") is chat  # shared
    started = time.monotonic()
    for _ in range(3):  # 2 per second: the third waits for the next second
        endpoints.wait_for_permit(endpoint)
    assert time.monotonic() - started >= 0.9
    limiter = endpoints._limiters["LiteLLM's anthropic endpoint"]
    assert limiter.rate == 2.0
    endpoints.set_service_rate(1.0)  # the evaluator service's share paces it too
    assert limiter.rate == 1.0
