"""Redaction of secrets and personal data in span and event attributes, before storage.

LLM traces capture prompts, tool arguments and HTTP headers verbatim, so API keys and tokens
end up in attributes. The collector runs :meth:`RedactionRules.apply` on every span's (and
span event's) attributes before anything is stored:

* key rules: case-insensitive glob patterns on attribute keys (``*api_key*``). The whole
  value of a matching key, at any nesting depth, becomes ``"[REDACTED]"``. This includes
  keys inside string values that hold JSON text (tags, metadata, tool arguments in
  ``input.value``): such a string is parsed, redacted and written back as compact JSON.
* pattern rules: named regular expressions (built-ins and custom ones). Each match inside a
  string value becomes ``"[REDACTED:<name>]"``. ``credit_card`` matches are Luhn-checked so
  that ordinary long numbers survive.

Config file (JSON, or TOML if the name ends in ``.toml``)::

    {"keys": ["*session_id*"], "builtins": ["email"],
     "patterns": {"order_id": "ORD-[0-9]{6}"}, "defaults": true}

Hot path. ``apply`` runs for every span, and prompt attributes are kilobytes long, so:

* all key globs are compiled into ONE regex whose verdict is memoised per key (keys repeat
  endlessly); non-strings are skipped by type; rules with nothing to do return at once;
* strings shorter than the shortest possible match are skipped with one ``len``;
* built-ins declare trigger substrings (``sk-``, ``AKIA``, ``eyJ``, ``Bearer``, ``basic``,
  ``@``, ...), one of which every match contains. Each trigger is searched from its rarest
  character (its anchor): a one-character ``in`` is a ``memchr``, ~30x faster than ``in``
  with a short needle, and only where the anchor occurs does a regex made of the anchor
  plus look-arounds check the rest. When no trigger occurs (nearly always), a string costs
  a few ``memchr`` scans and no pattern regex;
* otherwise each pattern runs as its own regex, in order. One alternation of all patterns
  with named groups was measured ~30x slower on a 5 KB prompt (700 us vs 24 us per span for
  the defaults): CPython's ``re`` only skips ahead fast when a pattern starts with a literal,
  which an alternation of look-behind-guarded patterns never does (a set of first
  characters is scanned at ~5 ns per character, a literal at ~0.3 ns). So the key-shaped
  built-ins start with their literal and check the boundary look-behind after it.

* JSON text is parsed only when it starts like a JSON object or array AND its lower-cased
  text holds the literal part of a key glob (``api_key``, ``password``, ...) inside a
  string followed by ``:`` (an object key). A JSON document without one is not parsed,
  even when its prose says "password".

* ``apply`` first screens a whole attribute dict (:meth:`RedactionRules._nothing_to_redact`):
  the strings long enough to matter are joined and scanned for triggers ONCE, and the
  JSON-looking ones joined and scanned for key-like runs ONCE (found in the reversed text,
  where they follow a rare ``:``, so the regex skips ahead; the verdict for a set of keys is
  memoised, as JSON texts repeat their keys). Joining can only add hits, never hide one. A
  dict that passes is left alone; anything else (a hit, a key rule match, nested values)
  takes the full walk above, which decides. On the benchmark's GenAI spans (~1.4 KB, prose
  saying "password") the screen costs ~5 us per span against ~14 us for the walk.

``credit_card`` has no trigger (digits are everywhere), so enabling it costs a digit scan of
every string of 13+ characters (~35 us per 5 KB).
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import orjson

from spyglass.config_files import read_config_file
from spyglass.errors import ConfigurationError
from spyglass.lenient_json import dumps

REDACTED = "[REDACTED]"
"""Replacement for the whole value of an attribute whose key matches a key rule."""


def _luhn_valid(text: str) -> bool:
    """Luhn checksum over the digits of ``text`` (separators ignored)."""
    total = 0
    for position, char in enumerate(reversed([c for c in text if "0" <= c <= "9"])):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _basic_credentials(text: str) -> bool:
    """Whether the token of ``Basic <token>`` is base64 of printable ``user:password`` text,
    so that prose such as "basic settings" survives."""
    token = text.split()[-1]
    if len(token) % 4:
        return False
    try:
        decoded = base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


@dataclass(frozen=True)
class _Builtin:
    regex: str
    triggers: tuple[str, ...] = ()
    """Substrings of which every match contains one; the regex is skipped if none is present."""
    validator: Callable[[str], bool] | None = None
    """A match is only redacted if this returns True for it."""


_T = "A-Za-z0-9_-"  # characters of API keys and JWT segments
_BUILTINS: Mapping[str, _Builtin] = MappingProxyType(
    {
        "email": _Builtin(
            r"[A-Za-z0-9._%+-](?<![A-Za-z0-9._%+-]{2})[A-Za-z0-9._%+-]*"
            r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])",
            triggers=("@",),
        ),
        # sk-<48>, sk-proj-…, sk-svcacct-…, sk-admin-…; never sk-ant- (Anthropic). The digit
        # look-ahead keeps kebab-case words such as "sk-learn-style-identifiers" out.
        "openai_api_key": _Builtin(
            rf"sk-(?<![{_T}]sk-)(?!ant-)(?:proj-|svcacct-|admin-)?(?=[{_T}]*[0-9])[{_T}]{{20,}}",
            triggers=("sk-",),
        ),
        "anthropic_api_key": _Builtin(
            rf"sk-ant-(?<![{_T}]sk-ant-)[{_T}]{{20,}}", triggers=("sk-ant-",)
        ),
        "aws_access_key_id": _Builtin(
            r"A(?<![A-Za-z0-9]A)(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])", triggers=("AKIA", "ASIA")
        ),
        # RFC 6750 token68 after "Bearer"/"bearer"/"BEARER". A digit is required so that prose
        # ("bearer authentication") survives; real tokens virtually always contain one.
        "bearer_token": _Builtin(
            r"(?<![A-Za-z0-9])(?:[Bb]earer|BEARER)[ \t]+(?=[A-Za-z0-9._~+/-]*[0-9])"
            r"[A-Za-z0-9._~+/-]{8,}=*",
            triggers=("Bearer", "bearer", "BEARER"),
        ),
        # RFC 7617 "Basic <base64 of user:password>"; the token must decode to such text.
        "basic_auth": _Builtin(
            r"(?<![A-Za-z0-9])(?:[Bb]asic|BASIC)[ \t]+[A-Za-z0-9+/]{4,}={0,2}(?![A-Za-z0-9+/=])",
            triggers=("Basic", "basic", "BASIC"),
            validator=_basic_credentials,
        ),
        # 13-19 digits, Luhn-checked: contiguous, or in the printed layouts 4-4-4-4 and 4-6-5 /
        # 4-6-4 (Amex, Diners) with spaces or dashes. Layouts rather than "a separator anywhere"
        # so that a neighbouring number ("qty 2 4111...") cannot join the card and fail Luhn.
        "credit_card": _Builtin(
            r"[0-9](?<![0-9]{2})"
            r"(?:[0-9]{12,18}|[0-9]{3}(?:[ -][0-9]{4}){3}|[0-9]{3}[ -][0-9]{6}[ -][0-9]{4,5})"
            r"(?![0-9])",
            validator=_luhn_valid,
        ),
        "jwt": _Builtin(
            rf"eyJ(?<![{_T}]eyJ)[{_T}]{{5,}}\.eyJ[{_T}]{{5,}}\.[{_T}]*", triggers=("eyJ",)
        ),
    }
)

BUILTIN_NAMES: tuple[str, ...] = tuple(_BUILTINS)
"""Names of the built-in patterns, for ``builtins`` in configs."""

DEFAULT_KEYS: tuple[str, ...] = (
    "*api_key*",
    "*api-key*",
    "*apikey*",
    "*authorization*",
    "*password*",
    "*secret*",
    "*access_token*",
    "*x-api-key*",
)
DEFAULT_BUILTINS: tuple[str, ...] = (
    "openai_api_key",
    "anthropic_api_key",
    "aws_access_key_id",
    "bearer_token",
    "basic_auth",
    "jwt",
)
"""Built-ins on by default. ``email`` and ``credit_card`` are opt-in: many apps trace them
legitimately (support bots, checkout flows) and would lose the data they debug with."""

_CONFIG_FIELDS = ("keys", "builtins", "patterns", "defaults")
_PATTERN_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_GLOB_ONE_CHAR = re.compile(r"\?|\[[^\]]*\]")  # fnmatch wildcards matching one character
_GLOB_SPECIALS = re.compile(r"\*|\?|\[[^\]]*\]")
_JSON_WRAPPING = len('{"":0}')
"""Characters of the shortest JSON object around a key."""
_JSON_STARTS = frozenset("{[")
_JSON_SPACE = " \t\r\n"
_JSON_FIRST = frozenset("{[" + _JSON_SPACE)  # what JSON text of an object or array starts with
_INERT = frozenset({int, float, bool, bytes, type(None)})
"""Value types the rules never change."""
_RUN_BEFORE_COLON = re.compile(r':(?=[ \t\r\n]*"([^"]*))')
"""In reversed text: the run before a quote that is followed by ``:`` (an object key)."""
_RUN_BEFORE_ESCAPED_QUOTE = re.compile(r'"(\\[^"]*)')
"""In reversed text: the run before a quote preceded by a backslash, backslash included."""
_FREQUENT_CHARS = ' etaoinsrhldcu"mfpgwyb,.:v0123456789k/{}[]-_xjqzETAOINSRHLDCUMFPGWYBVKXJQZ'
"""Characters from the most to the least frequent in prose and JSON, roughly; any other
character counts as rarer than all of them."""
_KEY_CACHE_LIMIT = 65_536
"""Distinct attribute keys (and key sets of JSON texts) remembered; keys come from apps, so
the memos are bounded."""
_JSON_KEYS_CACHED_CHARS = 1024
"""Longest key set of a span's JSON texts whose verdict is remembered (their keys repeat
from span to span)."""


@dataclass(frozen=True, slots=True)
class _Pass:
    """One compiled pattern rule, applied to each string value in turn."""

    name: str
    regex: re.Pattern[str]
    replacement: str | Callable[[re.Match[str]], str]
    triggers: tuple[str, ...]
    min_length: int
    anchored: _Anchored = ()
    """``triggers`` grouped by anchor, for :func:`_holds_any`."""


@dataclass(frozen=True)
class RedactionRules:
    """Key globs, built-in pattern names and custom named patterns; see the module docstring.

    Use :meth:`default`, :meth:`none` or :meth:`from_config`; the constructor validates and
    raises :class:`ConfigurationError` for unknown built-ins or bad patterns.
    """

    keys: tuple[str, ...] = ()
    builtins: tuple[str, ...] = ()
    patterns: Mapping[str, str] = field(default_factory=dict)
    _key_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _key_cache: dict[str, bool] = field(init=False, repr=False, compare=False)
    _json_key_cache: dict[str, bool] = field(init=False, repr=False, compare=False)
    _passes: tuple[_Pass, ...] = field(init=False, repr=False, compare=False)
    _min_length: int = field(init=False, repr=False, compare=False)
    _needles: tuple[str, ...] | None = field(init=False, repr=False, compare=False)
    _anchored: _Anchored | None = field(init=False, repr=False, compare=False)
    _key_needles: tuple[str, ...] | None = field(init=False, repr=False, compare=False)
    _skip_below: int = field(init=False, repr=False, compare=False)
    _screens: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_strings(self.keys, "key patterns", "redaction rules")
        _check_strings(self.builtins, "builtins", "redaction rules")
        keys = tuple(dict.fromkeys(self.keys))
        builtins = tuple(dict.fromkeys(self.builtins))
        _check_builtin_names(builtins, "redaction rules")
        patterns = MappingProxyType(_custom_patterns(self.patterns, "redaction rules"))
        passes = tuple(
            [_builtin_pass(name) for name in builtins]
            + [_custom_pass(name, source) for name, source in patterns.items()]
        )
        min_length = min((p.min_length for p in passes), default=0)
        needles = _needles(passes)
        key_needles = _key_needles(keys)
        for name, value in (
            ("keys", keys),
            ("builtins", builtins),
            ("patterns", patterns),
            ("_key_regex", _compile_keys(keys)),
            ("_key_cache", {}),
            ("_json_key_cache", {}),
            ("_passes", passes),
            ("_min_length", min_length),
            ("_needles", needles),
            ("_anchored", None if needles is None else _anchor(needles)),
            ("_key_needles", key_needles),
            ("_skip_below", _skip_below(passes, min_length, keys)),
            ("_screens", _can_screen(passes, needles, keys, key_needles)),
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def default(cls) -> RedactionRules:
        """The default key globs and built-ins (no ``email``, no ``credit_card``)."""
        return cls(keys=DEFAULT_KEYS, builtins=DEFAULT_BUILTINS)

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
        ``"defaults": false``; everything else is added together.
        """
        where = "redaction settings"
        _check_strings(keys or [], "key patterns", where)
        _check_strings(builtins or [], "builtins", where)
        _check_builtin_names(builtins or (), where)
        config = _read_config(file) if file is not None else {}
        use_defaults = defaults and config.get("defaults", True)
        return cls(
            keys=(*(DEFAULT_KEYS if use_defaults else ()), *config.get("keys", ()), *(keys or ())),
            builtins=(
                *(DEFAULT_BUILTINS if use_defaults else ()),
                *config.get("builtins", ()),
                *(builtins or ()),
            ),
            patterns=config.get("patterns", {}),
        )

    @property
    def enabled(self) -> bool:
        """False when there is nothing to redact (``apply`` is then a no-op)."""
        return self._key_regex is not None or bool(self._passes)

    def apply(self, attributes: dict[str, Any]) -> int:
        """Redact ``attributes`` in place; return how many values were changed."""
        if self._key_regex is None and not self._passes:
            return 0
        if self._screens and self._nothing_to_redact(attributes):
            return 0
        return self._redact_dict(attributes)

    def redact_text(self, text: str) -> str:
        """``text`` with every pattern match replaced (key rules do not apply)."""
        if len(text) < self._min_length:
            return text
        if self._anchored is not None and not _holds_any(text, self._anchored):
            return text
        for rule in self._passes:
            if len(text) < rule.min_length:
                continue
            if rule.anchored and not _holds_any(text, rule.anchored):
                continue
            text = rule.regex.sub(rule.replacement, text)
        return text

    def key_matches(self, key: str) -> bool:
        """Whether the whole value of attribute ``key`` is redacted."""
        cache = self._key_cache
        hit = cache.get(key)
        if hit is None:
            hit = self._key_regex is not None and self._key_regex.match(key) is not None
            if len(cache) >= _KEY_CACHE_LIMIT:
                cache.clear()
            cache[key] = hit
        return hit

    def _nothing_to_redact(self, attributes: dict[Any, Any]) -> bool:
        """True only if :meth:`_redact_dict` would change nothing in ``attributes``; False
        means "maybe" and the full walk decides.

        One pass over the values collects the strings long enough to matter, then ONE needle
        scan runs over all of them joined (not one per string), and the JSON-looking ones get
        one key scan together. Joining can only add hits (a needle across two strings), never
        hide one. Anything unusual (a key rule hit, a nested value, a non-``str`` key) answers
        False at once.
        """
        cache = self._key_cache
        skip_below = self._skip_below
        texts = []
        json_texts = []
        for key, value in attributes.items():
            matches = cache.get(key)
            if matches is None:
                if type(key) is not str:
                    return False
                matches = self.key_matches(key)
            if matches:
                return False
            kind = type(value)
            if kind is str:
                if len(value) >= skip_below:
                    texts.append(value)
                    if value[0] in _JSON_FIRST:
                        json_texts.append(value)
            elif kind not in _INERT:
                return False
        if not texts:
            return True
        anchored = self._anchored
        if anchored is not None and _holds_any("\n".join(texts), anchored):
            return False
        if not json_texts or self._key_regex is None:
            return True
        return not self._json_keys_may_match("\n".join(json_texts))

    def _json_keys_may_match(self, text: str) -> bool:
        """Whether a key needle occurs in a possible JSON object key of ``text``: a run
        without ``"`` that ends at a quote followed by ``:`` (spaces allowed between) or at
        a quote after a backslash, as :func:`_in_a_key` sees it.

        The runs are found with ``text`` reversed, where they follow a ``:`` or ``\\``, so
        that the regex search can jump from one rare literal to the next; only the runs,
        short, are lower-cased and scanned for needles. A run of a lower-cased text is the
        lower-cased run, as its ends are quotes (or ends of the text).
        """
        backwards = text[::-1]
        runs = _RUN_BEFORE_COLON.findall(backwards)
        if "\\" in text:
            runs += _RUN_BEFORE_ESCAPED_QUOTE.findall(backwards)
        if not runs:
            return False
        joined = "\n".join(runs)  # still reversed: the memo below needs no more than this
        cache = self._json_key_cache
        hit = cache.get(joined)
        if hit is None:
            keys = joined[::-1].lower()
            hit = any(needle in keys for needle in self._key_needles or ())
            if len(joined) <= _JSON_KEYS_CACHED_CHARS:
                if len(cache) >= _KEY_CACHE_LIMIT:
                    cache.clear()
                cache[joined] = hit
        return hit

    def _redact_dict(self, mapping: dict[Any, Any]) -> int:
        changed = 0
        cache = self._key_cache
        min_length = self._skip_below
        for key, value in mapping.items():  # assigning existing keys while iterating is safe
            matches = cache.get(key)
            if matches is None:
                matches = type(key) is str and self.key_matches(key)
            if not matches:
                if type(value) is str and len(value) < min_length:
                    continue  # most attribute values: too short to hold a secret
                changed += self._redact_slot(mapping, key, value)
            elif value is not None and value != "" and value != REDACTED:
                mapping[key] = REDACTED
                changed += 1
        return changed

    def _may_hold_json_key(self, text: str) -> bool:
        """Whether ``text`` looks like a JSON object or array with a key a rule may match:
        the literal part of a key glob occurs in a string followed by ``:``."""
        first = text[0]
        if first not in _JSON_STARTS:
            if first not in _JSON_SPACE:
                return False
            stripped = text.lstrip()
            if not stripped or stripped[0] not in _JSON_STARTS:
                return False
        needles = self._key_needles
        if needles is None:
            return True
        lowered = text.lower()
        return any(needle in lowered and _in_a_key(lowered, needle) for needle in needles)

    def _redact_json_text(self, container: Any, slot: Any, text: str) -> int:
        """Redact JSON ``text`` by its keys and patterns, stored back at ``container[slot]``
        as compact JSON if anything changed; 0 when nothing did or it is not JSON."""
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return 0
        try:
            if type(parsed) is dict:
                changed = self._redact_dict(parsed)
            elif type(parsed) is list:
                changed = self._redact_list(parsed)
            else:
                return 0
        except RecursionError:  # too deep to walk: a matching key may hide anywhere in it
            container[slot] = REDACTED
            return 1
        if changed:
            container[slot] = dumps(parsed)
        return changed

    def _redact_list(self, items: list[Any]) -> int:
        return sum(self._redact_slot(items, index, value) for index, value in enumerate(items))

    def _redact_slot(self, container: Any, slot: Any, value: Any) -> int:
        """Redact ``value``, stored at ``container[slot]`` (a dict key or a list index)."""
        kind = type(value)
        if kind is str:
            if len(value) < self._skip_below:
                return 0
            if (
                self._key_regex is not None
                and value[0] in _JSON_FIRST
                and self._may_hold_json_key(value)
            ):
                changed = self._redact_json_text(container, slot, value)
                if changed:
                    return changed
            if not self._passes:
                return 0
            new = self.redact_text(value)
            if new == value:
                return 0
            container[slot] = new
            return 1
        if kind is dict:
            return self._redact_dict(value)
        if kind is list:
            return self._redact_list(value)
        if kind is tuple or isinstance(value, str):
            new, count = self._redact_other(value)
            if count:
                container[slot] = new
            return count
        return 0

    def _redact_other(self, value: tuple[Any, ...] | str) -> tuple[Any, int]:
        """Tuples (rebuilt if changed) and str subclasses: rare, off the fast path."""
        if isinstance(value, str):
            new = self.redact_text(str(value))
            return new, int(new != value)
        items = list(value)
        count = self._redact_list(items)
        return (tuple(items) if count else value), count


