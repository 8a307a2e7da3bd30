"""Dataset records as pure functions: the canonical JSON and input hash that make records
unique, the client's normalisation of what merge_records accepts, the collector's checks
and key-by-key merge, and the digest's running sum.

What it proves:

* the canonical text ignores key order (also nested), keeps non-ASCII text, keeps
  integers beyond 64 bits exactly, and is the same whether orjson or the standard library
  writes it; NaN, infinities, sets, datetimes and non-string keys are refused with the
  path of the bad part; NumPy scalars become numbers;
* merge_records' inputs (dicts, DataFrames, DatasetRecord objects, source in every
  accepted spelling) become the columns the collector expects, and bad input fails with
  the record's number and what to fix;
* the collector's reading of those columns checks each record, folds repeats key by key
  (newer wins), keeps the first source, and merging onto a stored record replaces outputs
  only when new ones come;
* the digest's running sum does not depend on the order records were added and equals a
  recomputation from scratch after removals.
"""

from __future__ import annotations

import datetime
import json
import random

import numpy as np
import pandas as pd
import pytest

from spyglass import canonical_json
from spyglass.collector.store.datasets import digest as dataset_digest
from spyglass.collector.store.datasets.record_input import fold, merge_onto, read_records
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.datasets.normalize import to_columns
from spyglass.evaluator.datasets.records import DatasetRecord, DatasetRecordSource
from spyglass.v1 import datasets_pb2 as pb

SOURCE = pb.DatasetRecordColumns.SourceType


# -- canonical JSON and the input hash ---------------------------------------------------


def test_canonical_text_ignores_key_order_at_every_level() -> None:
    a = {"question": "refund?", "context": {"b": [1, {"y": 2, "x": 1}], "a": None}}
    b = {"context": {"a": None, "b": [1, {"x": 1, "y": 2}]}, "question": "refund?"}
    assert canonical_json.canonical(a) == canonical_json.canonical(b)
    assert canonical_json.canonical(a) == (
        '{"context":{"a":null,"b":[1,{"x":1,"y":2}]},"question":"refund?"}'
    )
    assert canonical_json.canonical_hash(a) == canonical_json.canonical_hash(b)
    assert len(canonical_json.canonical_hash(a)) == 64
    # list order and value types do matter
    assert canonical_json.canonical_hash({"k": [1, 2]}) != canonical_json.canonical_hash(
        {"k": [2, 1]}
    )
    assert canonical_json.canonical_hash({"k": 1}) != canonical_json.canonical_hash({"k": "1"})


def test_canonical_text_keeps_unicode_and_big_integers() -> None:
    value = {"name": "Zoë 🚀", "id": 2**70, "small": -(2**63)}
    text = canonical_json.canonical(value)
    assert text == '{"id":1180591620717411303424,"name":"Zoë 🚀","small":-9223372036854775808}'
    assert canonical_json.loads(text) == value  # exactly: not rounded through a float
    assert canonical_json.loads('{"n": 12345678901234567890123}')["n"] == 12345678901234567890123


