"""Creating, finding, tagging, linking and deleting datasets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from spyglass import session
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.datasets import remote as service
from spyglass.evaluator.datasets.dataset import Dataset
from spyglass.v1 import datasets_pb2 as pb

SEARCH_PAGE = 1000


def create_dataset(
    name: str,
    experiment_id: str | Sequence[str] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Dataset:
    """A new, empty dataset (version 0) linked to ``experiment_id`` (one id or a list;
    None: the active experiment). AlreadyExistsError when the name is taken."""
    if experiment_id is None:
        ids = [session.active_experiment_id()]
    else:
        ids = _ids(experiment_id, "experiment_id")
    request = pb.CreateDatasetRequest(
        name=name, experiment_ids=ids, tags=_tag_values(tags or {}), user=service.current_user()
    )
    return Dataset.from_proto(service.call("CreateDataset", request))


def get_dataset(
    dataset_id: str | None = None, name: str | None = None, version: int | None = None
) -> Dataset:
    """The dataset with this id or exact name, at its latest version or at ``version``
    (NotFoundError when there is none)."""
    if (dataset_id is None) == (name is None):
        raise InvalidArgumentError("get_dataset needs exactly one of dataset_id and name")
    request = pb.GetDatasetRequest(dataset_id=dataset_id or "", name=name or "")
    if version is not None:
        request.version = version
    return Dataset.from_proto(service.call("GetDataset", request))


def search_datasets(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Dataset]:
    """Datasets matching ``filter_string`` (e.g. ``"name LIKE 'qa%' AND tags.stage =
    'validation'"``; fields name, dataset_id, digest, created_by, last_updated_by,
    create_time, last_update_time, record_count, version, tags.<key>), linked to any of
    ``experiment_ids`` when given. Every match unless ``max_results`` says otherwise;
    newest change first unless ``order_by`` says otherwise. A bad filter raises
    InvalidFilterError with a caret under the spot."""
    if max_results is not None and max_results < 1:
        raise InvalidArgumentError(
            f"max_results must be at least 1, got {max_results}; leave it out for every match"
        )
    found: list[Dataset] = []
    token = ""
    while True:
        want = SEARCH_PAGE if max_results is None else min(SEARCH_PAGE, max_results - len(found))
        request = pb.SearchDatasetsRequest(
            experiment_ids=_ids(experiment_ids or [], "experiment_ids"),
            filter=filter_string or "",
            max_results=want,
            order_by=list(order_by or ()),
            page_token=token,
        )
        response = service.call("SearchDatasets", request)
        found.extend(Dataset.from_proto(d) for d in response.datasets)
        token = response.next_page_token
        if not token or (max_results is not None and len(found) >= max_results):
            return found


def delete_dataset(dataset_id: str | None = None, name: str | None = None) -> None:
    """Delete a dataset (by id or name) with all its records and versions."""
    if name is not None and dataset_id is None:
        dataset_id = get_dataset(name=name).dataset_id
    if dataset_id is None:
        raise InvalidArgumentError("delete_dataset needs dataset_id or name")
    service.call("DeleteDataset", pb.DeleteDatasetRequest(dataset_id=dataset_id))


def set_dataset_tags(dataset_id: str, tags: Mapping[str, str | None]) -> Dataset:
    """Set tags on a dataset, merged into the ones it has; a None value deletes that tag."""
    request = pb.SetDatasetTagsRequest(
        dataset_id=dataset_id,
        user=service.current_user(),
        tags=_tag_values({k: v for k, v in tags.items() if v is not None}),
        delete_keys=[k for k, v in tags.items() if v is None],
    )
    return Dataset.from_proto(service.call("SetDatasetTags", request))


def delete_dataset_tag(dataset_id: str, key: str) -> Dataset:
    """Remove one tag from a dataset (no error when it has no such tag)."""
    request = pb.SetDatasetTagsRequest(
        dataset_id=dataset_id, delete_keys=[key], user=service.current_user()
    )
    return Dataset.from_proto(service.call("SetDatasetTags", request))


def add_dataset_to_experiments(dataset_id: str, experiment_ids: str | Sequence[str]) -> Dataset:
    """Link a dataset to more experiments (NotFoundError for an unknown one)."""
    request = pb.AddDatasetExperimentsRequest(
        dataset_id=dataset_id,
        experiment_ids=_ids(experiment_ids, "experiment_ids"),
        user=service.current_user(),
    )
    return Dataset.from_proto(service.call("AddDatasetExperiments", request))


def remove_dataset_from_experiments(
    dataset_id: str, experiment_ids: str | Sequence[str]
) -> Dataset:
    """Unlink a dataset from experiments (ids it is not linked to are ignored)."""
    request = pb.RemoveDatasetExperimentsRequest(
        dataset_id=dataset_id,
        experiment_ids=_ids(experiment_ids, "experiment_ids"),
        user=service.current_user(),
    )
    return Dataset.from_proto(service.call("RemoveDatasetExperiments", request))


def _ids(value: Any, what: str) -> list[str]:
    """One id or a list of them, as strings (experiment ids may be given as numbers)."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, Sequence) and all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value
    ):
        return [str(v) for v in value]
    raise InvalidArgumentError(f"{what} must be an id or a list of ids, got {value!r}")


def _tag_values(tags: Mapping[str, Any]) -> dict[str, str]:
    bad = next((k for k, v in tags.items() if not isinstance(v, str)), None)
    if bad is not None:
        raise InvalidArgumentError(
            f"tag {bad!r} has a {type(tags[bad]).__name__} value; tag "
            "values are strings (a None value deletes the tag)"
        )
    return dict(tags)