_Anchored = tuple[tuple[str, re.Pattern[str]], ...]
"""Needles grouped by their anchor (their rarest character), each group as one regex."""


def _anchor(needles: Iterable[str]) -> _Anchored:
    """``needles`` grouped under the rarest character of each (see :func:`_holds_any`);
    a group's regex is its anchor followed by look-arounds for the rest of each needle,
    so that the search jumps from one anchor to the next at C speed."""
    groups: dict[str, list[str]] = {}
    for needle in needles:
        groups.setdefault(max(needle, key=_rarity), []).append(needle)
    return tuple((anchor, _anchored_regex(anchor, group)) for anchor, group in groups.items())


def _anchored_regex(anchor: str, needles: Sequence[str]) -> re.Pattern[str]:
    branches = []
    for needle in needles:
        at = needle.index(anchor)
        before, after = needle[:at], needle[at + 1 :]
        if not before and not after:
            return re.compile(re.escape(anchor))
        branches.append(  # the look-behind runs after the anchor, so it spans it too
            (f"(?<={re.escape(before + anchor)})" if before else "")
            + (f"(?={re.escape(after)})" if after else "")
        )
    return re.compile(f"{re.escape(anchor)}(?:{'|'.join(branches)})")


def _rarity(char: str) -> int:
    rank = _FREQUENT_CHARS.find(char)
    return len(_FREQUENT_CHARS) if rank == -1 else rank


