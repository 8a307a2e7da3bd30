"""The dataset pages: the global list (``/datasets``), an experiment's list
(``/experiments/{id}/datasets``) and one dataset (``/datasets/{dataset_id}``) with its
records, versions, diff, edits and downloads.

* The lists show name, records, version, short digest, tags, last update and the source
  type mix (SearchDatasets ``with_source_counts``).
* A dataset page pages its records with ListRecords' tokens (keyset: ``?page_token=``) and
  filters them on the server (``?q=``: ListRecords ``contains``); ``?version=N`` shows an
  earlier version read-only; ``/datasets/{id}/diff?from=&to=`` is DiffDatasetVersions.
* Edits are the SDK's calls: a record's expectations and a new record go through
  MergeRecords (so expectations merge key by key, as ``merge_records`` does, and a change
  makes a new version), deletes through DeleteRecords, tags through SetDatasetTags. JSON is
  checked in the browser (``static/datasets.js``) and again here; a problem is shown next to
  the field it is about.
* ``/datasets/{id}/download?format=jsonl|csv|parquet&version=N`` streams the records in the
  SDK's file formats (:mod:`spyglass.record_files`).

The open UI has no user identity: edits are recorded as :data:`UI_USER`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any, cast
from urllib.parse import urlencode

import grpc
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from spyglass import canonical_json, record_files
from spyglass.collector.api.local_calls import ApiCallError
from spyglass.collector.ui.app import CALL_TIMEOUT_S, ui_of
from spyglass.collector.ui.pages.experiments import SEARCH_LIMIT, experiment_of, like_pattern
from spyglass.collector.ui.pages.export import UI_USER, parse_tags
from spyglass.extras import MissingExtraError
from spyglass.v1 import datasets_pb2 as pb

PAGE_SIZE = 50
DOWNLOAD_PAGE = 5000
MAX_SELECTED = 1000
SOURCE_TYPES = ("TRACE", "HUMAN", "CODE", "DOCUMENT")
_FIXABLE = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION})


# -- lists -------------------------------------------------------------------------------


async def _search(request: Request, experiment_ids: list[str], query: str) -> list[pb.Dataset]:
    found = await ui_of(request).call(
        "DatasetService",
        "SearchDatasets",
        pb.SearchDatasetsRequest(
            experiment_ids=experiment_ids,
            filter=f"name ILIKE {like_pattern(query)}" if query else "",
            max_results=SEARCH_LIMIT,
            with_source_counts=True,
        ),
    )
    return list(found.datasets)


def _mix(dataset: pb.Dataset) -> list[tuple[str, int, float]]:
    """(source type, records, percent of the dataset) for the types it has."""
    counts = dict(dataset.source_type_counts)
    total = sum(counts.values()) or 1
    return [
        (kind, counts[kind], 100 * counts[kind] / total) for kind in SOURCE_TYPES if kind in counts
    ]


async def all_datasets_page(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()
    datasets = await _search(request, [], query)
    return ui_of(request).render(
        request,
        "datasets_all.html",
        {"datasets": [(d, _mix(d)) for d in datasets], "query": query, "section": "datasets"},
    )


async def experiment_datasets_page(request: Request) -> Response:
    experiment = await experiment_of(request)
    query = request.query_params.get("q", "").strip()
    datasets = await _search(request, [experiment.experiment_id], query)
    return ui_of(request).render(
        request,
        "datasets.html",
        {
            "experiment": experiment,
            "datasets": [(d, _mix(d)) for d in datasets],
            "query": query,
            "tab": "datasets",
        },
    )


# -- one dataset -------------------------------------------------------------------------


def _version_param(request: Request, name: str = "version") -> int | None:
    text = request.query_params.get(name, "").strip()
    return int(text) if text.isdigit() else None


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _rows(columns: pb.DatasetRecordColumns) -> list[dict[str, Any]]:
    """A page of records as template rows (JSON as text for display and editing)."""
    decoded = record_files.decode_columns(columns)
    rows = []
    for values in zip(*(decoded[name] for name in record_files.COLUMNS)):
        record = dict(zip(record_files.COLUMNS, values))
        rows.append(
            {
                **record,
                "inputs_text": _compact(record["inputs"]),
                "inputs_json": canonical_json.dumps(record["inputs"]),
                "expectations_text": _compact(record["expectations"]),
                "expectations_edit": _pretty(record["expectations"]),
                "expectations_json": canonical_json.dumps(record["expectations"]),
                "outputs_text": "" if record["outputs"] is None else _compact(record["outputs"]),
            }
        )
    return rows


async def _dataset(request: Request, version: int | None = None) -> pb.Dataset:
    get = pb.GetDatasetRequest(dataset_id=request.path_params["dataset_id"])
    if version is not None:
        get.version = version
    dataset: pb.Dataset = await ui_of(request).call("DatasetService", "GetDataset", get)
    return dataset


async def _page_context(request: Request, **extra: Any) -> dict[str, Any]:
    ui = ui_of(request)
    version = _version_param(request)
    dataset = await _dataset(request, version)
    query = request.query_params.get("q", "").strip()
    token = request.query_params.get("page_token", "")
    listing = pb.ListRecordsRequest(
        dataset_id=dataset.dataset_id, page_size=PAGE_SIZE, page_token=token, contains=query
    )
    if version is not None:
        listing.version = dataset.version
    try:
        page = await ui.call("DatasetService", "ListRecords", listing)
    except ApiCallError as error:  # a stale token (another filter or version): start over
        if error.code != grpc.StatusCode.INVALID_ARGUMENT or not token:
            raise
        listing.page_token = ""
        page = await ui.call("DatasetService", "ListRecords", listing)
    versions = await ui.call(
        "DatasetService",
        "ListDatasetVersions",
        pb.ListDatasetVersionsRequest(dataset_id=dataset.dataset_id),
    )
    read_only = dataset.version != dataset.latest_version
    keep = {"q": query} if query else {}
    if read_only:
        keep["version"] = str(dataset.version)
    return {
        "dataset": dataset,
        "records": _rows(page.records),
        "next_url": (
            f"/datasets/{dataset.dataset_id}?"
            + urlencode({**keep, "page_token": page.next_page_token})
            if page.next_page_token
            else ""
        ),
        "first_url": f"/datasets/{dataset.dataset_id}?{urlencode(keep)}" if token else "",
        "versions": list(versions.versions),
        "read_only": read_only,
        "query": query,
        "tags_text": "\n".join(f"{k}={v}" for k, v in sorted(dataset.tags.items())),
        "experiment_ids": list(dataset.experiment_ids),
        "section": "datasets",
        "errors": {},
        "form": {},
        "notice": request.query_params.get("done", ""),
        "formats": record_files.FORMATS,
        "download_version": dataset.version,
        **extra,
    }


async def dataset_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    context = await _page_context(request, **extra)
    context["add_open"] = any(key.startswith("add:") for key in context["errors"])
    return ui_of(request).render(request, "dataset.html", context, status_code)


async def diff_page(request: Request) -> Response:
    ui = ui_of(request)
    dataset = await _dataset(request)
    older = _version_param(request, "from")
    newer = _version_param(request, "to")
    if older is None:
        older = max(dataset.latest_version - 1, 0)
    diff_request = pb.DiffDatasetVersionsRequest(dataset_id=dataset.dataset_id, from_version=older)
    if newer is not None:
        diff_request.to_version = newer
    diff = await ui.call("DatasetService", "DiffDatasetVersions", diff_request)
    versions = await ui.call(
        "DatasetService",
        "ListDatasetVersions",
        pb.ListDatasetVersionsRequest(dataset_id=dataset.dataset_id),
    )
    return ui.render(
        request,
        "dataset_diff.html",
        {
            "dataset": dataset,
            "diff": diff,
            "changes": [_change(c) for c in diff.changes],
            "versions": list(versions.versions),
            "section": "datasets",
        },
    )


def _change(change: pb.RecordChange) -> dict[str, Any]:
    """A change as the diff template shows it: per field the before and after text, each
    marked changed or not, and per expectation/tag entry likewise."""
    before = json.loads(change.before) if change.before else None
    after = json.loads(change.after) if change.after else None
    changed = set(change.changed_fields)
    fields = []
    for name in ("inputs", "expectations", "outputs", "tags"):
        old = before.get(name) if before else None
        new = after.get(name) if after else None
        entries = []
        if name in ("expectations", "tags"):
            keys = sorted(set(old or {}) | set(new or {}))
            entries = [
                {
                    "key": key,
                    "before": _compact((old or {})[key]) if key in (old or {}) else "",
                    "after": _compact((new or {})[key]) if key in (new or {}) else "",
                    "changed": f"{name}.{key}" in changed,
                }
                for key in keys
            ]
        fields.append(
            {
                "name": name,
                "before": "" if before is None or old is None else _compact(old),
                "after": "" if after is None or new is None else _compact(new),
                "changed": name in changed,
                "entries": entries,
                "shown": change.kind != pb.RecordChange.CHANGED
                or name in changed
                or name == "inputs",
            }
        )
    source = (after or before or {}).get("source_type", "")
    source_id = (after or before or {}).get("source_id") or ""
    return {
        "kind": pb.RecordChange.Kind.Name(change.kind),
        "record_id": change.dataset_record_id,
        "fields": fields,
        "rows": sum(1 for f in fields if f["shown"]),
        "source_type": source,
        "source_id": source_id,
    }


# -- edits -------------------------------------------------------------------------------


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _json_object(text: str, label: str, required: bool) -> tuple[dict[str, Any] | None, str]:
    """(object, "") or (None, message): the text parsed as a JSON object."""
    if not text.strip():
        return None, (
            f'{label} is required: a JSON object, e.g. {{"question": "..."}}.' if required else ""
        )
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, f"{label} is not valid JSON: {exc}."
    if not isinstance(value, dict):
        return None, f"{label} must be a JSON object ({{...}}), not {type(value).__name__}."
    if required and not value:
        return None, f"{label} must not be empty."
    return value, ""


async def _merge(
    request: Request, dataset_id: str, record: dict[str, Any]
) -> pb.MergeRecordsResponse:
    """One record merged as the SDK's ``merge_records`` merges it (MergeRecords)."""
    columns = pb.DatasetRecordColumns(inputs=canonical_json.dumps_bytes([record["inputs"]]))
    if "expectations" in record:
        columns.expectations = canonical_json.dumps_bytes([record["expectations"]])
    if "outputs" in record:
        columns.outputs = canonical_json.dumps_bytes([record["outputs"]])
    if "source_type" in record:
        columns.source_type.append(record["source_type"])
    chunk = pb.MergeRecordsRequest(dataset_id=dataset_id, user=UI_USER, records=columns)
    ui = ui_of(request)
    method = "MergeRecords"
    response = await ui.local.unary("DatasetService", method, cast(Any, [chunk]), CALL_TIMEOUT_S)
    return cast(pb.MergeRecordsResponse, response)


