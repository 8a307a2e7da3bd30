"""The word index behind the ``trace.text`` filter: what it holds, how the writer keeps it,
and how a search value becomes index terms and an exact check.

A *word* is a maximal run of word characters: ASCII letters and digits and every non-ASCII
character; every other ASCII character (space, punctuation, quotes, ``_``) separates words.
The index holds, for each trace, the words of its spans' ``inputs`` and ``outputs`` with
ASCII letters folded to lower case: one document per trace, not per span, because searches
select traces (a common word's candidates are then trace ids, read straight from the index)
and a trace's spans share most of their words. The filter uses the index only to find
candidate traces (:func:`terms`); the exact rule is then checked on their spans
(:func:`glob_pattern`, :func:`regex_pattern`), so the index decides speed, never results.

* SQLite: a contentless FTS5 table ``span_text`` (tokenizer ``ascii``: the same word rule;
  ``detail=none``: no positions) whose rowid is ``traces.id``. Each write adds one document
  per trace it touched, under that rowid; FTS5 keeps the union of a rowid's documents.
  The writer adds them with one ``INSERT … SELECT`` per transaction (:func:`index_new`): a
  trigger would cost three times as much, as FTS5 flushes its pending terms at every
  statement of a trigger.
* PostgreSQL: a table ``span_text`` of ``(trace_id, words tsvector)`` rows with a GIN index,
  one row per trace and write. The writer computes the words in Python
  (:func:`documents`): PostgreSQL's own splitting of a 1 KB text costs several times more.

Triggers (migration 0008) add the words of a span whose text changes (the old words stay
until the trace goes: a stale word only makes a candidate) and take a deleted trace's words
out. Spans stored other than through the writer need :func:`rebuild`.

Words longer than :data:`MAX_WORD` characters are indexed by their first :data:`MAX_WORD`
characters (PostgreSQL refuses lexemes over 2,047 bytes), so a search word that long becomes
a prefix term.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from spyglass.collector.store.rows import INPUTS as _INPUTS
from spyglass.collector.store.rows import OUTPUTS as _OUTPUTS
from spyglass.collector.store.rows import TRACE_ID as _TRACE_ID

MAX_WORD = 255
MIN_PREFIX = 3  # shorter prefixes match too many words to be worth an index lookup
_DOC_BYTES = 256 * 1024  # a tsvector holds at most 1 MB: larger word sets use more rows

_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# UTF-8 bytes: ASCII upper case to lower case, other ASCII non-alphanumerics to a space;
# bytes of non-ASCII characters (>= 0x80) are left alone, so those characters stay in words
_FOLD = bytes(
    c + 32 if 65 <= c <= 90 else c if c >= 128 or chr(c) in _ASCII_WORD else 32 for c in range(256)
)


def is_word_char(char: str) -> bool:
    return char in _ASCII_WORD or ord(char) >= 128


def words(texts: Iterable[str | None]) -> set[bytes]:
    """The distinct words of ``texts`` (UTF-8), ASCII folded to lower case and cut to
    :data:`MAX_WORD` characters."""
    joined = b" ".join(t.encode("utf-8", "surrogatepass") for t in texts if t)
    found = set(joined.translate(_FOLD).split())
    long = [w for w in found if len(w) > MAX_WORD]
    for word in long:  # rare: cut by characters, not bytes
        found.discard(word)
        found.add(word.decode("utf-8", "surrogatepass")[:MAX_WORD].encode("utf-8", "surrogatepass"))
    return found


def documents(texts: Iterable[str | None]) -> list[str]:
    """The words of ``texts`` as ``tsvector`` literals, more than one when there are very
    many (a ``tsvector`` holds at most 1 MB). Quoted: a word never holds a quote or a
    backslash (both separate words)."""
    docs: list[str] = []
    current: list[bytes] = []
    size = 0
    for word in words(texts):
        current.append(word)
        size += len(word) + 3
        if size > _DOC_BYTES:
            docs.append(_tsvector(current))
            current, size = [], 0
    if current:
        docs.append(_tsvector(current))
    return docs


def _tsvector(found: list[bytes]) -> str:
    return (b"'" + b"' '".join(found) + b"'").decode("utf-8", "surrogatepass")


# ---------------------------------------------------------------------------------------
# A search value: its pieces, the exact rule, the index terms

ANY, ONE = "%", "_"  # wildcards of a LIKE pattern, after parsing (literals are 1-char str)


@dataclass(frozen=True, slots=True)
class Piece:
    """One element of a search pattern: a literal character or a wildcard, with what it
    becomes in each store's pattern of the exact rule (:func:`glob_pattern`,
    :func:`regex_pattern`)."""

    text: str
    wildcard: bool = False
    glob: str = field(init=False, repr=False, compare=False)
    regex: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "glob", _glob_piece(self.text, self.wildcard))
        object.__setattr__(self, "regex", _regex_piece(self.text, self.wildcard))


def parse_pattern(pattern: str, like: bool) -> list[Piece]:
    """``pattern`` as pieces; ``like``: ``%``/``_`` are wildcards and backslash escapes
    (validated earlier: never a trailing backslash)."""
    if not like:
        return [_piece(c) for c in pattern]
    pieces, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            pieces.append(_piece(next(chars)))
        else:
            pieces.append(_piece(char, char in (ANY, ONE)))
    return pieces


@functools.lru_cache(maxsize=4096)
def _piece(text: str, wildcard: bool = False) -> Piece:
    """One shared :class:`Piece` per character (a value may be 10,000 characters long, and
    a filter hold 256 of them: making an object per character would cost 1 µs each)."""
    return Piece(text, wildcard)


def anchored(pieces: Sequence[Piece]) -> bool:
    """A pattern that begins with an ASCII letter or digit matches only where a word
    begins: at the start of the text or after an ASCII character that is not one."""
    return bool(pieces) and not pieces[0].wildcard and pieces[0].text in _ASCII_WORD


@dataclass(frozen=True, slots=True)
class Term:
    word: str
    prefix: bool


def terms(pieces: Sequence[Piece]) -> list[Term]:
    """Index terms every matching span has: each word of the pattern known to begin a
    word of the text (after a separator in the pattern, or first in an anchored pattern),
    whole when a separator follows it, else as a prefix. Empty: the index cannot help."""
    found: list[Term] = []
    closed_left = anchored(pieces)
    run: list[str] = []
    for piece in [*pieces, Piece(ANY, wildcard=True)]:
        if not piece.wildcard and is_word_char(piece.text):
            run.append(piece.text)
            continue
        if run and closed_left:
            found.append(_term("".join(run), prefix=piece.wildcard))
        run = []
        closed_left = not piece.wildcard  # a literal separator: the next word begins one
    return [t for t in dict.fromkeys(found) if not t.prefix or len(t.word) >= MIN_PREFIX]


def _term(word: str, prefix: bool) -> Term:
    word = word.translate(_LOWER)
    if len(word) > MAX_WORD:
        return Term(word[:MAX_WORD], prefix=True)
    return Term(word, prefix)


_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fts5_query(found: Sequence[Term]) -> str:
    """An FTS5 MATCH expression: every term (words hold no double quote)."""
    return " AND ".join(f'"{t.word}"' + ("*" if t.prefix else "") for t in found)


def tsquery(found: Sequence[Term]) -> str:
    """A ``tsquery`` literal: every term (words hold no quote or backslash)."""
    return " & ".join(f"'{t.word}'" + (":*" if t.prefix else "") for t in found)


# ---------------------------------------------------------------------------------------
# The exact rule, as each store's pattern

_NON_WORD_CLASS_GLOB = "[^0-9A-Za-z\u0080-\U0010ffff]"
_NON_WORD_CLASS_RE = "[^0-9A-Za-z\u0080-\U0010ffff]"


def glob_pattern(pieces: Sequence[Piece]) -> str:
    """A case-sensitive SQLite GLOB for ``' ' || text`` that holds where the rule does:
    ASCII letters as ``[xX]`` classes, the word start as a class of separators."""
    out = ["*", _NON_WORD_CLASS_GLOB] if anchored(pieces) else ["*"]
    out += [piece.glob for piece in pieces]
    out.append("*")
    return "".join(out)


def _glob_piece(text: str, wildcard: bool) -> str:
    if wildcard:
        return "*" if text == ANY else "?"
    if text.isascii() and text.isalpha():
        return f"[{text.lower()}{text.upper()}]"
    if text in "*?[":
        return f"[{text}]"
    return text


def regex_pattern(pieces: Sequence[Piece]) -> str:
    """A case-sensitive PostgreSQL regular expression (ARE) for the same rule."""
    out = [f"(^|{_NON_WORD_CLASS_RE})"] if anchored(pieces) else []
    out += [piece.regex for piece in pieces]
    return "".join(out)


def _regex_piece(text: str, wildcard: bool) -> str:
    if wildcard:
        return ".*" if text == ANY else "."
    if text.isascii() and text.isalpha():
        return f"[{text.lower()}{text.upper()}]"
    if text.isascii() and not text.isalnum():
        return "\\" + text
    return text


# ---------------------------------------------------------------------------------------
# The writer's part

SQLITE_LAST_ROWID = "SELECT coalesce(max(rowid), 0) FROM spans"
# one document per trace and write, under the trace's traces.id: FTS5 keeps the union of
# the words of every document under one rowid (detail=none stores no positions to clash)
SQLITE_INDEX_NEW = (
    "INSERT INTO span_text (rowid, body) "
    "SELECT t.id, group_concat(coalesce(s.inputs, '') || ' ' || coalesce(s.outputs, ''), ' ') "
    "FROM spans s JOIN traces t ON t.trace_id = s.trace_id WHERE s.rowid > ? "
    "GROUP BY t.id ORDER BY t.id"
)
POSTGRES_COPY = "COPY span_text (trace_id, words) FROM STDIN"


def last_rowid(cursor: Any, dialect: str) -> int:
    """Where the spans table ends before a write (SQLite; 0 on PostgreSQL)."""
    if dialect != "sqlite":
        return 0
    cursor.execute(SQLITE_LAST_ROWID)
    return int(cursor.fetchone()[0])


def index_new(cursor: Any, dialect: str, before: int, rows: Sequence[tuple]) -> None:
    """Index the spans this write inserted, in its transaction, once their traces rows
    exist: on SQLite those past rowid ``before`` (the writer holds the write lock, so they
    are exactly this write's), on PostgreSQL ``rows`` (span rows in column order)."""
    if dialect == "sqlite":
        cursor.execute(SQLITE_INDEX_NEW, (before,))
        return
    if not rows:
        return
    by_trace: dict[str, list[str | None]] = {}
    for row in rows:
        by_trace.setdefault(row[_TRACE_ID], []).extend((row[_INPUTS], row[_OUTPUTS]))
    with cursor.copy(POSTGRES_COPY) as copy:
        for trace_id, texts in by_trace.items():
            for doc in documents(texts):
                copy.write_row((trace_id, doc))


_SQLITE_REBUILD = (
    "INSERT INTO span_text (span_text) VALUES ('delete-all')",
    "INSERT INTO span_text (rowid, body) SELECT t.id, "
    "group_concat(coalesce(s.inputs, '') || ' ' || coalesce(s.outputs, ''), ' ') "
    "FROM spans s JOIN traces t ON t.trace_id = s.trace_id GROUP BY t.id ORDER BY t.id",
)
_POSTGRES_REBUILD = (
    "DELETE FROM span_text",
    "INSERT INTO span_text (trace_id, words) SELECT trace_id, spyglass_text_words("
    "string_agg(coalesce(inputs, '') || ' ' || coalesce(outputs, ''), ' ')) "
    "FROM spans GROUP BY trace_id",
)


def rebuild(connection: Connection) -> None:
    """Index every stored span again, from nothing: for spans written other than through
    the writer (tests, bulk copies)."""
    sqlite = connection.dialect.name == "sqlite"
    for statement in _SQLITE_REBUILD if sqlite else _POSTGRES_REBUILD:
        connection.execute(text(statement))


def owns(table_name: str) -> bool:
    """Whether a table is the index or one FTS5 keeps for it (no model describes them)."""
    return table_name == "span_text" or table_name.startswith("span_text_")