def _holds_any(text: str, anchored: _Anchored) -> bool:
    """Whether a needle occurs in ``text``: same answer as ``any(n in text ...)``, faster.

    A needle can only occur where its anchor does, and a one-character ``in`` is a
    ``memchr``, ~30x faster than a search for a short needle; usually the anchor is
    missing and nothing else runs. Where it is present, the group's regex visits only the
    anchor's occurrences (~2x faster than ``in`` with a 3-character needle).
    """
    for anchor, regex in anchored:  # a loop, not any(): no generator on the hot path
        if anchor in text and regex.search(text) is not None:
            break
    else:
        return False
    return True


def _in_a_key(text: str, needle: str) -> bool:
    """Whether ``needle`` occurs in ``text`` inside a JSON string followed by ``:`` (an
    object key). A quote escaped by a backslash counts as a yes: JSON parsing decides."""
    size = len(text)
    start = text.find(needle)
    while start != -1:
        quote = text.find('"', start + len(needle))
        if quote == -1:
            return False
        if text[quote - 1] == "\\":
            return True
        after = quote + 1
        while after < size and text[after] in _JSON_SPACE:
            after += 1
        if after < size and text[after] == ":":
            return True
        start = text.find(needle, quote + 1)
    return False


# --- compiling ----------------------------------------------------------------------------