def _done(dataset_id: str, notice: str) -> Response:
    return RedirectResponse(
        f"/datasets/{dataset_id}?{urlencode({'done': notice})}", status_code=303
    )


def _result_notice(response: pb.MergeRecordsResponse) -> str:
    if not (response.inserted_count or response.updated_count):
        return "Nothing changed: the record already had this content."
    return f"Saved as version {response.dataset.version}."


async def edit_expectations(request: Request) -> Response:
    dataset_id = request.path_params["dataset_id"]
    record_id = request.path_params["record_id"]
    form = await request.form()
    text = _field(form, "expectations")
    inputs, _ = _json_object(_field(form, "inputs"), "Inputs", True)
    original, _ = _json_object(_field(form, "original"), "Expectations", False)
    value, problem = _json_object(text, "Expectations", False)
    if not problem and value is None:
        value = {}
    removed = sorted(set(original or {}) - set(value or {}))
    if not problem and removed:
        problem = (
            f"Expectations cannot be removed here ({', '.join(removed)}): saving merges the "
            "expectations key by key, as merge_records does; give them a new value instead."
        )
    if inputs is None:
        problem = problem or "The record's inputs are missing from the form; reload the page."
    if not problem:
        try:
            response = await _merge(request, dataset_id, {"inputs": inputs, "expectations": value})
        except ApiCallError as error:
            if error.code not in _FIXABLE:
                raise
            problem = error.message
        else:
            return _done(dataset_id, _result_notice(response))
    return await dataset_page(
        request,
        400,
        errors={f"expectations:{record_id}": problem},
        form={f"expectations:{record_id}": text},
    )


