"""Evaluation datasets through the public API (``spyglass.evaluator.datasets``) and the CLI,
on the embedded collector (SQLite) and on a collector over PostgreSQL.

What it proves:

* seed workflow step 4 runs as written: records from traces carry the root span's inputs
  and outputs, the expectations logged on the trace (also those logged after the Trace
  objects were fetched) and source TRACE with the trace id; hand-written records are HUMAN
  or CODE; merging inputs that exist updates the record (expectations key by key, newer
  wins) instead of adding one; the search_traces DataFrame merges as traces;
* every change of records makes a version with its own digest; the digest depends on the
  content only and stays put when a merge changes nothing; old versions read back as they
  were; ``Dataset`` objects are snapshots of their version;
* create/get/search/tag/link/delete work and fail with typed errors (duplicate name,
  unknown dataset or experiment, bad filter with a caret);
* a merge with a bad record anywhere, even in its last chunk, changes nothing;
* records page in insertion order; the CLI exports and imports .jsonl, .csv and .parquet,
  and an import reproduces the content (the same digest).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import spyglass
from spyglass import session
from spyglass.cli import cli
from spyglass.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidFilterError,
    NotFoundError,
)
from spyglass.evaluator.datasets import (
    DatasetRecordSource,
    add_dataset_to_experiments,
    create_dataset,
    delete_dataset,
    delete_dataset_tag,
    get_dataset,
    remove_dataset_from_experiments,
    search_datasets,
    set_dataset_tags,
)

QUESTIONS = ["What is the refund policy?", "How long does shipping take?", "Is there a warranty?"]
FRAME_COLUMNS = [
    "dataset_record_id",
    "inputs",
    "expectations",
    "outputs",
    "tags",
    "source_type",
    "source_id",
    "created_time",
    "last_update_time",
]


@spyglass.trace
def answer(question: str) -> str:
    return f"Answer: {question.lower()}"


def _by_question(frame: pd.DataFrame) -> dict[str, dict]:
    return {row["inputs"]["question"]: row for row in frame.to_dict("records")}


# -- the seed workflow's step 4 -------------------------------------------------------------


def test_seed_step_4_builds_a_dataset_from_traces_dicts_and_a_dataframe(
    spyglass_session: str,
) -> None:
    spyglass.set_experiment("Customer Support Bot")
    for q in QUESTIONS:
        answer(q)
    traces = spyglass.search_traces(max_results=10, return_type="list")
    assert len(traces) == 3
    for trace in traces:  # step 3
        root = trace.data._get_root_span()
        question = root.inputs.get("question", "") if root and root.inputs else ""
        if "refund" in question.lower():
            spyglass.log_expectation(
                trace_id=trace.info.trace_id,
                name="key_information",
                value={"must_mention": ["30 days", "receipt"], "tone": "helpful"},
            )
    ids = {t.data.root_span.inputs["question"]: t.info.trace_id for t in traces}

    # step 4, as written
    exp = spyglass.get_experiment_by_name("Customer Support Bot")
    dataset = create_dataset(
        name="customer_support_qa_v1",
        experiment_id=exp.experiment_id,
        tags={"stage": "validation", "domain": "customer_support"},
    )
    dataset.merge_records(spyglass.search_traces(max_results=100, return_type="list"))
    assert (dataset.last_merge.inserted, dataset.last_merge.updated) == (3, 0)
    dataset.merge_records(
        [
            {
                "inputs": {"question": "Can I return an item after 45 days?"},
                "expectations": {"should_clarify": "30-day policy", "tone": "apologetic"},
            },
            {
                "inputs": {"question": "Do you ship internationally?"},
                "expectations": {"provides_alternatives": True},
            },
        ]
    )
    frame_in = pd.DataFrame(
        {
            "inputs": [{"question": "Do you ship internationally?"}, {"question": "Gift cards?"}],
            "expectations": [{"provides_alternatives": False, "tone": "friendly"}, None],
        }
    )
    dataset.merge_records(frame_in)
    assert (dataset.last_merge.inserted, dataset.last_merge.updated) == (1, 1)
    set_dataset_tags(dataset_id=dataset.dataset_id, tags={"environment": "dev"})
    df = dataset.to_df()
    same = get_dataset(name="customer_support_qa_v1")

    assert list(df.columns) == FRAME_COLUMNS
    assert len(df) == len(dataset) == 6
    rows = _by_question(df)
    refund = rows["What is the refund policy?"]
    assert refund["source_type"] == "TRACE"
    assert refund["source_id"] == ids["What is the refund policy?"]
    assert refund["outputs"] == "Answer: what is the refund policy?"
    assert refund["expectations"] == {
        "key_information": {"must_mention": ["30 days", "receipt"], "tone": "helpful"}
    }
    assert rows["Is there a warranty?"]["expectations"] == {}
    assert rows["Can I return an item after 45 days?"]["source_type"] == "HUMAN"
    assert rows["Can I return an item after 45 days?"]["source_id"] is None
    assert rows["Do you ship internationally?"]["expectations"] == {
        "provides_alternatives": False,
        "tone": "friendly",
    }  # merged key by key, newer wins
    assert rows["Gift cards?"]["source_type"] == "CODE"
    assert rows["Gift cards?"]["outputs"] is None
    assert same.dataset_id == dataset.dataset_id and same.digest == dataset.digest
    assert same.experiment_ids == [exp.experiment_id]
    assert same.tags == {"stage": "validation", "domain": "customer_support", "environment": "dev"}
    assert df["created_time"].dtype == "int64"
    assert df["dataset_record_id"].is_unique


def test_merge_from_traces_carries_expectations_logged_after_the_trace(
    spyglass_session: str,
) -> None:
    spyglass.set_experiment("late expectations")
    for q in QUESTIONS:
        answer(q)
    stale = spyglass.search_traces(return_type="list")
    assert all(t.info.expectations == {} for t in stale)
    target = next(t for t in stale if "shipping" in t.data.root_span.inputs["question"])
    spyglass.log_expectation(trace_id=target.info.trace_id, name="max_days", value=7)
    spyglass.log_expectation(trace_id=target.info.trace_id, name="tone", value="precise")

    dataset = create_dataset(
        "late", experiment_id=spyglass.get_experiment_by_name("late expectations").experiment_id
    )
    dataset.merge_records(stale)  # Trace objects fetched before the expectations
    rows = _by_question(dataset.to_df())
    assert rows["How long does shipping take?"]["expectations"] == {
        "max_days": 7,
        "tone": "precise",
    }
    assert rows["How long does shipping take?"]["source_id"] == target.info.trace_id

    # the DataFrame search_traces returns: its rows are traces
    frame = spyglass.search_traces()
    assert {"trace_id", "trace"} <= set(frame.columns)
    dataset.merge_records(frame)
    assert (
        dataset.last_merge.inserted,
        dataset.last_merge.updated,
        dataset.last_merge.unchanged,
    ) == (0, 0, 3)
    spyglass.log_expectation(trace_id=target.info.trace_id, name="tone", value="warm")
    dataset.merge_records(frame)  # the expectation changed since the frame was made
    assert (dataset.last_merge.updated, dataset.last_merge.unchanged) == (1, 2)
    assert _by_question(dataset.to_df())["How long does shipping take?"]["expectations"] == {
        "max_days": 7,
        "tone": "warm",
    }


# -- versions and digests -------------------------------------------------------------------


def test_every_change_makes_a_version_and_old_versions_read_back(spyglass_session: str) -> None:
    dataset = create_dataset("versions", experiment_id="0")
    assert (dataset.version, len(dataset), dataset.latest_version) == (0, 0, 0)
    empty_digest = dataset.digest

    dataset.merge_records([{"inputs": {"q": i}, "expectations": {"a": i}} for i in range(5)])
    v1 = dataset.digest
    assert (dataset.version, len(dataset), v1 != empty_digest) == (1, 5, True)

    dataset.merge_records([{"inputs": {"q": 1}, "expectations": {"a": 1}}])  # nothing new
    assert (dataset.version, dataset.digest, dataset.last_merge.unchanged) == (1, v1, 1)

    dataset.merge_records(
        [{"inputs": {"q": 1}, "expectations": {"b": 2}, "outputs": "o"}, {"inputs": {"q": 9}}]
    )
    v2 = dataset.digest
    assert (dataset.version, len(dataset), v2 not in (v1, empty_digest)) == (2, 6, True)

    ids = {row["inputs"]["q"]: row["dataset_record_id"] for _, row in dataset.to_df().iterrows()}
    assert dataset.delete_records([ids[0], ids[9], "dr-unknown"]) == 2
    assert (dataset.version, len(dataset)) == (3, 4)

    first = get_dataset(dataset_id=dataset.dataset_id, version=1)
    assert (first.version, first.latest_version, len(first), first.digest) == (1, 3, 5, v1)
    old = first.to_df()
    assert sorted(r["q"] for r in old["inputs"]) == [0, 1, 2, 3, 4]
    assert {r["inputs"]["q"]: r["expectations"] for _, r in old.iterrows()}[1] == {"a": 1}
    assert old["outputs"].isna().all()
    second = dataset.to_df(version=2)
    assert sorted(r["q"] for r in second["inputs"]) == [0, 1, 2, 3, 4, 9]
    assert {r["inputs"]["q"]: r["outputs"] for _, r in second.iterrows()}[1] == "o"
    assert len(dataset.to_df(version=0)) == 0
    assert [v.version for v in dataset.versions()] == [3, 2, 1, 0]
    assert [(v.inserted, v.updated, v.deleted) for v in dataset.versions()] == [
        (0, 0, 2),
        (1, 1, 0),
        (5, 0, 0),
        (0, 0, 0),
    ]
    with pytest.raises(InvalidArgumentError, match="versions 0 to 3"):
        get_dataset(dataset_id=dataset.dataset_id, version=4)
    with pytest.raises(InvalidArgumentError, match="version must be"):
        dataset.to_df(version=-1)

    # the digest is the content's: a copy made from the records has the same one
    copy = create_dataset("versions copy", experiment_id="0")
    copy.merge_records(dataset.to_df())
    assert copy.digest == dataset.digest and copy.version == 1
    # a snapshot keeps its version while the dataset moves on
    dataset.merge_records([{"inputs": {"q": 100}}])
    assert len(first.to_df()) == 5 and len(list(first.records)) == 5


def test_records_page_in_insertion_order(spyglass_session: str) -> None:
    dataset = create_dataset("paging", experiment_id="0")
    dataset.merge_records(
        [{"inputs": {"n": i}, "tags": {"parity": str(i % 2)}} for i in range(2500)]
    )
    dataset.merge_records([{"inputs": {"n": i}} for i in range(2500, 2600)])
    records = dataset.records
    assert len(records) == 2600
    listed = list(records)
    assert [r.inputs["n"] for r in listed] == list(range(2600))
    assert len({r.dataset_record_id for r in listed}) == 2600
    assert listed[3].tags == {"parity": "1"} and listed[3].source_type == "CODE"
    assert listed[3].source == DatasetRecordSource("CODE", None)
    assert [r.inputs["n"] for r in dataset.records][:3] == [0, 1, 2]  # iterable again


# -- catalog: create, find, tag, link, delete -------------------------------------------


def test_create_find_tag_link_and_delete(spyglass_session: str) -> None:
    a = spyglass.set_experiment("ds-exp-a")
    b = spyglass.set_experiment("ds-exp-b")
    before = int(time.time() * 1000) - 1
    qa = create_dataset(
        "qa_v1", experiment_id=[a.experiment_id, b.experiment_id], tags={"stage": "validation"}
    )
    create_dataset("qa_v2", experiment_id=a.experiment_id, tags={"stage": "prod"})
    other = create_dataset("other")  # the active experiment
    assert qa.experiment_ids == sorted([a.experiment_id, b.experiment_id], key=int)
    assert other.experiment_ids == [b.experiment_id]
    assert qa.created_by == qa.last_updated_by and qa.created_time >= before
    assert get_dataset(dataset_id=qa.dataset_id).name == "qa_v1"

    with pytest.raises(AlreadyExistsError, match=r"qa_v1.*already exists"):
        create_dataset("qa_v1")
    with pytest.raises(NotFoundError, match="no dataset is named 'QA_V1'"):
        get_dataset(name="QA_V1")
    with pytest.raises(NotFoundError, match="experiment 999 not found"):
        create_dataset("bad link", experiment_id="999")
    with pytest.raises(InvalidArgumentError, match="exactly one"):
        get_dataset()

    def names(**kwargs: object) -> list[str]:
        return [d.name for d in search_datasets(**kwargs)]

    assert names(filter_string="name LIKE 'qa%'", order_by=["name"]) == ["qa_v1", "qa_v2"]
    assert names(filter_string="tags.stage = 'validation'") == ["qa_v1"]
    assert names(
        filter_string=f"create_time >= {before} AND name != 'other'", order_by=["name DESC"]
    ) == ["qa_v2", "qa_v1"]
    assert names(experiment_ids=[b.experiment_id], order_by=["name"]) == ["other", "qa_v1"]
    assert names(filter_string="tags.stage IS NULL") == ["other"]
    assert len(search_datasets(max_results=2)) == 2
    assert names()[0] == "other"  # newest change first
    with pytest.raises(InvalidFilterError) as bad:
        search_datasets(filter_string="name LIKE 'qa%' AND colour = 'red'")
    assert "unknown field 'colour'" in str(bad.value) and "^" in str(bad.value)
    assert str(bad.value).splitlines()[-1] == " " * (2 + len("name LIKE 'qa%' AND ")) + "^"

    tagged = set_dataset_tags(qa.dataset_id, {"owner": "ana", "stage": None})
    assert tagged.tags == {"owner": "ana"}
    assert delete_dataset_tag(qa.dataset_id, "owner").tags == {}
    assert delete_dataset_tag(qa.dataset_id, "never-set").tags == {}
    with pytest.raises(InvalidArgumentError, match="tag values are strings"):
        set_dataset_tags(qa.dataset_id, {"n": 1})

    linked = add_dataset_to_experiments(other.dataset_id, [a.experiment_id])
    assert linked.experiment_ids == sorted([a.experiment_id, b.experiment_id], key=int)
    assert remove_dataset_from_experiments(other.dataset_id, b.experiment_id).experiment_ids == [
        a.experiment_id
    ]
    with pytest.raises(NotFoundError, match="experiment 12345 not found"):
        add_dataset_to_experiments(other.dataset_id, "12345")

    delete_dataset(name="qa_v1")
    with pytest.raises(NotFoundError):
        get_dataset(dataset_id=qa.dataset_id)
    with pytest.raises(NotFoundError, match="may have been deleted"):
        qa.merge_records([{"inputs": {"q": i}} for i in range(30_000)])  # stops early
    assert "qa_v1" not in names()


# -- bad input --------------------------------------------------------------------------------


def test_a_failed_merge_changes_nothing(spyglass_session: str) -> None:
    dataset = create_dataset("atomic", experiment_id="0")
    dataset.merge_records([{"inputs": {"q": "kept"}, "expectations": {"a": 1}}])
    digest = dataset.digest

    with pytest.raises(InvalidArgumentError, match=r"record 3: inputs\['when'\] is a date"):
        dataset.merge_records(
            [
                {"inputs": {"q": 1}},
                {"inputs": {"q": 2}},
                {"inputs": {"when": pd.Timestamp("2026-01-01").date()}},
            ]
        )
    # checked by the collector, in the last of several chunks: nothing is stored either
    many = [{"inputs": {"q": i}, "expectations": {"a": i}} for i in range(12_000)]
    many[0] = {"inputs": {"q": "kept"}, "expectations": {"a": 2}}  # would update
    many.append({"inputs": {"q": "last"}, "tags": {"priority": 1}})
    with pytest.raises(InvalidArgumentError, match=r"record 12001: tag 'priority'"):
        dataset.merge_records(many)
    # found by the client in a later chunk, after the first ones were sent: the stream is
    # cancelled, so the collector stores none of them
    late = [{"inputs": {"q": i}} for i in range(12_000)]
    late[11_000] = {"inputs": {"q": {1, 2}}}
    with pytest.raises(InvalidArgumentError, match=r"record 11001: inputs\['q'\] is a set"):
        dataset.merge_records(late)
    with pytest.raises(InvalidArgumentError, match=r"record 2: a TRACE record needs"):
        dataset.merge_records([{"inputs": {"q": 1}}, {"inputs": {"q": 2}, "source": "TRACE"}])
    with pytest.raises(InvalidArgumentError, match=r"record 1: inputs must be a non-empty"):
        dataset.merge_records([{"inputs": {}}])

    now = get_dataset(dataset_id=dataset.dataset_id)
    assert (now.version, len(now), now.digest) == (1, 1, digest)
    assert now.to_df()["expectations"].tolist() == [{"a": 1}]
    assert [v.version for v in now.versions()] == [1, 0]

    dataset.merge_records([])  # nothing to merge: no call, no version
    assert (dataset.last_merge.inserted, dataset.version) == (0, 1)


# -- the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def cli_session(collector) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A collector of its own on each store (the CLI reconfigures the session, which would
    stop an embedded one), with the facade pointed at it; yields its address."""
    address = f"127.0.0.1:{collector.grpc_port}"
    session.configure(collector=address)
    yield address
    session._shutdown()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_cli_export_import_round_trip(cli_session: str, tmp_path: Path, suffix: str) -> None:
    source = create_dataset("exported", experiment_id="0", tags={"kind": "qa"})
    source.merge_records(
        [
            {
                "inputs": {"question": "Zoë's order, 30 days?", "ids": [2**70, 1]},
                "expectations": {"must_mention": ["30 days"], "score": 0.5, "strict": True},
                "outputs": {"answer": "yes", "citations": []},
                "tags": {"split": "test"},
            },
            {"inputs": {"question": "plain"}, "outputs": ""},
            {"inputs": {"question": "doc"}, "source": DatasetRecordSource("DOCUMENT", "kb-7")},
            {"inputs": {"question": 'comma, "quotes"\nnewline'}, "expectations": {"x": None}},
        ]
    )
    runner = CliRunner()
    path = tmp_path / f"records{suffix}"
    address = ["--collector", cli_session]
    exported = runner.invoke(cli, ["datasets", "export", *address, "exported", str(path)])
    assert exported.exit_code == 0, exported.output
    assert f"wrote 4 records of 'exported' version 1 (digest {source.digest})" in exported.output

    imported = runner.invoke(
        cli, ["datasets", "import", *address, str(path), "--dataset", f"imported{suffix}"]
    )
    assert imported.exit_code == 0, imported.output
    assert "created 'imported" in imported.output and "4 inserted" in imported.output
    copy = get_dataset(name=f"imported{suffix}")
    assert copy.digest == source.digest  # the same content, byte for byte
    original, back = _by_question(source.to_df()), _by_question(copy.to_df())
    for question, row in original.items():
        for column in ("inputs", "expectations", "outputs", "tags", "source_type", "source_id"):
            assert back[question][column] == row[column], (question, column)
    again = runner.invoke(
        cli, ["datasets", "import", *address, str(path), "--dataset", f"imported{suffix}"]
    )
    assert "merged into" in again.output and "4 unchanged" in again.output


