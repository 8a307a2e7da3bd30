"""Redaction of secrets and personal data in span and event attributes, before storage.

LLM traces capture prompts, tool arguments and HTTP headers verbatim, so API keys and tokens
end up in attributes. The collector runs :meth:`RedactionRules.apply` on every span's (and
span event's) attributes before anything is stored:

* ``keys``: case-insensitive glob patterns on attribute keys (``*api_key*``). The whole value
  of a matching key, at any nesting depth, becomes ``"[REDACTED]"``.
* ``patterns``: named regular expressions. Each match inside a string value becomes
  ``"[REDACTED:<name>]"``. Built-ins cover common key and token shapes; ``credit_card``
  matches are Luhn-checked so that ordinary long numbers survive.

``apply`` runs for every span on the hot path, so all patterns are compiled into ONE
alternation, all key globs into ONE regex whose per-key verdict is remembered (attribute keys
repeat endlessly), non-strings are skipped by type, and rules with nothing to do return at
once.

Config file (JSON, or TOML if the name ends in ``.toml``)::

    {"keys": ["*session_id*"], "builtins": ["email"],
     "patterns": {"order_id": "ORD-[0-9]{6}"}, "defaults": true}
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from spyglass.errors import ConfigurationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

REDACTED = "[REDACTED]"
"""Replacement for the whole value of an attribute whose key matches a key rule."""

_TOKEN = r"[A-Za-z0-9_-]"
BUILTIN_PATTERNS: Mapping[str, str] = MappingProxyType({
    "email": (
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
        r"(?![A-Za-z0-9-])"
    ),
    # sk-<48>, sk-proj-<...>, sk-svcacct-<...>, sk-admin-<...>; never sk-ant- (Anthropic).
    # The digit look-ahead keeps kebab-case words like "sk-learn-style-identifiers" out.
    "openai_api_key": (
        rf"(?<!{_TOKEN})sk-(?!ant-)(?:proj-|svcacct-|admin-)?(?={_TOKEN}*[0-9]){_TOKEN}{{20,}}"
    ),
    "anthropic_api_key": rf"(?<!{_TOKEN})sk-ant-{_TOKEN}{{20,}}",
    "aws_access_key_id": r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",
    # RFC 6750 token68; a digit is required so that prose ("bearer of bad news") survives.
    "bearer_token": (
        r"(?<![A-Za-z0-9])(?i:bearer)\s+(?=[A-Za-z0-9._~+/-]*[0-9])[A-Za-z0-9._~+/-]{8,}=*"
    ),
    # 13-19 digits, single spaces or dashes between them; Luhn-checked after matching.
    "credit_card": r"(?<![0-9])(?<![0-9][ -])(?:[0-9][ -]?){12,18}[0-9](?![0-9])(?![ -][0-9])",
    "jwt": rf"(?<!{_TOKEN})eyJ{_TOKEN}{{5,}}\.eyJ{_TOKEN}{{5,}}\.{_TOKEN}*",
})
"""Named patterns that configurations can enable by name."""

DEFAULT_KEYS: tuple[str, ...] = (
    "*api_key*", "*api-key*", "*apikey*", "*authorization*", "*password*", "*secret*",
    "*access_token*", "*x-api-key*",
)
DEFAULT_BUILTINS: tuple[str, ...] = (
    "openai_api_key", "anthropic_api_key", "aws_access_key_id", "bearer_token", "jwt",
)
"""Built-ins on by default. ``email`` and ``credit_card`` are opt-in: many apps trace them
legitimately (support bots, checkout flows) and would lose the data they debug with."""

_CONFIG_FIELDS = ("keys", "builtins", "patterns", "defaults")
_PATTERN_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_LEADING_FLAGS = re.compile(r"\(\?([imsx]+)\)")
_KEY_CACHE_LIMIT = 65_536
"""Distinct attribute keys remembered; keys come from apps, so the memo is bounded."""


def _luhn_valid(text: str) -> bool:
    digits = [ord(c) - 48 for c in text if "0" <= c <= "9"]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


_VALIDATORS: Mapping[str, Callable[[str], bool]] = MappingProxyType({
    "credit_card": _luhn_valid,
})
"""Extra checks a built-in's match must pass to be redacted (by built-in name)."""