def test_canonical_text_is_the_same_on_both_writers() -> None:
    """A value with a big integer is written by the standard library: it must sort and
    space exactly as orjson does for the rest."""
    rng = random.Random(7)
    for _ in range(200):
        doc = {
            f"k{rng.randrange(50)}": rng.choice(["x", "é", 1, -5, True, None, [1, "a"]])
            for _ in range(6)
        }
        assert canonical_json._stdlib_dumps(doc, True, "v") == canonical_json.canonical(doc)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": float("nan")}, r"inputs\['a'\] is nan"),
        ({"a": [1, float("inf")]}, r"inputs\['a'\]\[1\] is inf"),
        ({"a": {1: "x"}}, r"inputs\['a'\] has the key 1 \(int\)"),
        ({"a": {1, 2}}, r"inputs\['a'\] is a set"),
        ({"when": datetime.datetime(2026, 1, 1)}, r"inputs\['when'\] is a datetime.*isoformat"),
        ({"a": [2**70, float("nan")]}, r"inputs\['a'\]\[1\] is nan"),  # on the stdlib path
        ({"a": {2**70: 1}}, r"has the key"),
    ],
)
def test_non_json_values_are_refused_with_their_path(value: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        canonical_json.dumps(value, what="inputs")


def test_numpy_scalars_are_numbers_and_loads_rejects_non_json() -> None:
    assert (
        canonical_json.dumps({"a": np.float64(0.5), "b": np.int64(3), "c": np.bool_(True)})
        == '{"a":0.5,"b":3,"c":true}'
    )
    for text in ("[NaN]", "{", "[1e999]", "[Infinity, 12345678901234567890]"):
        with pytest.raises(ValueError):
            canonical_json.loads(text)


# -- the client: what merge_records accepts ------------------------------------------------


def test_dicts_become_columns_with_sources_in_every_spelling() -> None:
    columns = to_columns(
        [
            {"inputs": {"q": "a"}, "expectations": {"tone": "kind"}},
            {"inputs": {"q": "b"}, "outputs": "text", "tags": {"split": "test"}},
            {"inputs": {"q": "c"}, "source": DatasetRecordSource("DOCUMENT", "doc-1")},
            {"inputs": {"q": "d"}, "source": {"source_type": "human", "source_id": "alice"}},
            {"inputs": {"q": "e"}, "source": "CODE"},
            {"inputs": {"q": "f"}, "source_type": "TRACE", "source_id": "ab" * 16},
        ]
    )
    assert len(columns) == 6
    assert [json.loads(t) for t in columns.inputs] == [{"q": q} for q in "abcdef"]
    assert columns.expectations == [b'{"tone":"kind"}'] + [b"null"] * 5
    assert columns.outputs == [b"null", b'"text"'] + [b"null"] * 4
    assert columns.tags == [b"null", b'{"split":"test"}'] + [b"null"] * 4
    assert columns.source_type == [0, 0, SOURCE.DOCUMENT, SOURCE.HUMAN, SOURCE.CODE, SOURCE.TRACE]
    assert columns.source_id == ["", "", "doc-1", "alice", "", "ab" * 16]


def test_dataframes_and_dataset_records_become_columns() -> None:
    frame = pd.DataFrame(
        {
            "inputs": [{"q": 1}, {"q": 2}],
            "expectations": [{"a": 1}, None],
            "outputs": [None, {"answer": 2}],
            "source_type": ["HUMAN", None],
            "source_id": ["bob", None],
            "dataset_record_id": ["dr-1", "dr-2"],  # to_df columns: ignored
            "created_time": [1, 2],
        }
    )
    columns = to_columns(frame)
    assert columns.inputs == [b'{"q":1}', b'{"q":2}']
    assert columns.expectations == [b'{"a":1}', b"null"]
    assert columns.outputs == [b"null", b'{"answer":2}']
    assert (columns.source_type, columns.source_id) == ([SOURCE.HUMAN, 0], ["bob", ""])

    record = DatasetRecord("dr-9", {"q": 3}, {"e": True}, "out", {"t": "v"}, "TRACE", "cd" * 16)
    copied = to_columns([record])
    assert (copied.inputs, copied.expectations, copied.outputs, copied.tags) == (
        [b'{"q":3}'],
        [b'{"e":true}'],
        [b'"out"'],
        [b'{"t":"v"}'],
    )
    assert (copied.source_type, copied.source_id) == ([SOURCE.TRACE], ["cd" * 16])


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"inputs": {"q": 1}}, r"not a single dict; wrap it in a list"),
        (42, r"not a int"),
        ([{"inputs": {"q": 1}}, {"expectations": {"a": 1}}], r"record 2 has no inputs"),
        ([{"inputs": "what?"}], r"record 1: inputs must be a dict, got a str"),
        ([{"inputs": '{"q": 1}'}], r"decode it first with json.loads"),
        (
            [{"inputs": {"q": 1}, "expectation": {"a": 1}}],
            r"record 1 has the unknown key "
            r"'expectation'",
        ),
        (
            [{"inputs": {"q": 1}}, {"inputs": {"q": float("nan")}}],
            r"record 2: inputs\['q'\] is nan",
        ),
        ([{"inputs": {"q": 1}, "outputs": {1, 2}}], r"record 1: outputs is a set"),
        ([{"inputs": {"q": 1}, "expectations": ["a"]}], r"record 1: expectations must be a dict"),
        ([{"inputs": {"q": 1}, "source": "ROBOT"}], r"record 1: source type 'ROBOT' is not one of"),
        ([{"inputs": {"q": 1}, "source_id": "x"}], r"record 1 has a source_id but no source_type"),
        ([{"inputs": {"q": 1}, "source": "HUMAN", "source_id": "x"}], r"both 'source' and"),
        ([{"inputs": {"q": 1}, "source": {"type": "HUMAN"}}], r"source must look like"),
        (["text"], r"record 1 is a str"),
        (pd.DataFrame({"inputs": [{"q": 1}], "expected": [1]}), r"unknown column 'expected'"),
        (pd.DataFrame({"expectations": [{"q": 1}]}), r"no 'inputs' column"),
    ],
)
def test_bad_records_name_the_record_and_the_fix(records: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        to_columns(records)


def test_large_merges_are_cut_into_chunks_in_order() -> None:
    columns = to_columns([{"inputs": {"i": i}, "outputs": "x" * 100} for i in range(12)])
    by_count = list(columns.chunks(max_records=5))
    assert [len(json.loads(c.inputs)) for c in by_count] == [5, 5, 2]
    by_bytes = list(columns.chunks(max_bytes=250))  # ~110 bytes a record: 3 per chunk
    assert [len(json.loads(c.inputs)) for c in by_bytes] == [3, 3, 3, 3]
    assert [r["i"] for c in by_bytes for r in json.loads(c.inputs)] == list(range(12))
    assert all(len(json.loads(c.outputs)) == len(c.source_type) == 3 for c in by_bytes)


# -- the collector: checks, folding, merging --------------------------------------------------


def _chunk(*records: dict) -> pb.DatasetRecordColumns:
    return to_columns(list(records)).chunks().__next__()


def test_collector_folds_repeats_key_by_key_and_keeps_the_first_source() -> None:
    chunks = [
        _chunk(
            {
                "inputs": {"q": 1, "lang": "en"},
                "expectations": {"a": 1, "b": 1},
                "tags": {"t": "1"},
                "source": DatasetRecordSource("DOCUMENT", "d"),
            }
        ),
        _chunk(
            {
                "inputs": {"lang": "en", "q": 1},
                "expectations": {"b": 2, "c": 3},
                "outputs": "second",
                "source": "CODE",
            },
            {"inputs": {"q": 2}},
        ),
    ]
    records = read_records(chunks)
    assert [r.index for r in records] == [0, 1, 2]
    folded = fold(records)
    assert len(folded) == 2
    first = folded[records[0].input_hash]
    assert first.input_hash == canonical_json.canonical_hash({"q": 1, "lang": "en"})
    state = first.state()
    assert json.loads(state.expectations) == {"a": 1, "b": 2, "c": 3}
    assert (state.outputs, state.tags) == ('"second"', '{"t":"1"}')
    assert (state.source_type, state.source_id) == ("DOCUMENT", "d")
    second = folded[records[2].input_hash]
    assert (second.source_type, second.state().expectations) == ("CODE", "{}")


def test_a_record_without_source_is_human_with_expectations_else_code() -> None:
    records = read_records(
        [
            _chunk(
                {"inputs": {"q": 1}, "expectations": {"a": 1}},
                {"inputs": {"q": 2}},
                {"inputs": {"q": 3}, "expectations": {}},
            )
        ]
    )
    assert [r.source_type for r in records] == ["HUMAN", "CODE", "CODE"]


def test_merging_onto_a_stored_record() -> None:
    (record,) = read_records(
        [
            _chunk(
                {
                    "inputs": {"q": 1},
                    "expectations": {"a": 1, "b": 1},
                    "outputs": "old",
                    "tags": {"x": "1"},
                }
            )
        ]
    )
    stored = record.state()

    def merged_with(**fields: object) -> object:
        (newer,) = read_records([_chunk({"inputs": {"q": 1}, **fields})])
        return merge_onto(stored, newer, json.loads(stored.expectations), json.loads(stored.tags))

    merged = merged_with(expectations={"b": 2}, tags={"y": "2"}, source="CODE")
    assert json.loads(merged.expectations) == {"a": 1, "b": 2}
    assert json.loads(merged.tags) == {"x": "1", "y": "2"}
    assert merged.outputs == '"old"'  # no outputs in the newer record: kept
    assert merged.source_type == "HUMAN"  # the stored record's source stays
    assert merged.content_hash() != stored.content_hash()
    assert merged_with(expectations={"a": 1}).content_hash() == stored.content_hash()
    assert merged_with().content_hash() == stored.content_hash()
    assert merged_with(outputs={"v": 2}).outputs == '{"v":2}'
    (nothing,) = read_records([_chunk({"inputs": {"q": 1}})])
    assert not nothing.brings_content()


def _columns(**fields: object) -> pb.DatasetRecordColumns:
    """A chunk as a foreign client might send it: JSON columns given as text."""
    return pb.DatasetRecordColumns(
        **{k: v.encode() if isinstance(v, str) else v for k, v in fields.items()}
    )


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            _columns(inputs='[{"q":1}, [1, 2]]'),
            r"record 2: inputs must be a non-empty "
            r"JSON object.*got an array",
        ),
        (_columns(inputs="[{}]"), r"record 1: inputs must be a non-empty.*empty object"),
        (_columns(inputs='[{"q":1}, null]'), r"record 2: inputs is missing"),
        (_columns(expectations="[{}]"), r"the chunk starting at record 1 has no inputs"),
        (
            _columns(inputs="[{'q': 1}]"),
            r"the inputs of the chunk starting at record 1 are not "
            r"valid JSON",
        ),
        (_columns(inputs='{"q":1}'), r"are an object .*, not a JSON array"),
        (
            _columns(inputs='[{"q":1}]', expectations='["x"]'),
            r"record 1: expectations must be a JSON object",
        ),
        (
            _columns(inputs='[{"q":1}]', tags='[{"t": 1}]'),
            r"record 1: tag 't' has a number \(1\) as its value; tag values are strings",
        ),
        (
            _columns(inputs='[{"q":1}]', outputs="[NaN]"),
            r"the outputs of the chunk .* not valid JSON",
        ),
        (
            _columns(inputs='[{"q":1}]', source_type=[SOURCE.TRACE], source_id=[""]),
            r"a TRACE record needs the trace id",
        ),
        (
            _columns(inputs='[{"q":1}]', source_type=[SOURCE.TRACE], source_id=["nope"]),
            r"is not a trace id",
        ),
        (
            _columns(inputs='[{"q":1}]', source_type=[SOURCE.DOCUMENT], source_id=[""]),
            r"a DOCUMENT record needs the document's id",
        ),
        (
            _columns(inputs='[{"q":1}]', source_type=[9], source_id=[""]),
            r"source_type 9 is not known",
        ),
        (_columns(inputs='[{"q":1}, {"q":2}]', tags="[{}]"), r"has 2 inputs but 1 tags"),
        (_columns(inputs='[{"q":1}, {"q":2}]', source_id=["a"]), r"has 2 inputs but 1 source_id"),
        (_columns(inputs='[{"q":1}]', dataset_record_id=["dr-1"]), r"output only"),
    ],
)
def test_collector_refuses_bad_records(columns: pb.DatasetRecordColumns, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        read_records([columns])


def test_record_numbers_count_across_chunks() -> None:
    good = _columns(inputs='[{"q":1}, {"q":2}]')
    bad = _columns(inputs='[{"q":3}, []]')
    with pytest.raises(InvalidArgumentError, match=r"^record 4:"):
        read_records([good, bad])
    records = read_records([good, _columns(inputs='[{"q": 12345678901234567890123}]')])
    assert records[2].inputs == '{"q":12345678901234567890123}'  # exact, not a float


# -- the digest ----------------------------------------------------------------------------


def test_running_sum_is_order_free_and_matches_a_recomputation() -> None:
    hashes = [canonical_json.sha256_hex(str(i)) for i in range(300)]
    forward = dataset_digest.updated_sum(dataset_digest.EMPTY_SUM, hashes, [])
    shuffled = hashes[:]
    random.Random(3).shuffle(shuffled)
    stepwise = dataset_digest.EMPTY_SUM
    for i in range(0, 300, 37):
        stepwise = dataset_digest.updated_sum(stepwise, shuffled[i : i + 37], [])
    assert stepwise == forward
    after_removal = dataset_digest.updated_sum(forward, [], hashes[:100])
    assert after_removal == dataset_digest.updated_sum(dataset_digest.EMPTY_SUM, hashes[100:], [])
    assert dataset_digest.digest(after_removal) != dataset_digest.digest(forward)
    assert (
        dataset_digest.digest(dataset_digest.updated_sum(forward, [], hashes))
        == dataset_digest.EMPTY_DIGEST
    )
    assert len(dataset_digest.EMPTY_DIGEST) == 16