def test_cli_list_show_delete_and_errors(cli_session: str, tmp_path: Path) -> None:
    dataset = create_dataset("shown", experiment_id="0", tags={"stage": "dev"})
    dataset.merge_records([{"inputs": {"q": i}} for i in range(3)])
    runner = CliRunner()
    address = ["--collector", cli_session]
    listed = runner.invoke(
        cli, ["datasets", "list", *address, "--format", "json", "--filter", "tags.stage = 'dev'"]
    )
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert (row["name"], row["records"], row["version"], row["digest"]) == (
        "shown",
        3,
        1,
        dataset.digest,
    )
    shown = runner.invoke(cli, ["datasets", "show", *address, dataset.dataset_id, "--records", "2"])
    assert shown.exit_code == 0, shown.output
    assert "name: shown" in shown.output and "versions:" in shown.output
    assert shown.output.count('"inputs"') == 2
    bad_format = runner.invoke(
        cli, ["datasets", "export", *address, "shown", str(tmp_path / "x.xlsx")]
    )
    assert bad_format.exit_code != 0 and ".jsonl, .csv, .parquet" in bad_format.output
    deleted = runner.invoke(cli, ["datasets", "delete", *address, "shown"])
    assert "deleted dataset 'shown'" in deleted.output
    missing = runner.invoke(cli, ["datasets", "show", *address, "shown"])
    assert missing.exit_code != 0 and "error: " in missing.output
