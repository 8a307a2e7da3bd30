"""Evaluation datasets: named, versioned sets of records built from traces, dicts and
DataFrames, kept by the collector (DatasetService) and read back as DataFrames.

    from spyglass.evaluator.datasets import create_dataset, get_dataset
    dataset = create_dataset("customer_support_qa_v1", experiment_id=exp.experiment_id)
    dataset.merge_records(spyglass.search_traces(return_type="list"))
    df = dataset.to_df()

Names load on first use, so the CLI can register its ``datasets`` commands without
loading the client.
"""

from __future__ import annotations

from spyglass.lazy_exports import lazy_exports

_CATALOG = "spyglass.evaluator.datasets.catalog"
_DATASET = "spyglass.evaluator.datasets.dataset"
_RECORDS = "spyglass.evaluator.datasets.records"
_EXPORTS = {
    "create_dataset": _CATALOG,
    "get_dataset": _CATALOG,
    "search_datasets": _CATALOG,
    "delete_dataset": _CATALOG,
    "set_dataset_tags": _CATALOG,
    "delete_dataset_tag": _CATALOG,
    "add_dataset_to_experiments": _CATALOG,
    "remove_dataset_from_experiments": _CATALOG,
    "Dataset": _DATASET,
    "DatasetVersion": _DATASET,
    "MergeResult": _DATASET,
    "DatasetRecord": _RECORDS,
    "DatasetRecordSource": _RECORDS,
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
