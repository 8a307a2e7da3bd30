"""Scorer references: every form users write parses to one ScorerRef, every kind resolves to
the scorer it names, and what cannot be resolved fails with a message saying how to fix it."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scorer_fixtures import support_scorers

from spyglass.entities import EvaluationJob
from spyglass.errors import ConfigurationError, InvalidArgumentError
from spyglass.evaluator.jobs import refs
from spyglass.evaluator.scorers import ExactMatch, Guidelines, Scorer
from spyglass.evaluator.scorers.judges.custom import InstructionsJudge
from spyglass.scorer_refs import BUILTIN_SCORERS
from spyglass.v1 import jobs_pb2

FIXTURES = "scorer_fixtures.support_scorers"


def _score(scorer: Scorer, outputs: object, expectations: dict | None = None) -> float:
    [result] = scorer.run(inputs={"q": "?"}, outputs=outputs, expectations=expectations)
    assert result.error is None, result.error
    return result.score


# -- built-ins ---------------------------------------------------------------------------------


def test_builtin_names_are_exactly_the_builtins_a_worker_can_build() -> None:
    assert set(refs.builtin_factories()) == set(BUILTIN_SCORERS)
    assert len(BUILTIN_SCORERS) == len(set(BUILTIN_SCORERS))


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "Guidelines", "name": "polite", "guidelines": "Be polite"},
        '{"type": "Guidelines", "name": "polite", "guidelines": "Be polite"}',
        jobs_pb2.ScorerRef(
            type="Guidelines", params_json='{"name": "polite", "guidelines": "Be polite"}'
        ),
    ],
)
def test_a_builtin_with_params_in_every_form(spec: object) -> None:
    scorer = refs.resolve(spec)  # type: ignore[arg-type]
    assert isinstance(scorer, Guidelines)
    assert (scorer.name, scorer.guidelines) == ("polite", ["Be polite"])


def test_a_bare_builtin_name_uses_the_defaults() -> None:
    scorer = refs.resolve("ExactMatch")
    assert isinstance(scorer, ExactMatch) and scorer.name == "exact_match"
    assert _score(scorer, "Paris", {"expected_response": "Paris"}) == 1.0


def test_make_judge_is_called_with_the_params() -> None:
    judge = refs.resolve(
        {
            "type": "make_judge",
            "name": "on_topic",
            "instructions": "Is {{ outputs }} about {{ inputs }}?",
        }
    )
    assert isinstance(judge, InstructionsJudge) and judge.name == "on_topic"
    assert judge.declared_arguments == ("inputs", "outputs")


@pytest.mark.parametrize(
    "spec, fragment",
    [
        (
            {"type": "Guidelines"},
            "scorer 'Guidelines': missing 1 required keyword-only argument: "
            "'guidelines'; it takes guidelines, name, model",
        ),
        (
            {"type": "ExactMatch", "keys": "a"},
            "scorer 'ExactMatch': unknown parameter(s) keys; it "
            "takes key, case_sensitive, strip, name, "
            "aggregations",
        ),
        (
            {"type": "Guidelines", "guidelines": ""},
            "Guidelines(guidelines=...) must be a non-empty",
        ),
        (
            {"type": "make_judge", "name": "j", "instructions": "no placeholder"},
            "the instructions use no placeholder",
        ),
        (jobs_pb2.ScorerRef(type="ExactMatch", params_json="[1]"), "params must be a JSON object"),
        (jobs_pb2.ScorerRef(type="ExactMatch", params_json="{oops"), "params are not valid JSON"),
    ],
)
def test_bad_builtin_params_are_the_constructors_complaint(spec: object, fragment: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        refs.resolve(spec)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_an_unknown_type_suggests_the_close_builtin() -> None:
    with pytest.raises(
        InvalidArgumentError,
        match=r"unknown scorer 'guidelines' \(did you mean "
        r"'Guidelines'\?\)",
    ):
        refs.resolve("guidelines")


# -- import paths ------------------------------------------------------------------------------


def test_a_scorer_function_by_import_path() -> None:
    scorer = refs.resolve(f"{FIXTURES}:contains_required_info")
    assert scorer is support_scorers.contains_required_info
    assert _score(scorer, "Refund within 30 days", {"required_info": ["refund", "30"]}) == 1.0


def test_a_plain_function_is_wrapped_as_a_scorer() -> None:
    scorer = refs.resolve(f"{FIXTURES}:mentions_refund")
    assert isinstance(scorer, Scorer) and scorer.name == "mentions_refund"
    assert _score(scorer, "we refund you") == 1.0 and _score(scorer, "no") == 0.0


def test_a_scorer_class_is_instantiated_with_the_params() -> None:
    scorer = refs.resolve({"type": f"{FIXTURES}:LengthAtMost", "max_chars": 5, "name": "tiny"})
    assert isinstance(scorer, support_scorers.LengthAtMost)
    assert (scorer.name, scorer.max_chars) == ("tiny", 5)
    assert _score(scorer, "12345") == 1.0 and _score(scorer, "123456") == 0.0


def test_a_factory_is_called_with_the_params() -> None:
    scorer = refs.resolve({"type": f"{FIXTURES}:make_keyword_scorer", "keyword": "refund"})
    assert scorer.name == "mentions_refund" and _score(scorer, "A REFUND") == 1.0


def test_a_scorer_instance_may_only_be_renamed() -> None:
    original = support_scorers.short_answer
    assert refs.resolve(f"{FIXTURES}:short_answer") is original
    renamed = refs.resolve({"type": f"{FIXTURES}:short_answer", "name": "brief"})
    assert renamed.name == "brief" and original.name == "concise"
    assert renamed.max_chars == original.max_chars
    with pytest.raises(
        InvalidArgumentError,
        match='is a scorer object, so its params may only set "name", not max_chars',
    ):
        refs.resolve({"type": f"{FIXTURES}:short_answer", "max_chars": 3})


@pytest.mark.parametrize(
    "ref, fragment",
    [
        (
            "mypkg.scorers:contains_required_info",
            "scorer 'mypkg.scorers:contains_required_info': cannot import 'mypkg.scorers' "
            "(No module named 'mypkg'); make it importable here and on every evaluator, "
            "or register it with --scorers-module",
        ),
        (f"{FIXTURES}:nothing_here", f"module '{FIXTURES}' has no attribute 'nothing_here'"),
        (f"{FIXTURES}:NotAScorer", "class NotAScorer is not a Scorer subclass"),
        (f"{FIXTURES}:ANSWER_LIMIT", "int is not a scorer"),
        (
            json.dumps({"type": f"{FIXTURES}:not_a_factory", "keyword": "x"}),
            "the factory returned str, not a Scorer",
        ),
        (
            json.dumps({"type": f"{FIXTURES}:LengthAtMost", "max_chars": 0}),
            "ValueError: max_chars must be a whole number >= 1",
        ),
    ],
)
def test_import_path_problems_say_what_is_wrong(ref: str, fragment: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        refs.resolve(ref)
    assert fragment in str(caught.value)


# -- registered names (--scorers-module) -------------------------------------------------------


def test_load_modules_registers_scorers_by_name_and_attribute() -> None:
    registry = refs.load_modules([FIXTURES])
    assert set(registry) == {"contains_required_info", "short_answer", "concise"}
    assert registry["concise"] is registry["short_answer"] is support_scorers.short_answer
    assert refs.resolve("concise", registry) is support_scorers.short_answer
    assert refs.resolve({"type": "concise", "name": "short"}, registry).name == "short"
    with pytest.raises(
        InvalidArgumentError,
        match="registered by the running evaluators: concise, contains_required_info",
    ):
        refs.resolve("conscise", registry)


@pytest.fixture
def write_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, str], str]]:
    """Write an importable module; it is forgotten (sys.modules) afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


