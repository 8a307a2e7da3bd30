"""Datasets in the store: create, read (any version), search, tag, link to experiments,
delete. Their records live in :mod:`spyglass.collector.store.datasets.records`.

A dataset row carries its current version, digest and record count; ``dataset_versions``
keeps those figures for every version, so reading an old version's description is one
lookup. Changes to a dataset take its row lock first (:func:`lock_dataset`: ``SELECT … FOR
UPDATE`` on PostgreSQL; on SQLite the write transaction already holds the database's write
lock), so concurrent merges and edits of one dataset run one after the other and none is
lost.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.datasets import digest as dataset_digest
from spyglass.collector.store.datasets.filters import compile_filter, sort_keys
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.ids import parse_experiment_ids
from spyglass.collector.store.models import (
    DatasetExperiment,
    DatasetRecordHistory,
    DatasetRecordRow,
    DatasetRow,
    DatasetTag,
    DatasetVersionRow,
    Experiment,
)
from spyglass.collector.store.paging import fingerprint, keyset_page
from spyglass.collector.store.text import check_key
from spyglass.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from spyglass.v1 import datasets_pb2 as pb

MAX_NAME_LENGTH = 256
MAX_USER_LENGTH = 256
SEARCH_MAX = 1000

DATASETS = DatasetRow.__table__
TAGS = DatasetTag.__table__
LINKS = DatasetExperiment.__table__
VERSIONS = DatasetVersionRow.__table__
_D = DATASETS.c


def check_user(user: str) -> str | None:
    """The user name a request carries (None when empty), at most 256 characters."""
    if len(user) > MAX_USER_LENGTH:
        raise InvalidArgumentError(
            f"user name {user[:40]!r}… is {len(user)} characters long; "
            f"the limit is {MAX_USER_LENGTH}"
        )
    return user or None


def check_dataset_id(dataset_id: str) -> str:
    if not dataset_id:
        raise InvalidArgumentError(
            "dataset_id is empty; give the id create_dataset returned "
            "(or look the dataset up by name)"
        )
    return dataset_id


# -- create, read ------------------------------------------------------------------------


def create_dataset(
    engine: Engine, name: str, experiment_ids: Sequence[str], tags: dict[str, str], user: str
) -> pb.Dataset:
    """A new, empty dataset at version 0; AlreadyExistsError when the name is taken."""
    _check_name(name)
    for key in tags:
        check_key(key, "dataset tag key")
    user_name = check_user(user)
    numbers = _experiment_numbers(experiment_ids)
    dataset_id = f"d-{uuid.uuid4().hex}"
    now = now_ms()
    try:
        with write_transaction(engine) as connection:
            _check_experiments_exist(connection, numbers)
            connection.execute(
                insert(DATASETS).values(
                    dataset_id=dataset_id,
                    name=name,
                    version=0,
                    digest=dataset_digest.EMPTY_DIGEST,
                    digest_sum=dataset_digest.EMPTY_SUM,
                    record_count=0,
                    created_time_ms=now,
                    last_update_time_ms=now,
                    created_by=user_name,
                    last_updated_by=user_name,
                )
            )
            record_version(
                connection, dataset_id, 0, dataset_digest.EMPTY_DIGEST, 0, (0, 0, 0), now, user_name
            )
            if tags:
                connection.execute(
                    insert(TAGS),
                    [{"dataset_id": dataset_id, "key": k, "value": v} for k, v in tags.items()],
                )
            if numbers:
                connection.execute(
                    insert(LINKS), [{"dataset_id": dataset_id, "experiment_id": n} for n in numbers]
                )
    except IntegrityError:
        with engine.connect() as connection:
            existing = connection.scalar(select(_D.dataset_id).where(_D.name == name))
        if existing is None:
            raise
        raise AlreadyExistsError(
            f"a dataset named {name!r} already exists (id {existing}); "
            "open it with get_dataset(name=...) or choose another name"
        ) from None
    return get_dataset(engine, dataset_id, "", None)


def get_dataset(engine: Engine, dataset_id: str, name: str, version: int | None) -> pb.Dataset:
    """One dataset by id or by exact name, at ``version`` (None: the latest)."""
    if bool(dataset_id) == bool(name):
        raise InvalidArgumentError("give exactly one of dataset_id and name")
    condition = _D.dataset_id == dataset_id if dataset_id else _D.name == name
    with engine.connect() as connection:
        row = connection.execute(select(DATASETS).where(condition)).first()
        if row is None:
            what = (
                f"dataset {dataset_id!r} not found"
                if dataset_id
                else f"no dataset is named {name!r} (names are case-sensitive)"
            )
            raise NotFoundError(
                f"{what}; list datasets with search_datasets() (`spyglass datasets list`)"
            )
        return dataset_message(connection, row, version)


def load_dataset(connection: Connection, dataset_id: str) -> Any:
    """The dataset's row (NotFoundError when there is none)."""
    row = connection.execute(
        select(DATASETS).where(_D.dataset_id == check_dataset_id(dataset_id))
    ).first()
    if row is None:
        raise NotFoundError(
            f"dataset {dataset_id!r} not found; it may have been deleted "
            "(list datasets with search_datasets())"
        )
    return row