@dataclass(frozen=True)
class RedactionRules:
    """Key globs and named value patterns; see the module docstring.

    ``patterns`` maps a name (used in ``[REDACTED:<name>]``) to a regular expression. Use
    :meth:`default`, :meth:`none` or :meth:`from_config` rather than spelling built-ins out.
    """

    keys: tuple[str, ...] = ()
    patterns: Mapping[str, str] = field(default_factory=dict)
    _key_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _value_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _group_names: dict[str, str] = field(init=False, repr=False, compare=False)
    _key_cache: dict[str, bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        object.__setattr__(self, "patterns", MappingProxyType(dict(self.patterns)))
        object.__setattr__(self, "_key_regex", _compile_keys(self.keys))
        value_regex, group_names = _compile_patterns(self.patterns)
        object.__setattr__(self, "_value_regex", value_regex)
        object.__setattr__(self, "_group_names", group_names)
        object.__setattr__(self, "_key_cache", {})

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def default(cls) -> RedactionRules:
        """The default key globs and built-ins (no email, no credit_card)."""
        return cls(DEFAULT_KEYS, _builtins(DEFAULT_BUILTINS, "defaults"))

    @classmethod
    def none(cls) -> RedactionRules:
        """No rules: :meth:`apply` leaves everything untouched."""
        return cls()

    @classmethod
    def from_config(
        cls,
        file: str | None = None,
        builtins: Sequence[str] | None = None,
        keys: Sequence[str] | None = None,
        defaults: bool = True,
    ) -> RedactionRules:
        """Rules from an optional config file plus extra built-ins and key globs.

        The defaults are included unless ``defaults`` is False or the file says
        ``"defaults": false``. Everything else is added together.
        """
        config = _read_config(file) if file is not None else {}
        where = f"redaction config {file}" if file is not None else "redaction settings"
        use_defaults = defaults and config.get("defaults", True)
        all_keys = [*(DEFAULT_KEYS if use_defaults else ()), *config.get("keys", ()),
                    *(keys or ())]
        all_builtins = [*(DEFAULT_BUILTINS if use_defaults else ()),
                        *config.get("builtins", ()), *(builtins or ())]
        _check_strings(keys or (), "key patterns", where)
        _check_strings(builtins or (), "builtins", where)
        patterns = _builtins(all_builtins, where)
        patterns.update(_custom_patterns(config.get("patterns", {}), where))
        return cls(tuple(dict.fromkeys(all_keys)), patterns)

    # --- applying -------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        """False when there is nothing to redact (``apply`` is then a no-op)."""
        return self._key_regex is not None or self._value_regex is not None

    def apply(self, attributes: dict[str, Any]) -> int:
        """Redact ``attributes`` in place; return how many values were changed."""
        if self._key_regex is None and self._value_regex is None:
            return 0
        return self._redact_dict(attributes)

    def redact_text(self, text: str) -> str:
        """``text`` with every pattern match replaced (key rules do not apply)."""
        if self._value_regex is None:
            return text
        return self._value_regex.sub(self._replace_match, text)

    def key_matches(self, key: str) -> bool:
        """Whether the value of attribute ``key`` is redacted whole."""
        cache = self._key_cache
        hit = cache.get(key)
        if hit is None:
            hit = self._key_regex is not None and self._key_regex.match(key) is not None
            if len(cache) >= _KEY_CACHE_LIMIT:
                cache.clear()
            cache[key] = hit
        return hit

    def _redact_dict(self, mapping: dict[Any, Any]) -> int:
        changed = 0
        for key, value in mapping.items():  # assigning existing keys while iterating is safe
            if isinstance(key, str) and self.key_matches(key):
                if value is not None and value != "" and value != REDACTED:
                    mapping[key] = REDACTED
                    changed += 1
                continue
            new, count = self._redact_value(value)
            if count:
                if new is not value:
                    mapping[key] = new
                changed += count
        return changed

    def _redact_list(self, items: list[Any]) -> int:
        changed = 0
        for index, value in enumerate(items):
            new, count = self._redact_value(value)
            if count:
                if new is not value:
                    items[index] = new
                changed += count
        return changed

    def _redact_value(self, value: Any) -> tuple[Any, int]:
        """(new value, values changed). Lists and dicts are changed in place."""
        kind = type(value)
        if kind is str:
            if self._value_regex is None:
                return value, 0
            new = self._value_regex.sub(self._replace_match, value)
            return new, int(new != value)
        if kind is dict:
            return value, self._redact_dict(value)
        if kind is list:
            return value, self._redact_list(value)
        if kind is tuple:
            items = list(value)
            count = self._redact_list(items)
            return (tuple(items) if count else value), count
        if isinstance(value, str):  # str subclasses: rare, off the fast path
            return self._redact_value(str(value))
        return value, 0  # int, float, bool, bytes, None: nothing to match

    def _replace_match(self, match: re.Match[str]) -> str:
        name = self._group_names[match.lastgroup]
        validator = _VALIDATORS.get(name)
        if validator is not None and not validator(match.group()):
            return match.group()
        return f"[REDACTED:{name}]"


# --- compiling ----------------------------------------------------------------------------


def _compile_keys(globs: Sequence[str]) -> re.Pattern[str] | None:
    if not globs:
        return None
    for glob in globs:
        if not isinstance(glob, str) or not glob:
            raise ConfigurationError(
                f"redaction key pattern {glob!r} must be a non-empty glob such as '*api_key*'"
            )
    return re.compile("|".join(fnmatch.translate(glob) for glob in globs), re.IGNORECASE)


def _compile_patterns(
    patterns: Mapping[str, str],
) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One alternation of all patterns, each in a named group ``_p<i>``; group -> name."""
    if not patterns:
        return None, {}
    group_names: dict[str, str] = {}
    alternatives = []
    for index, (name, source) in enumerate(patterns.items()):
        _check_pattern(name, source)
        group = f"_p{index}"
        group_names[group] = name
        alternatives.append(f"(?P<{group}>{_scope_leading_flags(source)})")
    try:
        combined = re.compile("|".join(alternatives))
    except re.error as exc:
        raise ConfigurationError(
            f"redaction patterns {', '.join(map(repr, patterns))} each compile but not "
            f"together ({exc}); use unique group names and no numbered backreferences"
        ) from exc
    return combined, group_names


def _check_pattern(name: str, source: str) -> None:
    if not isinstance(name, str) or not _PATTERN_NAME.fullmatch(name):
        raise ConfigurationError(
            f"redaction pattern name {name!r} must be letters, digits, '_', '.' or '-'"
        )
    if not isinstance(source, str) or not source:
        raise ConfigurationError(
            f"redaction pattern {name!r} must be a non-empty regular expression string"
        )
    try:
        compiled = re.compile(source)
    except re.error as exc:
        raise ConfigurationError(
            f"redaction pattern {name!r} is not a valid regular expression ({exc}): {source!r}"
        ) from exc
    if compiled.fullmatch(""):
        raise ConfigurationError(
            f"redaction pattern {name!r} matches the empty string, so it would redact "
            f"everywhere: {source!r}; make it require at least one character"
        )


def _scope_leading_flags(source: str) -> str:
    """``(?i)abc`` -> ``(?i:abc)``: global flags are only allowed at the very start."""
    match = _LEADING_FLAGS.match(source)
    if match is None:
        return source
    return f"(?{match.group(1)}:{source[match.end():]})"


def _builtins(names: Sequence[str], where: str) -> dict[str, str]:
    unknown = [name for name in names if name not in BUILTIN_PATTERNS]
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown built-in redaction pattern(s) {', '.join(map(repr, unknown))}; "
            f"valid built-ins: {', '.join(BUILTIN_PATTERNS)}"
        )
    return {name: BUILTIN_PATTERNS[name] for name in names}


def _custom_patterns(patterns: Any, where: str) -> dict[str, str]:
    if not isinstance(patterns, dict):
        raise ConfigurationError(
            f'{where}: "patterns" must map names to regular expressions, '
            f'e.g. {{"order_id": "ORD-[0-9]{{6}}"}}'
        )
    clashes = [name for name in patterns if name in BUILTIN_PATTERNS]
    if clashes:
        raise ConfigurationError(
            f"{where}: pattern name(s) {', '.join(map(repr, clashes))} are built-in names; "
            f'enable built-ins with "builtins" and give custom patterns other names '
            f"(built-ins: {', '.join(BUILTIN_PATTERNS)})"
        )
    for name, source in patterns.items():
        try:
            _check_pattern(name, source)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
    return dict(patterns)


# --- config files -------------------------------------------------------------------------


def _read_config(path: str) -> dict[str, Any]:
    where = f"redaction config {path}"
    data = _parse_file(path, where)
    if not isinstance(data, dict):
        raise ConfigurationError(
            f'{where}: expected an object like {{"keys": [...], "builtins": [...]}}, '
            f"got {type(data).__name__}"
        )
    unknown = sorted(set(data) - set(_CONFIG_FIELDS))
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(_CONFIG_FIELDS)}"
        )
    if not isinstance(data.get("defaults", True), bool):
        raise ConfigurationError(f'{where}: "defaults" must be true or false')
    _check_strings(data.get("keys", []), '"keys"', where)
    _check_strings(data.get("builtins", []), '"builtins"', where)
    return data


def _check_strings(values: Any, what: str, where: str) -> None:
    if isinstance(values, str) or not isinstance(values, (list, tuple)) \
            or not all(isinstance(v, str) and v for v in values):
        raise ConfigurationError(
            f"{where}: {what} must be a list of non-empty strings, got {values!r}"
        )


def _parse_file(path: str, where: str) -> Any:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"{where}: file not found; fix the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{where}: cannot be read ({exc})") from exc
    if file.suffix.lower() == ".toml":
        if tomllib is None:  # pragma: no cover - Python 3.10 without tomli
            raise ConfigurationError(
                f"{where}: reading TOML needs Python 3.11+ or the 'tomli' package; "
                "install tomli or use a JSON file"
            )
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{where}: not valid TOML ({exc})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"{where}: not valid JSON ({exc}); use JSON, or TOML with a .toml name"
        ) from exc