@pytest.mark.parametrize(
    "name, source, fragment",
    [
        ("empty_mod", "x = 1\n", "the module defines no scorer at module level"),
        (
            "raising_mod",
            "raise RuntimeError('no config')\n",
            "importing 'raising_mod' failed: RuntimeError: no config",
        ),
        (
            "clash_mod",
            """
     from spyglass.evaluator.scorers import scorer
     @scorer(name="same")
     def a(outputs): return 1
     @scorer(name="same")
     def b(outputs): return 0
     """,
            "two scorers answer to 'same' (clash_mod.a and clash_mod.b)",
        ),
    ],
)
def test_load_modules_rejects_unusable_modules(
    write_module: Callable[[str, str], str], name: str, source: str, fragment: str
) -> None:
    write_module(name, source)
    with pytest.raises(ConfigurationError) as caught:
        refs.load_modules([name])
    assert f"--scorers-module {name}: {fragment}" in str(caught.value)


def test_load_modules_names_a_missing_module() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"--scorers-module nope\.scorers: cannot import "
        r"'nope\.scorers' \(No module named 'nope'\)",
    ):
        refs.load_modules(["nope.scorers"])


# -- the worker's view: per-ref results --------------------------------------------------------


def test_resolve_all_keeps_what_cannot_be_loaded_as_an_error() -> None:
    found = refs.resolve_all(
        [
            jobs_pb2.ScorerRef(type="ExactMatch"),
            jobs_pb2.ScorerRef(type="mypkg.scorers:quality", params_json='{"name": "q"}'),
            jobs_pb2.ScorerRef(type="mypkg.scorers:tone"),
            jobs_pb2.ScorerRef(type="Guidelines"),
            jobs_pb2.ScorerRef(type="registered_elsewhere"),
        ]
    )
    assert isinstance(found[0], ExactMatch)
    unresolved = found[1:]
    assert all(isinstance(u, refs.UnresolvedScorer) for u in unresolved)
    assert [u.name for u in unresolved] == ["q", "tone", "guidelines", "registered_elsewhere"]
    assert unresolved[0].error == (
        "could not load scorer 'mypkg.scorers:quality': cannot import 'mypkg.scorers' (No module "
        "named 'mypkg'); make it importable here and on every evaluator, or register it with "
        "--scorers-module"
    )
    assert unresolved[2].error.startswith(
        "could not load scorer 'Guidelines': missing 1 required keyword-only argument"
    )
    assert "unknown scorer 'registered_elsewhere'" in unresolved[3].error