def lock_dataset(connection: Connection, dataset_id: str) -> Any:
    """The dataset's row, locked until the transaction ends (NotFoundError when absent)."""
    query = select(DATASETS).where(_D.dataset_id == check_dataset_id(dataset_id))
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"dataset {dataset_id!r} not found; it may have been deleted "
            "(list datasets with search_datasets())"
        )
    return row


def dataset_message(connection: Connection, row: Any, version: int | None = None) -> pb.Dataset:
    """The API message of one dataset row, described at ``version`` (None: its current)."""
    return _messages(connection, [row], {row.dataset_id: version})[0]


def check_version(row: Any, version: int | None) -> int:
    """``version`` (None: the latest) checked against the dataset's versions."""
    if version is None:
        return row.version
    if not 0 <= version <= row.version:
        raise InvalidArgumentError(
            f"dataset {row.name!r} has versions 0 to {row.version}; "
            f"version {version} does not exist"
        )
    return version


# -- search ------------------------------------------------------------------------------


def search_datasets(
    engine: Engine,
    experiment_ids: Sequence[str],
    filter_text: str,
    max_results: int,
    order_by: Sequence[str],
    page_token: str,
    with_source_counts: bool = False,
) -> tuple[list[pb.Dataset], str]:
    """One page of datasets matching the filter and the token of the next page; with
    ``with_source_counts``, each with its records counted per source type."""
    if max_results < 0:
        raise InvalidArgumentError(f"max_results must not be negative, got {max_results}")
    limit = min(max_results or SEARCH_MAX, SEARCH_MAX)
    dialect = engine.dialect.name
    keys = sort_keys(order_by, dialect)
    query = select(DATASETS)
    numbers = _experiment_numbers(experiment_ids)
    if numbers:
        query = query.where(
            exists().where(LINKS.c.dataset_id == _D.dataset_id, LINKS.c.experiment_id.in_(numbers))
        )
    condition = compile_filter(filter_text, dialect)
    if condition is not None:
        query = query.where(condition)
    search = fingerprint("datasets", sorted(numbers), filter_text, list(order_by))
    return keyset_page(
        engine,
        query,
        keys,
        search,
        page_token,
        limit,
        lambda connection, rows: (
            _with_counts(connection, _messages(connection, rows, {}))
            if with_source_counts
            else _messages(connection, rows, {})
        ),
    )


def _with_counts(connection: Connection, datasets: list[pb.Dataset]) -> list[pb.Dataset]:
    """``datasets`` with their current records counted per source type (one grouped
    pass over their records)."""
    records = DatasetRecordRow.__table__.c
    by_id = {d.dataset_id: d for d in datasets}
    if not by_id:
        return datasets
    rows = connection.execute(
        select(records.dataset_id, records.source_type, func.count())
        .where(records.dataset_id.in_(list(by_id)))
        .group_by(records.dataset_id, records.source_type)
    ).all()
    for dataset_id, source_type, count in rows:  # stored by name: TRACE, HUMAN, ...
        by_id[dataset_id].source_type_counts[source_type] = count
    return datasets


