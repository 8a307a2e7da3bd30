"""The bulk SQL of dataset merges and deletes, one implementation per database.

SQLite runs each statement once per row (``executemany`` on its in-process driver costs a
few microseconds a row). PostgreSQL takes new records and updates through COPY (updates
into a temporary table, then one ``UPDATE … FROM`` it), as the span writer does: a
statement per row costs a round trip, and binding tens of thousands of values as arrays
costs more in the driver than the statement does in the server. Keys (input hashes,
record ids) travel as one array; each is looked up through a LATERAL subquery with LIMIT
1, which cannot be flattened into a join, so every value is one probe of the unique index
whatever the planner believes about the size of a freshly filled table. Column lists come
from the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from spyglass.collector.store.models import DatasetRecordHistory, DatasetRecordRow

RECORDS: Table = DatasetRecordRow.__table__
HISTORY: Table = DatasetRecordHistory.__table__
STATE_COLUMNS = tuple(c.name for c in RECORDS.columns)
# what a content update sets, besides version and last_update_time_ms
UPDATED_COLUMNS = ("expectations", "outputs", "tags", "content_hash")


class _Bulk:
    """What both databases share: looking records up by key."""

    param = "?"

    def lookup(
        self,
        connection: Connection,
        key: str,
        dataset_id: str,
        values: Sequence[str],
        dataset_size: int,
    ) -> list[Any]:
        """Full current states (rows of STATE_COLUMNS) of the dataset's records whose ``key``
        (unique in a dataset) is one of ``values``. When they are many for the dataset's
        size, one pass over the dataset beats a probe per value."""
        if len(values) * 2 < dataset_size:
            return self.probe(connection, key, dataset_id, values)
        rows = connection.exec_driver_sql(  # in key order: one sequential pass (SQLite)
            f"SELECT {', '.join(STATE_COLUMNS)} FROM dataset_records "
            f"WHERE dataset_id = {self.param} ORDER BY dataset_record_id",
            (dataset_id,),
        ).all()
        at, wanted = STATE_COLUMNS.index(key), set(values)
        return [row for row in rows if row[at] in wanted]

    def probe(
        self, connection: Connection, key: str, dataset_id: str, values: Sequence[str]
    ) -> list[Any]:
        raise NotImplementedError


class SqliteBulk(_Bulk):
    """executemany on SQLite; lookups in IN lists of at most :attr:`chunk` keys."""

    chunk = 900  # bound parameters per IN list (SQLite allows 32,766 per statement)

    def probe(
        self, connection: Connection, key: str, dataset_id: str, values: Sequence[str]
    ) -> list[Any]:
        found: list[Any] = []
        for i in range(0, len(values), self.chunk):
            part = values[i : i + self.chunk]
            marks = ", ".join("?" * len(part))
            statement = (
                f"SELECT {', '.join(STATE_COLUMNS)} FROM dataset_records "
                f"WHERE dataset_id = ? AND {key} IN ({marks})"
            )
            found += connection.exec_driver_sql(statement, (dataset_id, *part)).all()
        return found

    def insert(self, connection: Connection, rows: list[tuple]) -> None:
        """Insert new records (rows of STATE_COLUMNS)."""
        statement = (
            f"INSERT INTO dataset_records ({', '.join(STATE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(STATE_COLUMNS))})"
        )
        connection.exec_driver_sql(statement, rows)

    def copy_to_history(
        self, connection: Connection, dataset_id: str, record_ids: Sequence[str], superseded_in: int
    ) -> None:
        """Copy the current states of these records to history, replaced in
        ``superseded_in``."""
        names = ", ".join(STATE_COLUMNS)
        for i in range(0, len(record_ids), self.chunk):
            part = record_ids[i : i + self.chunk]
            connection.exec_driver_sql(
                f"INSERT INTO dataset_record_history ({names}, superseded_in) SELECT {names}, ? "
                f"FROM dataset_records WHERE dataset_id = ? AND dataset_record_id IN "
                f"({', '.join('?' * len(part))})",
                (superseded_in, dataset_id, *part),
            )

    def update(
        self, connection: Connection, dataset_id: str, version: int, now: int, rows: list[tuple]
    ) -> None:
        """Set UPDATED_COLUMNS from rows of (record id, *UPDATED_COLUMNS)."""
        sets = ", ".join(f"{name} = ?" for name in UPDATED_COLUMNS)
        statement = (
            f"UPDATE dataset_records SET {sets}, version = ?, last_update_time_ms = ? "
            "WHERE dataset_id = ? AND dataset_record_id = ?"
        )
        connection.exec_driver_sql(
            statement, [(*row[1:], version, now, dataset_id, row[0]) for row in rows]
        )

    def delete(self, connection: Connection, dataset_id: str, record_ids: list[str]) -> None:
        connection.exec_driver_sql(
            "DELETE FROM dataset_records WHERE dataset_id = ? AND dataset_record_id = ?",
            [(dataset_id, record_id) for record_id in record_ids],
        )


class PostgresBulk(_Bulk):
    """COPY for rows; keys sent as one array per :attr:`chunk` of them."""

    param = "%s"
    chunk = 20_000

    def probe(
        self, connection: Connection, key: str, dataset_id: str, values: Sequence[str]
    ) -> list[Any]:
        columns = ", ".join(f"r.{name}" for name in STATE_COLUMNS)
        statement = (
            f"SELECT {columns} FROM unnest(%s::text[]) AS wanted(v) CROSS JOIN "
            f"LATERAL (SELECT * FROM dataset_records WHERE dataset_id = %s AND "
            f"{key} = wanted.v LIMIT 1) AS r"
        )
        found: list[Any] = []
        for i in range(0, len(values), self.chunk):
            found += connection.exec_driver_sql(
                statement, (list(values[i : i + self.chunk]), dataset_id)
            ).all()
        return found

    def insert(self, connection: Connection, rows: list[tuple]) -> None:
        with _cursor(connection).copy(
            f"COPY dataset_records ({', '.join(STATE_COLUMNS)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)

    def copy_to_history(
        self, connection: Connection, dataset_id: str, record_ids: Sequence[str], superseded_in: int
    ) -> None:
        names = ", ".join(STATE_COLUMNS)
        columns = ", ".join(f"r.{name}" for name in STATE_COLUMNS)
        statement = (
            f"INSERT INTO dataset_record_history ({names}, superseded_in) "
            f"SELECT {columns}, %s FROM unnest(%s::text[]) AS wanted(v) CROSS JOIN "
            "LATERAL (SELECT * FROM dataset_records WHERE dataset_id = %s AND "
            "dataset_record_id = wanted.v LIMIT 1) AS r"
        )
        for i in range(0, len(record_ids), self.chunk):
            connection.exec_driver_sql(
                statement, (superseded_in, list(record_ids[i : i + self.chunk]), dataset_id)
            )

    def update(
        self, connection: Connection, dataset_id: str, version: int, now: int, rows: list[tuple]
    ) -> None:
        cursor = _cursor(connection)
        columns = ("record_id", *UPDATED_COLUMNS)
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS dataset_record_updates "
            f"({', '.join(f'{name} text' for name in columns)}) "
            "ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY dataset_record_updates ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        sets = ", ".join(f"{name} = v.{name}" for name in UPDATED_COLUMNS)
        cursor.execute(
            f"UPDATE dataset_records AS r SET {sets}, version = %s, "
            "last_update_time_ms = %s FROM dataset_record_updates AS v "
            "WHERE r.dataset_id = %s AND r.dataset_record_id = v.record_id",
            (version, now, dataset_id),
        )

    def delete(self, connection: Connection, dataset_id: str, record_ids: list[str]) -> None:
        statement = (
            "DELETE FROM dataset_records AS r USING unnest(%s::text[]) AS gone(id) "
            "WHERE r.dataset_id = %s AND r.dataset_record_id = gone.id"
        )
        for i in range(0, len(record_ids), self.chunk):
            connection.exec_driver_sql(statement, (record_ids[i : i + self.chunk], dataset_id))


def _cursor(connection: Connection) -> Any:
    """A psycopg cursor in the connection's transaction (for COPY)."""
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None, "a connection in a transaction holds its DBAPI one"
    return dbapi_connection.cursor()


def for_dialect(name: str) -> SqliteBulk | PostgresBulk:
    return PostgresBulk() if name == "postgresql" else SqliteBulk()