async def add_record(request: Request) -> Response:
    dataset_id = request.path_params["dataset_id"]
    form = await request.form()
    texts = {name: _field(form, name) for name in ("inputs", "expectations", "outputs")}
    errors: dict[str, str] = {}
    inputs, errors["inputs"] = _json_object(texts["inputs"], "Inputs", True)
    expectations, errors["expectations"] = _json_object(
        texts["expectations"], "Expectations", False
    )
    record: dict[str, Any] = {"inputs": inputs, "source_type": pb.DatasetRecordColumns.HUMAN}
    if expectations:
        record["expectations"] = expectations
    if texts["outputs"].strip():
        try:
            record["outputs"] = json.loads(texts["outputs"])
        except ValueError as exc:
            errors["outputs"] = f"Outputs is not valid JSON: {exc}."
    errors = {k: v for k, v in errors.items() if v}
    if not errors:
        try:
            response = await _merge(request, dataset_id, record)
        except ApiCallError as error:
            if error.code not in _FIXABLE:
                raise
            errors["add"] = error.message
        else:
            if not response.inserted_count:
                return _done(
                    dataset_id,
                    "A record with these inputs exists; it was merged: " + _result_notice(response),
                )
            return _done(dataset_id, f"Record added as version {response.dataset.version}.")
    return await dataset_page(
        request,
        400,
        errors={f"add:{k}": v for k, v in errors.items()},
        form={f"add:{k}": v for k, v in texts.items()},
    )