def _needles(passes: Sequence[_Pass]) -> tuple[str, ...] | None:
    """Substrings of which any redactable text contains one; None if some pass has none.

    A trigger that contains another (``sk-ant-`` contains ``sk-``) adds nothing.
    """
    if any(not rule.triggers for rule in passes):
        return None
    return _shortest_needles(t for rule in passes for t in rule.triggers)


def _can_screen(
    passes: Sequence[_Pass],
    needles: tuple[str, ...] | None,
    keys: Sequence[str],
    key_needles: tuple[str, ...] | None,
) -> bool:
    """Whether :meth:`RedactionRules._nothing_to_redact` can prove that nothing changes:
    every pattern has triggers, every key glob a literal part, and no such literal holds a
    quote (a key run never does)."""
    if passes and needles is None:
        return False
    return not keys or (key_needles is not None and not any('"' in k for k in key_needles))


def _key_needles(globs: Sequence[str]) -> tuple[str, ...] | None:
    """Lower-case substrings of which every key a glob matches contains one (the longest
    literal part of each glob); None when some glob has no literal part."""
    literals = []
    for glob in globs:
        longest = max(_GLOB_SPECIALS.split(glob), key=len).lower()
        if not longest:
            return None
        literals.append(longest)
    return _shortest_needles(literals)


