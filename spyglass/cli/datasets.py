"""``spyglass datasets list|show|export|import|delete``: evaluation datasets from the command
line.

Datasets are named by name or id. Files are ``.jsonl``, ``.csv`` or ``.parquet``, chosen by
extension (see :mod:`spyglass.evaluator.datasets.files`).
"""

from __future__ import annotations

import json
from typing import Any

import click

from spyglass.cli import connection
from spyglass.cli.options import collector_option, experiments_option, format_option
from spyglass.cli.output import Column, cell, render
from spyglass.errors import NotFoundError

DATASET_COLUMNS = (
    Column("dataset_id", "id"),
    Column("name"),
    Column("version", "count"),
    Column("records", "count"),
    Column("digest"),
    Column("last_update_time", "time", "last_update"),
    Column("tags", "mapping"),
)
"""The columns of ``datasets list``."""

VERSION_COLUMNS = (
    Column("version", "count"),
    Column("digest"),
    Column("records", "count"),
    Column("inserted", "count"),
    Column("updated", "count"),
    Column("deleted", "count"),
    Column("created_time", "time", "created"),
    Column("created_by"),
)
"""The versions table of ``datasets show``."""


@click.group("datasets")
def group() -> None:
    """List, show, export, import and delete evaluation datasets."""


@group.command("list")
@collector_option
@experiments_option("only datasets linked to this experiment (name or id; repeatable)")
@click.option(
    "--filter",
    "filter_string",
    default=None,
    help="e.g. \"name LIKE 'qa%' AND tags.stage = 'validation'\"",
)
@click.option("--order-by", multiple=True, help="e.g. 'name ASC' (default: newest change first)")
@click.option("--limit", type=int, default=None, help="at most this many datasets")
@format_option()
def datasets_list(
    collector: str | None,
    experiments: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    limit: int | None,
    fmt: str,
) -> None:
    """Datasets with their latest version, size and digest."""
    from spyglass.evaluator.datasets import search_datasets

    session = connection.connect(collector)
    found = search_datasets(
        connection.experiment_ids(session, experiments),
        filter_string,
        limit,
        list(order_by) or None,
    )
    click.echo(render([_summary(d) for d in found], fmt, DATASET_COLUMNS))


@group.command("show")
@collector_option
@click.argument("dataset")
@click.option("--version", type=int, default=None, help="describe this version")
@click.option(
    "--records",
    "show_records",
    type=int,
    default=0,
    help="also print this many records as JSON lines",
)
def datasets_show(
    collector: str | None, dataset: str, version: int | None, show_records: int
) -> None:
    """A dataset's details and its versions (DATASET: name or id)."""
    connection.connect(collector)
    found = _find(dataset, version)
    details = {
        **_summary(found),
        "latest_version": found.latest_version,
        "experiment_ids": ",".join(found.experiment_ids),
        "created_by": found.created_by,
        "last_updated_by": found.last_updated_by,
    }
    kinds = {c.key: c.kind for c in DATASET_COLUMNS}
    click.echo(
        "\n".join(
            f"{key}: {cell(value, kinds.get(key, 'text')).plain}" for key, value in details.items()
        )
    )
    click.echo("\nversions:")
    click.echo(
        render(
            [
                {
                    "version": v.version,
                    "digest": v.digest,
                    "records": v.record_count,
                    "inserted": v.inserted,
                    "updated": v.updated,
                    "deleted": v.deleted,
                    "created_time": v.created_time,
                    "created_by": v.created_by,
                }
                for v in found.versions()
            ],
            "table",
            VERSION_COLUMNS,
        )
    )
    if show_records > 0:
        click.echo("\nrecords:")
        for i, record in enumerate(found.records):
            if i >= show_records:
                break
            click.echo(
                json.dumps(
                    {
                        "inputs": record.inputs,
                        "expectations": record.expectations,
                        "outputs": record.outputs,
                        "source_type": record.source_type,
                        "source_id": record.source_id,
                    },
                    default=str,
                )
            )


@group.command("export")
@collector_option
@click.argument("dataset")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--version", type=int, default=None, help="export this version (default: latest)")
def datasets_export(collector: str | None, dataset: str, path: str, version: int | None) -> None:
    """Write a dataset's records to PATH (.jsonl, .csv or .parquet)."""
    from spyglass.evaluator.datasets.files import check_writable, file_format, write_records

    file_format(path)
    check_writable(path)
    connection.connect(collector)
    found = _find(dataset, version)
    write_records(found.to_df(), path)
    click.echo(
        f"wrote {len(found)} records of {found.name!r} version {found.version} "
        f"(digest {found.digest}) to {path}"
    )


@group.command("import")
@collector_option
@click.argument("path")
@click.option(
    "--dataset",
    "name",
    required=True,
    help="the dataset to merge into (name or id); created when no dataset has that name",
)
@experiments_option("experiment (name or id) to link a newly created dataset to (repeatable)")
def datasets_import(
    collector: str | None, path: str, name: str, experiments: tuple[str, ...]
) -> None:
    """Merge the records of PATH (.jsonl, .csv or .parquet) into a dataset."""
    from spyglass.evaluator.datasets import create_dataset
    from spyglass.evaluator.datasets.files import read_records

    records = read_records(path)
    session = connection.connect(collector, creates_store=True)
    try:
        target = _find(name, None)
        created = False
    except NotFoundError:
        target = create_dataset(name, experiment_id=connection.experiment_ids(session, experiments))
        created = True
    target.merge_records(records)
    merge = target.last_merge
    click.echo(
        f"{'created' if created else 'merged into'} {target.name!r}: "
        f"{merge.inserted if merge else 0} inserted, {merge.updated if merge else 0} "
        f"updated, {merge.unchanged if merge else 0} unchanged; now version "
        f"{target.version} with {len(target)} records (digest {target.digest})"
    )


@group.command("delete")
@collector_option
@click.argument("dataset")
def datasets_delete(collector: str | None, dataset: str) -> None:
    """Delete a dataset with all its records and versions (DATASET: name or id)."""
    from spyglass.evaluator.datasets import delete_dataset

    connection.connect(collector)
    found = _find(dataset, None)
    delete_dataset(found.dataset_id)
    click.echo(f"deleted dataset {found.name!r} ({found.dataset_id}, {len(found)} records)")


def _find(name_or_id: str, version: int | None) -> Any:
    """The dataset with this name, else with this id."""
    from spyglass.cli.lookup import find_dataset

    return find_dataset(name_or_id, version)


def _summary(dataset: Any) -> dict[str, Any]:
    """One row of ``datasets list``; the head of ``datasets show``."""
    return {
        "dataset_id": dataset.dataset_id,
        "name": dataset.name,
        "version": dataset.version,
        "records": dataset.record_count,
        "digest": dataset.digest,
        "last_update_time": dataset.last_update_time,
        "tags": dict(sorted(dataset.tags.items())),
    }