# -- to_ref: the one parser of user forms ------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind, params",
    [
        ("Guidelines", "Guidelines", {}),
        ("  mypkg.scorers:fn  ", "mypkg.scorers:fn", {}),
        ("concise", "concise", {}),
        (
            '{"type": "Guidelines", "name": "p", "guidelines": ["a", "b"]}',
            "Guidelines",
            {"name": "p", "guidelines": ["a", "b"]},
        ),
        (' {"type": " ExactMatch "} ', "ExactMatch", {}),
    ],
)
def test_to_ref_parses_cli_strings(text: str, kind: str, params: dict) -> None:
    ref = refs.to_ref(text)
    assert ref.type == kind
    assert (json.loads(ref.params_json) if ref.params_json else {}) == params


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("", "empty scorer reference"),
        ("{'type': 'Guidelines'}", "is not valid JSON"),
        ('{"name": "x"}', 'has no "type"'),
        ({"type": ""}, 'has no "type"'),
        ({"type": "Guidelines", "guidelines": {1, 2}}, "its parameters must be JSON values"),
        (
            Guidelines(guidelines="Be polite"),
            'name it by reference instead: {"type": "Guidelines", ...its parameters}',
        ),
        (lambda outputs: 1, "'package.module:attribute' (defined at module level"),
    ],
)
def test_to_ref_rejects_what_cannot_be_a_reference(spec: object, fragment: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        refs.to_ref(spec)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def test_to_ref_names_importable_objects_by_path() -> None:
    assert (
        refs.to_ref(support_scorers.contains_required_info).type
        == f"{FIXTURES}:contains_required_info"
    )
    assert refs.to_ref(support_scorers.LengthAtMost).type == f"{FIXTURES}:LengthAtMost"
    assert refs.to_ref(Guidelines).type == "Guidelines"


def test_refs_round_trip_through_the_job_entity() -> None:
    spec = {"type": "Guidelines", "name": "polite", "guidelines": "Be polite"}
    job = jobs_pb2.EvaluationJob(job_id="j", scorers=[refs.to_ref(spec), refs.to_ref("Safety")])
    assert EvaluationJob.from_proto(job).scorers == [spec, {"type": "Safety"}]


# -- check_locally: the submitter's check ------------------------------------------------------


def test_check_locally_returns_refs_and_leaves_unknown_types_to_the_collector() -> None:
    checked = refs.check_locally(
        [
            "ExactMatch",
            {"type": "registered_elsewhere", "x": 1},
            f"{FIXTURES}:contains_required_info",
        ]
    )
    assert [r.type for r in checked] == [
        "ExactMatch",
        "registered_elsewhere",
        f"{FIXTURES}:contains_required_info",
    ]
    assert refs.check_locally("Safety")[0].type == "Safety"


def test_check_locally_lists_every_problem() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        refs.check_locally(
            [
                {"type": "Guidelines", "guidelins": "x"},
                "mypkg.scorers:contains_required_info",
                "ExactMatch",
            ]
        )
    message = str(caught.value)
    assert "scorer 'Guidelines': unknown parameter(s) guidelins; it takes guidelines" in message
    assert (
        "cannot import 'mypkg.scorers' (No module named 'mypkg'); make it importable here "
        "and on every evaluator, or register it with --scorers-module"
    ) in message


@pytest.mark.parametrize(
    "specs, fragment",
    [
        (
            ["ExactMatch", {"type": "ExactMatch", "key": "other"}],
            "two scorers are named 'exact_match'; give them distinct names",
        ),
        ([], "give at least one scorer"),
        (
            [jobs_pb2.ScorerRef(type="registered_elsewhere", params_json="{bad")],
            "scorer 'registered_elsewhere': params are not valid JSON",
        ),
    ],
)
def test_check_locally_rejects(specs: list, fragment: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        refs.check_locally(specs)
    assert fragment in str(caught.value)


def test_expected_names_without_loading() -> None:
    assert refs.expected_name("Correctness") == "correctness"
    assert refs.expected_name({"type": "Guidelines", "name": "polite"}) == "polite"
    assert refs.expected_name("mypkg.scorers:Tone.strict") == "strict"
    assert refs.expected_name("registered") == "registered"