def _shortest_needles(needles: Iterable[str]) -> tuple[str, ...]:
    """``needles`` without repeats and without those that contain another one: a text that
    holds the longer one holds the shorter, so scanning for it adds nothing."""
    unique = dict.fromkeys(needles)
    return tuple(t for t in unique if not any(o != t and o in t for o in unique))


def _shortest_key(glob: str) -> int:
    """Length of the shortest key ``glob`` matches."""
    return len(_GLOB_ONE_CHAR.sub("?", glob).replace("*", ""))


def _skip_below(passes: Sequence[_Pass], min_length: int, keys: Sequence[str]) -> int:
    """Length under which no string can need redacting: too short for every pattern and
    for a JSON object holding a key a rule matches."""
    lengths = [min_length] if passes else []
    if keys:
        lengths.append(_JSON_WRAPPING + min(map(_shortest_key, keys)))
    return min(lengths, default=0)


def _compile_keys(globs: Sequence[str]) -> re.Pattern[str] | None:
    if not globs:
        return None
    return re.compile("|".join(fnmatch.translate(glob) for glob in globs), re.IGNORECASE)


def _builtin_pass(name: str) -> _Pass:
    builtin = _BUILTINS[name]
    regex = re.compile(builtin.regex)
    return _Pass(
        name,
        regex,
        _replacement(name, builtin.validator),
        builtin.triggers,
        _min_match_length(regex) or 0,
        _anchor(builtin.triggers),
    )


