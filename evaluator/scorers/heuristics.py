"""Scorers that need no model: exact match, must-mention terms, regex, JSON validity/schema.

Each takes its reference either as an argument or from the row's expectations (see
:mod:`.expectations` for where it looks), and returns a bool or a fraction with a rationale
saying what it found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from spyglass.errors import InvalidArgumentError

from .base import Scorer
from .expectations import MISSING, find_expectation
from .results import Feedback


def as_text(value: Any) -> str:
    """A value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class ExactMatch(Scorer):
    """Is the output equal to ``expectations[key]`` (default ``expected_response``)?

    Strings are compared after stripping surrounding whitespace (``strip=False`` keeps it)
    and, with ``case_sensitive=False``, ignoring case; other values compare as JSON text.
    """

    def __init__(
        self,
        *,
        key: str = "expected_response",
        case_sensitive: bool = True,
        strip: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.key, self.case_sensitive, self.strip = key, case_sensitive, strip

    def _canonical(self, value: Any) -> str:
        text = as_text(value)
        text = text.strip() if self.strip else text
        return text if self.case_sensitive else text.casefold()

    def __call__(self, outputs: Any, expectations: dict[str, Any]) -> Feedback:
        expected = find_expectation(expectations, self.key)
        if expected is MISSING:
            raise self.missing(f"expectations.{self.key}")
        same = self._canonical(outputs) == self._canonical(expected)
        return Feedback(
            value=same,
            rationale="The output equals the expected response."
            if same
            else f"The output differs from the expected {as_text(expected)!r}.",
        )


class Contains(Scorer):
    """Which share of the required terms does the output mention?

    Terms come from ``terms=`` or else from ``expectations[key]`` (default ``must_mention``,
    also found inside a nested expectation such as ``key_information``). A row with no terms is
    not applicable (no score). Matching ignores case unless ``case_sensitive=True``.
    """

    def __init__(
        self,
        *,
        terms: Sequence[str] | None = None,
        key: str = "must_mention",
        case_sensitive: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        if terms is not None:
            terms = [terms] if isinstance(terms, str) else list(terms)
            if not terms or not all(isinstance(t, str) and t for t in terms):
                raise InvalidArgumentError(
                    f"Contains(terms=...) must be non-empty strings, got {terms!r}"
                )
        self.terms, self.key, self.case_sensitive = terms, key, case_sensitive

    def __call__(self, outputs: Any, expectations: dict[str, Any]) -> Feedback | None:
        terms = self.terms
        if terms is None:
            found = find_expectation(expectations, self.key)
            if found is MISSING or found in (None, "", []):
                return None
            terms = [found] if isinstance(found, str) else [str(t) for t in found]
        text = as_text(outputs)
        fold = (lambda s: s) if self.case_sensitive else str.casefold
        hits = [t for t in terms if fold(t) in fold(text)]
        absent = [t for t in terms if t not in hits]
        rationale = f"Mentions {len(hits)} of {len(terms)} required terms"
        rationale += f"; missing: {', '.join(absent)}." if absent else "."
        return Feedback(value=len(hits) / len(terms), rationale=rationale)


class RegexMatch(Scorer):
    """Does the output match ``pattern`` (searched anywhere, or whole with ``full=True``)?"""

    def __init__(self, *, pattern: str, flags: int = 0, full: bool = False, **options: Any) -> None:
        super().__init__(**options)
        try:
            self.pattern = re.compile(pattern, flags)
        except (re.error, TypeError) as exc:
            raise InvalidArgumentError(
                f"RegexMatch(pattern={pattern!r}) is not a valid regular expression: {exc}"
            ) from exc
        self.full = full

    def __call__(self, outputs: Any) -> Feedback:
        text = as_text(outputs)
        match = self.pattern.fullmatch(text) if self.full else self.pattern.search(text)
        how = "fully matches" if self.full else "contains a match of"
        return Feedback(
            value=match is not None,
            rationale=f"The output {how if match else 'does not match'} /{self.pattern.pattern}/.",
        )


def _parsed(outputs: Any) -> tuple[Any, str | None]:
    """The output as a JSON value, and why it is not one (None when it is)."""
    if isinstance(outputs, (dict, list)):
        return outputs, None
    if not isinstance(outputs, str):
        return None, f"the output is a {type(outputs).__name__}, not JSON text"
    try:
        return json.loads(outputs), None
    except ValueError as exc:
        return None, f"the output is not valid JSON: {exc}"


class JsonValid(Scorer):
    """Is the output valid JSON (a JSON string, or already a dict/list)?"""

    def __call__(self, outputs: Any) -> Feedback:
        _, problem = _parsed(outputs)
        return Feedback(
            value=problem is None,
            rationale="The output is valid JSON."
            if problem is None
            else problem[0].upper() + problem[1:] + ".",
        )


class JsonSchema(Scorer):
    """Does the output (JSON) validate against ``schema``, or else ``expectations[key]``
    (default ``json_schema``)? Schemas are checked with the ``jsonschema`` library, in the
    draft their ``$schema`` names (2020-12 when none)."""

    def __init__(
        self, *, schema: dict[str, Any] | None = None, key: str = "json_schema", **options: Any
    ) -> None:
        super().__init__(**options)
        self.validator = (
            _validator(schema, "JsonSchema(schema=...)") if schema is not None else None
        )
        self.key = key

    def __call__(self, outputs: Any, expectations: dict[str, Any]) -> Feedback:
        validator = self.validator
        if validator is None:
            schema = find_expectation(expectations, self.key)
            if schema is MISSING:
                raise self.missing(f"a schema: JsonSchema(schema=...) or expectations.{self.key}")
            validator = _validator(schema, f"expectations.{self.key}")
        document, problem = _parsed(outputs)
        if problem is not None:
            return Feedback(value=False, rationale=problem[0].upper() + problem[1:] + ".")
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        if not errors:
            return Feedback(value=True, rationale="The output matches the schema.")
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        return Feedback(
            value=False,
            metadata={"error_count": len(errors)},
            rationale=f"{len(errors)} schema violation(s); at {where}: {first.message}.",
        )


def _validator(schema: Any, where: str) -> Any:
    import jsonschema

    if not isinstance(schema, (dict, bool)):
        raise InvalidArgumentError(
            f"{where} must be a JSON schema (an object), got {type(schema).__name__}"
        )
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        # the stubs' Validator protocol takes a dict; jsonschema accepts boolean schemas too
        cls.check_schema(schema)  # type: ignore[arg-type]
    except jsonschema.SchemaError as exc:
        raise InvalidArgumentError(f"{where} is not a valid JSON schema: {exc.message}") from exc
    return cls(schema)
