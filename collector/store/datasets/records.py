"""Dataset records in the store: merge, list (any version) and delete.

Current records (``dataset_records``) are unique per dataset and canonical inputs hash;
history (``dataset_record_history``) holds every replaced or deleted state with the
versions it belonged to. A change of records makes version v+1 in one transaction: the
replaced states are copied to history with ``superseded_in = v+1``, the current rows are
updated, inserted or deleted, and the dataset row gets the new version, digest and count.
Version N is then the current rows written at or before N plus the history states with
``version <= N < superseded_in`` — one state per record, and a single statement each page,
so a page is consistent even while another merge commits.

A merge arrives as a stream of chunks (:class:`MergeStream`): each chunk is checked as it
comes, and nothing is written until the stream has ended, so a bad record anywhere (or a
client that gives up half way) leaves the dataset as it was. Bulk work goes through
:mod:`spyglass.collector.store.datasets.statements` (executemany on SQLite, COPY on
PostgreSQL); the dataset row is locked first, so two merges into one dataset never
interleave.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    LargeBinary,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)

from spyglass import canonical_json
from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.datasets import digest as dataset_digest
from spyglass.collector.store.datasets.catalog import (
    DATASETS,
    check_dataset_id,
    check_user,
    check_version,
    dataset_message,
    load_dataset,
    lock_dataset,
    record_version,
)
from spyglass.collector.store.datasets.record_input import (
    IncomingRecord,
    RecordState,
    fold,
    merge_onto,
    read_records,
)
from spyglass.collector.store.datasets.statements import (
    HISTORY,
    RECORDS,
    STATE_COLUMNS,
    PostgresBulk,
    SqliteBulk,
    for_dialect,
)
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.paging import decode_token, encode_token, fingerprint
from spyglass.errors import InvalidArgumentError
from spyglass.gc_pause import gc_paused
from spyglass.v1 import datasets_pb2 as pb

PAGE_SIZE_DEFAULT = 1000
PAGE_SIZE_MAX = 50_000

_RECORD_ID = STATE_COLUMNS.index("dataset_record_id")
_INPUT_HASH = STATE_COLUMNS.index("input_hash")
_CONTENT_HASH = STATE_COLUMNS.index("content_hash")
_EXPECTATIONS = STATE_COLUMNS.index("expectations")
_TAGS = STATE_COLUMNS.index("tags")
_STATE_AT = tuple(
    STATE_COLUMNS.index(name)
    for name in ("inputs", "expectations", "outputs", "tags", "source_type", "source_id")
)


@dataclass
class _Plan:
    """What a merge does to the stored records."""

    inserts: list[IncomingRecord]
    updates: list[tuple[Any, RecordState, str]]  # (stored row, new state, its content hash)
    unchanged: int


# -- merge -------------------------------------------------------------------------------


class MergeStream:
    """A MergeRecords stream as it arrives. Each chunk is checked when it comes (the
    servicer runs :meth:`add` in a worker thread while the client sends the next one);
    :meth:`merge` then writes every record in one transaction. The dataset and the user
    come from the first chunk."""

    def __init__(self) -> None:
        self.dataset_id = ""
        self.user = ""
        self.chunks = 0
        self.records: list[IncomingRecord] = []

    def add(self, engine: Engine, chunk: pb.MergeRecordsRequest) -> None:
        if self.chunks == 0:
            self.dataset_id, self.user = check_dataset_id(chunk.dataset_id), chunk.user
            with engine.connect() as connection:  # fail before the client sends the rest
                load_dataset(connection, self.dataset_id)
        elif chunk.dataset_id not in ("", self.dataset_id):
            raise InvalidArgumentError(
                f"chunk {self.chunks} names dataset {chunk.dataset_id!r} but the stream "
                f"merges into {self.dataset_id!r}; one MergeRecords call merges into one "
                "dataset"
            )
        with gc_paused():  # a few objects per record (see gc_pause.py)
            self.records += read_records([chunk.records], start=len(self.records))
        self.chunks += 1

    def merge(self, engine: Engine) -> pb.MergeRecordsResponse:
        """Merge everything received (module docstring)."""
        if not self.chunks:
            raise InvalidArgumentError(
                "MergeRecords received no chunk; send at least one with the dataset_id"
            )
        user = check_user(self.user)
        with gc_paused():
            return _merge(engine, self.dataset_id, fold(self.records), user)


def merge_records(
    engine: Engine, dataset_id: str, chunks: Iterable[pb.DatasetRecordColumns], user: str
) -> pb.MergeRecordsResponse:
    """Merge every record of ``chunks`` into the dataset in one transaction; a bad record
    anywhere raises before anything is written."""
    stream = MergeStream()
    for number, records in enumerate(chunks):
        stream.add(
            engine,
            pb.MergeRecordsRequest(
                dataset_id="" if number else dataset_id, user=user, records=records
            ),
        )
    if not stream.chunks:
        stream.add(engine, pb.MergeRecordsRequest(dataset_id=dataset_id, user=user))
    return stream.merge(engine)


def _merge(
    engine: Engine, dataset_id: str, incoming: dict[str, IncomingRecord], user_name: str | None
) -> pb.MergeRecordsResponse:
    bulk = for_dialect(engine.dialect.name)
    with write_transaction(engine) as connection:
        dataset = lock_dataset(connection, dataset_id)
        found = bulk.lookup(
            connection, "input_hash", dataset_id, list(incoming), dataset.record_count
        )
        stored = {row[_INPUT_HASH]: row for row in found}
        plan = _plan(incoming, stored)
        if plan.inserts or plan.updates:
            _apply(connection, bulk, dataset, plan, user_name)
            dataset = load_dataset(connection, dataset_id)
        message = dataset_message(connection, dataset)
    return pb.MergeRecordsResponse(
        dataset=message,
        inserted_count=len(plan.inserts),
        updated_count=len(plan.updates),
        unchanged_count=plan.unchanged,
    )


def _plan(incoming: dict[str, IncomingRecord], stored: dict[str, Any]) -> _Plan:
    plan = _Plan([], [], 0)
    matched = []
    for input_hash, record in incoming.items():
        row = stored.get(input_hash)
        if row is None:
            plan.inserts.append(record)
        elif record.brings_content():
            matched.append((row, record))
        else:
            plan.unchanged += 1
    # the stored expectations and tags that get merged into, parsed in one call each
    expectations = iter(
        canonical_json.loads_many(
            [row[_EXPECTATIONS] for row, record in matched if record.expectations]
        )
    )
    tags = iter(canonical_json.loads_many([row[_TAGS] for row, record in matched if record.tags]))
    for row, record in matched:
        new = merge_onto(
            _state(row),
            record,
            next(expectations) if record.expectations else None,
            next(tags) if record.tags else None,
        )
        new_hash = new.content_hash()
        if new_hash == row[_CONTENT_HASH]:
            plan.unchanged += 1
        else:
            plan.updates.append((row, new, new_hash))
    return plan


def _apply(
    connection: Connection,
    bulk: SqliteBulk | PostgresBulk,
    dataset: Any,
    plan: _Plan,
    user: str | None,
) -> None:
    """Write the plan as version ``dataset.version + 1``."""
    version, now = dataset.version + 1, now_ms()
    dataset_id = dataset.dataset_id
    added, removed = [], []
    if plan.updates:
        bulk.copy_to_history(
            connection, dataset_id, [row[_RECORD_ID] for row, _, _ in plan.updates], version
        )
        rows: list[tuple] = []
        for row, state, new_hash in plan.updates:
            added.append(new_hash)
            removed.append(row[_CONTENT_HASH])
            rows.append((row[_RECORD_ID], state.expectations, state.outputs, state.tags, new_hash))
        bulk.update(connection, dataset_id, version, now, rows)
    if plan.inserts:
        ids = _new_record_ids(now, len(plan.inserts))
        rows = []
        for record_id, record in zip(ids, plan.inserts):
            state = record.state()
            new_hash = state.content_hash()
            added.append(new_hash)
            rows.append(
                (
                    dataset_id,
                    record_id,
                    record.input_hash,
                    state.inputs,
                    state.expectations,
                    state.outputs,
                    state.tags,
                    state.source_type,
                    state.source_id,
                    new_hash,
                    version,
                    now,
                    now,
                )
            )
        bulk.insert(connection, rows)
    counts = (len(plan.inserts), len(plan.updates), 0)
    _new_version(connection, dataset, version, added, removed, counts, now, user)


def _new_version(
    connection: Connection,
    dataset: Any,
    version: int,
    added: list[str],
    removed: list[str],
    counts: tuple[int, int, int],
    now: int,
    user: str | None,
) -> None:
    """Move the dataset row to ``version`` and note what the version holds."""
    running_sum = dataset_digest.updated_sum(dataset.digest_sum, added, removed)
    digest = dataset_digest.digest(running_sum)
    record_count = dataset.record_count + counts[0] - counts[2]
    connection.execute(
        update(DATASETS)
        .where(DATASETS.c.dataset_id == dataset.dataset_id)
        .values(
            version=version,
            digest=digest,
            digest_sum=running_sum,
            record_count=record_count,
            last_update_time_ms=now,
            last_updated_by=user,
        )
    )
    record_version(connection, dataset.dataset_id, version, digest, record_count, counts, now, user)


def _new_record_ids(now: int, n: int) -> list[str]:
    """n record ids that sort after earlier ones and in this order: the time in ms, a
    random part (two merges in the same millisecond), a sequence number."""
    prefix = f"dr-{now:012x}{secrets.token_hex(4)}"
    return [f"{prefix}{i:012x}" for i in range(n)]


def _state(row: Any) -> RecordState:
    inputs, expectations, outputs, tags, source_type, source_id = _STATE_AT
    return RecordState(
        row[inputs], row[expectations], row[outputs], row[tags], row[source_type], row[source_id]
    )


# -- delete ------------------------------------------------------------------------------


def delete_records(
    engine: Engine, dataset_id: str, record_ids: Sequence[str], user: str
) -> pb.DeleteRecordsResponse:
    """Delete the records with these ids (others are ignored) as a new version."""
    user_name = check_user(user)
    ids = sorted(set(record_ids))
    bulk = for_dialect(engine.dialect.name)
    with write_transaction(engine) as connection:
        dataset = lock_dataset(connection, dataset_id)
        rows = bulk.lookup(connection, "dataset_record_id", dataset_id, ids, dataset.record_count)
        if rows:
            version, now = dataset.version + 1, now_ms()
            ids = [row[_RECORD_ID] for row in rows]
            bulk.copy_to_history(connection, dataset_id, ids, version)
            bulk.delete(connection, dataset_id, ids)
            _new_version(
                connection,
                dataset,
                version,
                [],
                [r[_CONTENT_HASH] for r in rows],
                (0, 0, len(rows)),
                now,
                user_name,
            )
            dataset = load_dataset(connection, dataset_id)
        message = dataset_message(connection, dataset)
    return pb.DeleteRecordsResponse(dataset=message, deleted_count=len(rows))


# -- list --------------------------------------------------------------------------------

_OUT_COLUMNS = (
    "dataset_record_id",
    "inputs",
    "expectations",
    "outputs",
    "tags",
    "source_type",
    "source_id",
    "created_time_ms",
    "last_update_time_ms",
)
_SEARCHED_COLUMNS = ("inputs", "expectations", "outputs", "tags")


def list_records(
    engine: Engine,
    dataset_id: str,
    version: int | None,
    page_size: int,
    page_token: str,
    contains: str = "",
) -> pb.ListRecordsResponse:
    """One page of the dataset's records at ``version`` (None: the latest, or the version
    the token's first page read), in insertion order; with ``contains``, only the records
    whose JSON text (inputs, expectations, outputs or tags) contains it, ignoring case."""
    if page_size < 0:
        raise InvalidArgumentError(f"page_size must not be negative, got {page_size}")
    limit = min(page_size or PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX)
    search = fingerprint("dataset_records", dataset_id, *([contains] if contains else []))
    after, token_version = "", None
    if page_token:
        payload = decode_token(page_token, search)
        after, token_version = str(payload["after"][0]), payload.get("v")
        if version is not None and token_version != version:
            raise InvalidArgumentError(
                "page_token was issued for another version of this "
                "dataset; repeat the request with that version, or "
                "start again without a page token"
            )
    response = pb.ListRecordsResponse()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            _postgres_page_reads(connection)
        dataset = load_dataset(connection, dataset_id)
        wanted = check_version(dataset, version if version is not None else token_version)
        latest = wanted == dataset.version
        page = _page_query(dataset_id, wanted, latest, after, limit, contains).subquery()
        with gc_paused():  # a page is up to 50,000 records
            count, last = _page_columns(connection, page, response.records)
        following = (
            count == limit
            and connection.execute(
                _page_query(dataset_id, wanted, latest, last, 1, contains)
            ).first()
            is not None
        )
    if following:
        response.next_page_token = encode_token({"q": search, "after": [last], "v": wanted})
    response.version = wanted
    return response


def _postgres_page_reads(connection: Connection) -> None:
    """Read the dataset row and its records in one snapshot, walking the records' primary
    key in order. Right after a large merge the table has no statistics yet; the planner
    then takes the dataset for a hundred rows and sorts all of it (on disk) for every page,
    ~25 µs a record instead of ~3."""
    connection.execution_options(isolation_level="REPEATABLE READ")
    connection.exec_driver_sql(  # for this transaction only
        "SELECT set_config('enable_sort', 'off', true), "
        "set_config('enable_bitmapscan', 'off', true)"
    )


def _page_columns(
    connection: Connection, page: Any, out: pb.DatasetRecordColumns
) -> tuple[int, str]:
    """Fill ``out`` with a page's columns; returns the page's size and last id. The
    database joins each JSON column into one JSON array in the same pass that reads the
    rows: every aggregate of one statement sees the rows in the same order, so the columns
    stay aligned, and that order is the page's (by id) on both databases; the ids are
    checked to be sure, and the rows are read one by one if they are not in order. The
    columns are written into the response in place (building a separate message and
    handing it over would copy the page)."""
    postgres = connection.dialect.name == "postgresql"
    count, ids, *texts, kinds, origins, created, updated = connection.execute(
        _aggregates(page, postgres)
    ).one()
    if not postgres:  # json_group_array's text: strings and 64-bit integers, which orjson
        ids, kinds, origins, created, updated = (  # reads exactly
            orjson.loads(v) for v in (ids, kinds, origins, created, updated)
        )
    last = ids[-1] if count else ""
    if count and ids != sorted(ids):  # never seen; the rows then come one by one
        rows = connection.execute(select(page).order_by(page.c.dataset_record_id)).all()
        out.CopyFrom(_columns(rows))
        return count, max(row[0] for row in rows)
    out.inputs, out.expectations, out.outputs, out.tags = (
        text if isinstance(text, bytes) else text.encode() for text in texts
    )
    if count:  # PostgreSQL's array_agg of no rows is NULL
        out.dataset_record_id.extend(ids)
        out.source_type.extend(kinds)
        out.source_id.extend([s or "" for s in origins])
        out.create_time_ms.extend(created)
        out.last_update_time_ms.extend(updated)
    return count, last


def _aggregates(page: Any, postgres: bool) -> Any:
    """One row: the page's size, each JSON column as one JSON array text, and
    the other columns as arrays (JSON text on SQLite). The aggregates take the rows in the
    page's order (no ORDER BY of their own: on PostgreSQL each would sort the page again,
    ~5 µs a record)."""
    c = page.c
    if postgres:

        def joined(column: Any) -> Any:
            return func.string_agg(column, literal(","))

        def listed(column: Any) -> Any:
            return func.array_agg(column)
    else:

        def joined(column: Any) -> Any:
            return func.group_concat(column, ",")

        def listed(column: Any) -> Any:
            return func.json_group_array(column)

    def array(column: Any) -> Any:
        text = literal("[") + func.coalesce(joined(column), "") + literal("]")
        return text if postgres else cast(text, LargeBinary)  # SQLite: as UTF-8, not decoded

    return select(
        func.count(),
        listed(c.dataset_record_id),
        array(c.inputs),
        array(c.expectations),
        array(func.coalesce(c.outputs, "null")),
        array(c.tags),
        listed(c.source_type),
        listed(c.source_id),
        listed(c.created_time_ms),
        listed(c.last_update_time_ms),
    )


def _contains(columns: Any, text: str) -> Any:
    """Rows whose JSON columns contain ``text`` (any case; wildcards in it are literal)."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(*(columns[name].ilike(pattern, escape="\\") for name in _SEARCHED_COLUMNS))