async def delete_records(request: Request) -> Response:
    dataset_id = request.path_params["dataset_id"]
    form = await request.form(max_fields=MAX_SELECTED + 10)
    ids = [v for v in form.getlist("record_id") if isinstance(v, str) and v]
    if not ids:
        return await dataset_page(
            request, 400, errors={"delete": "Select the records to delete first."}
        )
    response = await ui_of(request).call(
        "DatasetService",
        "DeleteRecords",
        pb.DeleteRecordsRequest(dataset_id=dataset_id, dataset_record_ids=ids, user=UI_USER),
    )
    return _done(
        dataset_id,
        f"Deleted {response.deleted_count} record{'s' if response.deleted_count != 1 else ''}"
        f" as version {response.dataset.version}.",
    )


async def set_tags(request: Request) -> Response:
    dataset_id = request.path_params["dataset_id"]
    form = await request.form()
    text = _field(form, "tags")
    try:
        tags = parse_tags(text)
    except ValueError as exc:
        return await dataset_page(request, 400, errors={"tags": str(exc)}, form={"tags": text})
    dataset = await _dataset(request)
    try:
        await ui_of(request).call(
            "DatasetService",
            "SetDatasetTags",
            pb.SetDatasetTagsRequest(
                dataset_id=dataset_id,
                tags=tags,
                delete_keys=[k for k in dataset.tags if k not in tags],
                user=UI_USER,
            ),
        )
    except ApiCallError as error:
        if error.code not in _FIXABLE:
            raise
        return await dataset_page(request, 400, errors={"tags": error.message}, form={"tags": text})
    return _done(dataset_id, "Tags saved.")


# -- downloads ---------------------------------------------------------------------------


def _file_name(dataset: pb.Dataset, suffix: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", dataset.name).strip("._") or "dataset"
    return f"{safe}-v{dataset.version}.{suffix}"


async def download(request: Request) -> Response:
    ui = ui_of(request)
    kind = request.query_params.get("format", "jsonl")
    if kind not in record_files.FORMATS:
        return ui.render(
            request,
            "error.html",
            {
                "title": "Unknown format",
                "message": f"Unknown format {kind!r}: use jsonl, csv or parquet.",
            },
            400,
        )
    dataset = await _dataset(request, _version_param(request))
    headers = {"Content-Disposition": f'attachment; filename="{_file_name(dataset, kind)}"'}

    async def pages() -> AsyncIterator[pb.DatasetRecordColumns]:
        token = ""
        while True:
            page = await ui.call(
                "DatasetService",
                "ListRecords",
                pb.ListRecordsRequest(
                    dataset_id=dataset.dataset_id,
                    version=dataset.version,
                    page_size=DOWNLOAD_PAGE,
                    page_token=token,
                ),
            )
            yield page.records
            token = page.next_page_token
            if not token:
                return

    if kind == "parquet":
        columns: dict[str, list[Any]] = {name: [] for name in record_files.COLUMNS}
        async for records in pages():
            for name, values in record_files.decode_columns(records).items():
                columns[name] += values
        try:
            content = record_files.parquet_bytes(columns)
        except MissingExtraError as exc:
            return ui.render(
                request,
                "error.html",
                {"title": "Parquet needs pyarrow", "message": f"Parquet download: {exc}"},
                501,
            )
        return Response(content, media_type=record_files.MEDIA_TYPES[kind], headers=headers)

    async def body() -> AsyncIterator[bytes]:
        first = True
        async for records in pages():
            columns = record_files.decode_columns(records)
            if kind == "csv":
                yield record_files.csv_bytes(columns, header=first)
            else:
                yield record_files.jsonl_bytes(columns)
            first = False

    return StreamingResponse(body(), media_type=record_files.MEDIA_TYPES[kind], headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route("/datasets", all_datasets_page, methods=["GET"]),
        Route("/experiments/{experiment_id}/datasets", experiment_datasets_page, methods=["GET"]),
        Route("/datasets/{dataset_id}", dataset_page, methods=["GET"]),
        Route("/datasets/{dataset_id}/diff", diff_page, methods=["GET"]),
        Route("/datasets/{dataset_id}/download", download, methods=["GET"]),
        Route("/datasets/{dataset_id}/records", add_record, methods=["POST"]),
        Route("/datasets/{dataset_id}/records/delete", delete_records, methods=["POST"]),
        Route(
            "/datasets/{dataset_id}/records/{record_id}/expectations",
            edit_expectations,
            methods=["POST"],
        ),
        Route("/datasets/{dataset_id}/tags", set_tags, methods=["POST"]),
    ]