def _custom_pass(name: str, source: str) -> _Pass:
    regex = re.compile(source)  # validated by _check_pattern already
    return _Pass(name, regex, _replacement(name, None), (), _min_match_length(regex) or 0)


def _replacement(
    name: str, validator: Callable[[str], bool] | None
) -> str | Callable[[re.Match[str]], str]:
    marker = f"[REDACTED:{name}]"  # names have no backslashes: a literal template
    if validator is None:
        return marker

    def replace(match: re.Match[str]) -> str:
        text = match.group()
        return marker if validator(text) else text

    return replace


def _min_match_length(regex: re.Pattern[str]) -> int | None:
    """Length of the shortest string ``regex`` can match; None if it cannot be determined.

    Uses the parser behind :mod:`re` (``re._parser``, ``sre_parse`` before 3.11); should that
    ever go away, the length shortcut is simply not taken.
    """
    parser = getattr(re, "_parser", None) or getattr(re, "sre_parse", None)
    if parser is None:
        return None
    try:
        return int(parser.parse(regex.pattern, regex.flags).getwidth()[0])
    except Exception:
        return None


def _check_builtin_names(names: Sequence[str], where: str) -> None:
    unknown = [name for name in names if name not in _BUILTINS]
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown built-in redaction pattern(s) {', '.join(map(repr, unknown))}; "
            f"valid built-ins: {', '.join(BUILTIN_NAMES)}"
        )