def _page_query(
    dataset_id: str, version: int, latest: bool, after: str, limit: int, contains: str = ""
) -> Any:
    """Records of ``version`` after the id ``after`` (and containing ``contains``): the
    current rows alone when it is the latest version, else current rows and history merged
    (each side limited first)."""
    r = RECORDS.c
    current = (
        select(*(r[name] for name in _OUT_COLUMNS))
        .where(r.dataset_id == dataset_id, r.dataset_record_id > after)
        .where(*([_contains(r, contains)] if contains else []))
        .order_by(r.dataset_record_id)
        .limit(limit)
    )
    if latest:
        return current
    h = HISTORY.c
    past = (
        select(*(h[name] for name in _OUT_COLUMNS))
        .where(
            h.dataset_id == dataset_id,
            h.dataset_record_id > after,
            h.version <= version,
            h.superseded_in > version,
        )
        .where(*([_contains(h, contains)] if contains else []))
        .order_by(h.dataset_record_id)
        .limit(limit)
    )
    both = union_all(
        select(current.where(r.version <= version).subquery()), select(past.subquery())
    ).subquery()
    return select(both).order_by(both.c.dataset_record_id).limit(limit)


def _columns(rows: Sequence[Any]) -> pb.DatasetRecordColumns:
    """A page's columns from its rows."""
    ids, inputs, expectations, outputs, tags, kinds, origins, created, updated = (
        zip(*rows) if rows else ((),) * 9
    )
    return pb.DatasetRecordColumns(
        dataset_record_id=ids,
        inputs=_array(inputs),
        expectations=_array(expectations),
        outputs=_array([o or "null" for o in outputs]),
        tags=_array(tags),
        source_type=kinds,
        source_id=[s or "" for s in origins],
        create_time_ms=created,
        last_update_time_ms=updated,
    )


def _array(texts: Sequence[str]) -> bytes:
    """Stored JSON texts as one JSON array."""
    return ("[" + ",".join(texts) + "]").encode()