# -- change ------------------------------------------------------------------------------


def delete_dataset(engine: Engine, dataset_id: str) -> None:
    """Delete the dataset with its records, history, versions, tags and links."""
    with write_transaction(engine) as connection:
        lock_dataset(connection, dataset_id)
        for table in (
            DatasetRecordRow.__table__,
            DatasetRecordHistory.__table__,
            VERSIONS,
            TAGS,
            LINKS,
            DATASETS,
        ):
            connection.execute(delete(table).where(table.c.dataset_id == dataset_id))


def set_tags(
    engine: Engine, dataset_id: str, tags: dict[str, str], delete_keys: Sequence[str], user: str
) -> pb.Dataset:
    """Set ``tags`` and remove ``delete_keys``; other tags keep their values."""
    for key in (*tags, *delete_keys):
        check_key(key, "dataset tag key")
    both = set(tags) & set(delete_keys)
    if both:
        raise InvalidArgumentError(
            f"tag {sorted(both)[0]!r} is both set and deleted; do one or the other"
        )

    def change(connection: Connection) -> None:
        gone = [*delete_keys, *tags]
        if gone:
            connection.execute(
                delete(TAGS).where(TAGS.c.dataset_id == dataset_id, TAGS.c.key.in_(gone))
            )
        if tags:
            connection.execute(
                insert(TAGS),
                [{"dataset_id": dataset_id, "key": k, "value": v} for k, v in tags.items()],
            )

    return _change(engine, dataset_id, user, change)


def add_experiments(
    engine: Engine, dataset_id: str, experiment_ids: Sequence[str], user: str
) -> pb.Dataset:
    """Link the dataset to more experiments (each must exist)."""
    numbers = _experiment_numbers(experiment_ids)

    def change(connection: Connection) -> None:
        _check_experiments_exist(connection, numbers)
        linked = set(
            connection.scalars(
                select(LINKS.c.experiment_id).where(LINKS.c.dataset_id == dataset_id)
            )
        )
        new = [n for n in numbers if n not in linked]
        if new:
            connection.execute(
                insert(LINKS), [{"dataset_id": dataset_id, "experiment_id": n} for n in new]
            )

    return _change(engine, dataset_id, user, change)


def remove_experiments(
    engine: Engine, dataset_id: str, experiment_ids: Sequence[str], user: str
) -> pb.Dataset:
    """Unlink the dataset from experiments (ids it is not linked to are ignored)."""
    numbers = _experiment_numbers(experiment_ids)

    def change(connection: Connection) -> None:
        if numbers:
            connection.execute(
                delete(LINKS).where(
                    LINKS.c.dataset_id == dataset_id, LINKS.c.experiment_id.in_(numbers)
                )
            )

    return _change(engine, dataset_id, user, change)


def record_version(
    connection: Connection,
    dataset_id: str,
    version: int,
    digest: str,
    record_count: int,
    counts: tuple[int, int, int],
    now: int,
    user: str | None,
) -> None:
    """Note what ``version`` holds: its digest, size and (inserted, updated, deleted)."""
    inserted, updated, deleted = counts
    connection.execute(
        insert(VERSIONS).values(
            dataset_id=dataset_id,
            version=version,
            digest=digest,
            record_count=record_count,
            inserted_count=inserted,
            updated_count=updated,
            deleted_count=deleted,
            created_time_ms=now,
            created_by=user,
        )
    )


def list_versions(engine: Engine, dataset_id: str) -> list[pb.DatasetVersion]:
    """Every version of the dataset, newest first."""
    with engine.connect() as connection:
        load_dataset(connection, dataset_id)
        rows = connection.execute(
            select(VERSIONS)
            .where(VERSIONS.c.dataset_id == dataset_id)
            .order_by(VERSIONS.c.version.desc())
        )
        return [
            pb.DatasetVersion(
                version=r.version,
                digest=r.digest,
                record_count=r.record_count,
                inserted_count=r.inserted_count,
                updated_count=r.updated_count,
                deleted_count=r.deleted_count,
                create_time_ms=r.created_time_ms,
                created_by=r.created_by or "",
            )
            for r in rows
        ]


