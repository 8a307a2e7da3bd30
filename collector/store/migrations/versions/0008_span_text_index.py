"""A word index over spans' inputs and outputs, for the ``trace.text`` filter.

What the index holds and why is in ``spyglass.collector.store.traces.text_index``; this
migration creates it, fills it from the spans already stored and adds the triggers that keep
it right when a span's text changes or a trace is deleted. The writer adds what it inserts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# -- SQLite: a contentless FTS5 table, one rowid per trace (traces.id)
_SQLITE_BODY = "coalesce({0}.inputs, '') || ' ' || coalesce({0}.outputs, '')"
_SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE span_text USING fts5(body, content='', detail=none, tokenize='ascii')",
    # a changed text adds its words; the old ones stay until the trace goes (a stale word
    # only makes a candidate that the exact check then drops)
    "CREATE TRIGGER span_text_update AFTER UPDATE OF inputs, outputs ON spans BEGIN "
    "INSERT INTO span_text (rowid, body) SELECT id, "
    + _SQLITE_BODY.format("new")
    + " FROM traces WHERE trace_id = new.trace_id; END",
    # a trace is deleted before its spans: take its words out while they can be read
    "CREATE TRIGGER span_text_delete AFTER DELETE ON traces BEGIN "
    "INSERT INTO span_text (span_text, rowid, body) SELECT 'delete', old.id, "
    "group_concat(" + _SQLITE_BODY.format("spans") + ", ' ') "
    "FROM spans WHERE trace_id = old.trace_id HAVING count(*) > 0; END",
    "INSERT INTO span_text (rowid, body) SELECT t.id, "
    "group_concat(" + _SQLITE_BODY.format("s") + ", ' ') "
    "FROM spans s JOIN traces t ON t.trace_id = s.trace_id GROUP BY t.id ORDER BY t.id",
)
_SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS span_text_delete",
    "DROP TRIGGER IF EXISTS span_text_update",
    "DROP TABLE IF EXISTS span_text",
)

# -- PostgreSQL: (trace_id, words) rows with a GIN index. spyglass_text_words is the SQL
# twin of text_index.documents (the writer's, in Python, is several times cheaper): the
# distinct words, ASCII letters folded, cut to 255 characters, as tsvectors of at most
# 256 KB each (one tsvector holds at most 1 MB); none for a text without words.
_PG_WORDS = r"""
CREATE FUNCTION spyglass_text_words(body text) RETURNS SETOF tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_to_tsvector(array_agg(w))
  FROM (SELECT w, sum(octet_length(w) + 3) OVER (ORDER BY w) / 262144 AS part
        FROM (SELECT DISTINCT left(w, 255) AS w
              FROM regexp_split_to_table(
                translate(body, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),
                '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+') AS w
              WHERE w <> '') AS found) AS parts
  GROUP BY part
$$
"""
_PG_BODY = "coalesce({0}.inputs, '') || ' ' || coalesce({0}.outputs, '')"
_PG_UPGRADE = (
    "CREATE TABLE span_text (trace_id varchar(32) NOT NULL, words tsvector NOT NULL)",
    _PG_WORDS,
    # the writer adds rows in bulk; on PostgreSQL the backfill is faster before the indexes
    "INSERT INTO span_text (trace_id, words) SELECT trace_id, spyglass_text_words("
    "string_agg(" + _PG_BODY.format("spans") + ", ' ')) FROM spans GROUP BY trace_id",
    "CREATE INDEX ix_span_text_words ON span_text USING gin (words)",
    "CREATE INDEX ix_span_text_trace_id ON span_text (trace_id)",
    r"""
CREATE FUNCTION spyglass_span_text_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO span_text (trace_id, words)
  SELECT NEW.trace_id, words FROM spyglass_text_words(
    coalesce(NEW.inputs, '') || ' ' || coalesce(NEW.outputs, '')) AS words;
  RETURN NULL;
END $$
""",
    "CREATE TRIGGER span_text_update AFTER UPDATE OF inputs, outputs ON spans "
    "FOR EACH ROW EXECUTE FUNCTION spyglass_span_text_update()",
    r"""
CREATE FUNCTION spyglass_span_text_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM span_text WHERE trace_id IN (SELECT trace_id FROM gone);
  RETURN NULL;
END $$
""",
    "CREATE TRIGGER span_text_delete AFTER DELETE ON traces REFERENCING OLD TABLE AS gone "
    "FOR EACH STATEMENT EXECUTE FUNCTION spyglass_span_text_delete()",
)
_PG_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS span_text_delete ON traces",
    "DROP TRIGGER IF EXISTS span_text_update ON spans",
    "DROP FUNCTION IF EXISTS spyglass_span_text_delete()",
    "DROP FUNCTION IF EXISTS spyglass_span_text_update()",
    "DROP TABLE IF EXISTS span_text",
    "DROP FUNCTION IF EXISTS spyglass_text_words(text)",
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_UPGRADE if sqlite else _PG_UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_DOWNGRADE if sqlite else _PG_DOWNGRADE:
        op.execute(statement)