def _custom_patterns(patterns: Any, where: str) -> dict[str, str]:
    if not isinstance(patterns, Mapping):
        raise ConfigurationError(
            f'{where}: "patterns" must map names to regular expressions, '
            f'e.g. {{"order_id": "ORD-[0-9]{{6}}"}}'
        )
    clashes = [name for name in patterns if name in _BUILTINS]
    if clashes:
        raise ConfigurationError(
            f"{where}: pattern name(s) {', '.join(map(repr, clashes))} are built-in names; "
            f'enable built-ins with "builtins" and give custom patterns other names '
            f"(built-ins: {', '.join(BUILTIN_NAMES)})"
        )
    for name, source in patterns.items():
        _check_pattern(name, source, where)
    return dict(patterns)


def _check_pattern(name: Any, source: Any, where: str) -> None:
    if not isinstance(name, str) or not _PATTERN_NAME.fullmatch(name):
        raise ConfigurationError(
            f"{where}: redaction pattern name {name!r} must be letters, digits, '_', '.' or '-'"
        )
    if not isinstance(source, str) or not source:
        raise ConfigurationError(
            f"{where}: redaction pattern {name!r} must be a non-empty regular expression string"
        )
    try:
        compiled = re.compile(source)
    except re.error as exc:
        raise ConfigurationError(
            f"{where}: redaction pattern {name!r} is not a valid regular expression ({exc}): "
            f"{source!r}; built-ins need no regex, enable them by name: "
            f"{', '.join(BUILTIN_NAMES)}"
        ) from exc
    if compiled.fullmatch("") is not None or _min_match_length(compiled) == 0:
        raise ConfigurationError(
            f"{where}: redaction pattern {name!r} can match the empty string, so it would "
            f"insert markers everywhere: {source!r}; make it require at least one character"
        )


# --- config files -------------------------------------------------------------------------


def _read_config(path: str) -> dict[str, Any]:
    where = f"redaction config {path}"
    data = read_config_file(path, "redaction config")
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
    _check_builtin_names(data.get("builtins", []), where)
    _custom_patterns(data.get("patterns", {}), where)
    return data


def _check_strings(values: Any, what: str, where: str) -> None:
    if (
        isinstance(values, str)
        or not isinstance(values, (list, tuple))
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise ConfigurationError(
            f"{where}: {what} must be a list of non-empty strings, got {values!r}"
        )