# -- helpers -----------------------------------------------------------------------------


def _change(
    engine: Engine, dataset_id: str, user: str, change: Callable[[Connection], None]
) -> pb.Dataset:
    """Run ``change`` on the locked dataset in one transaction, note who changed it when,
    and return the dataset as it is then."""
    user_name = check_user(user)
    with write_transaction(engine) as connection:
        lock_dataset(connection, dataset_id)
        change(connection)
        connection.execute(
            update(DATASETS)
            .where(_D.dataset_id == dataset_id)
            .values(last_update_time_ms=now_ms(), last_updated_by=user_name)
        )
        return dataset_message(connection, load_dataset(connection, dataset_id))


def _check_name(name: str) -> None:
    if not name.strip():
        raise InvalidArgumentError(
            "a dataset name must not be empty; e.g. 'customer_support_qa_v1'"
        )
    check_key(name, "dataset name", MAX_NAME_LENGTH)


def _experiment_numbers(experiment_ids: Sequence[str]) -> list[int]:
    return parse_experiment_ids(experiment_ids)


def _check_experiments_exist(connection: Connection, numbers: list[int]) -> None:
    if not numbers:
        return
    e = Experiment.__table__.c
    found = set(connection.scalars(select(e.experiment_id).where(e.experiment_id.in_(numbers))))
    missing = [n for n in numbers if n not in found]
    if missing:
        raise NotFoundError(
            f"experiment {missing[0]} not found; list experiments with "
            "search_experiments() (`spyglass experiments list`)"
        )


def _messages(
    connection: Connection, rows: Sequence[Any], versions: dict[str, int | None]
) -> list[pb.Dataset]:
    """Messages for dataset rows; tags, links and asked-for old versions read in one query
    each."""
    if not rows:
        return []
    ids = [row.dataset_id for row in rows]
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for dataset_id, key, value in connection.execute(
        select(TAGS.c.dataset_id, TAGS.c.key, TAGS.c.value).where(TAGS.c.dataset_id.in_(ids))
    ):
        if value is not None:
            tags[dataset_id][key] = value
    links: dict[str, list[str]] = defaultdict(list)
    for dataset_id, number in connection.execute(
        select(LINKS.c.dataset_id, LINKS.c.experiment_id)
        .where(LINKS.c.dataset_id.in_(ids))
        .order_by(LINKS.c.experiment_id)
    ):
        links[dataset_id].append(str(number))
    old = _old_versions(connection, rows, versions)
    messages = []
    for row in rows:
        version = check_version(row, versions.get(row.dataset_id))
        digest, count = old.get(row.dataset_id, (row.digest, row.record_count))
        messages.append(
            pb.Dataset(
                dataset_id=row.dataset_id,
                name=row.name,
                experiment_ids=links[row.dataset_id],
                tags=tags[row.dataset_id],
                digest=digest,
                version=version,
                record_count=count,
                latest_version=row.version,
                create_time_ms=row.created_time_ms,
                last_update_time_ms=row.last_update_time_ms,
                created_by=row.created_by or "",
                last_updated_by=row.last_updated_by or "",
            )
        )
    return messages


def _old_versions(
    connection: Connection, rows: Sequence[Any], versions: dict[str, int | None]
) -> dict[str, tuple[str, int]]:
    """(digest, record_count) of the asked-for versions that are not the current ones."""
    wanted = {
        row.dataset_id: versions[row.dataset_id]
        for row in rows
        if versions.get(row.dataset_id) is not None
        and check_version(row, versions[row.dataset_id]) != row.version
    }
    found = {}
    for dataset_id, version in wanted.items():
        v = connection.execute(
            select(VERSIONS.c.digest, VERSIONS.c.record_count).where(
                VERSIONS.c.dataset_id == dataset_id, VERSIONS.c.version == version
            )
        ).one()
        found[dataset_id] = (v.digest, v.record_count)
    return found
