"""ExperimentService and trace retention on real collectors, SQLite and PostgreSQL.

What it proves:

* experiments are created (unique names of 1–256 characters, tags), found by id and by exact
  name, and the default experiment "0" ("Default") always exists; a duplicate name is
  ALREADY_EXISTS, unknown ids and names NOT_FOUND, malformed arguments INVALID_ARGUMENT, each
  with a message saying what to do;
* SearchExperiments filters on ``name`` (=, !=, case-sensitive LIKE, ILIKE) and
  ``tags.<key>``, orders by name or creation time, and pages with tokens (each experiment
  exactly once);
* SetExperimentRetention sets and clears a retention; a retention pass deletes, in batches,
  exactly the traces older than their experiment's retention (or the global setting when
  the experiment has none: per-experiment settings win); the collector runs those passes in
  the background, and a pass that fails is logged and retried instead of stopping anything;
* every method needs the API key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from processes import trace_rows, wait_until
from sqlalchemy import create_engine, event
from test_api_traces import (
    Api,
    assert_every_method_needs_a_key,
    rpc_error,
    send_traces,
    simple_trace,
)

from spyglass.collector.server import Collector
from spyglass.collector.store.traces import retention
from spyglass.errors import ConfigurationError
from spyglass.v1 import experiments_pb2 as pb
from spyglass.v1 import experiments_pb2_grpc

DAY_MS = 86_400_000


@pytest.fixture
def api(collector: Collector) -> Iterator[Api]:
    with Api(collector) as client:
        yield client


def now_ms() -> int:
    return int(time.time() * 1000)


# -- create, get, errors ----------------------------------------------------------------------


def test_create_and_get_experiments(collector: Collector, api: Api) -> None:
    e = api.experiments
    default = e.GetExperiment(pb.GetExperimentRequest(experiment_id="0"))
    assert (default.name, default.lifecycle_stage) == ("Default", "active")

    started = now_ms()
    created = e.CreateExperiment(
        pb.CreateExperimentRequest(name="Customer Support Bot", tags={"team": "support"})
    )
    assert created.experiment_id not in ("", "0") and dict(created.tags) == {"team": "support"}
    assert created.creation_time_ms >= started and not created.HasField("retention_days")
    assert e.GetExperiment(pb.GetExperimentRequest(experiment_id=created.experiment_id)) == created
    assert e.GetExperimentByName(pb.GetExperimentByNameRequest(name=created.name)) == created
    assert e.CreateExperiment(pb.CreateExperimentRequest(name="x" * 256)).name == "x" * 256

    _, spans = simple_trace("t", now_ms())
    send_traces(collector, [spans], experiment="from spans")  # the writer creates this one
    assert e.GetExperimentByName(pb.GetExperimentByNameRequest(name="from spans")).experiment_id

    failures = [  # (method, request, status, fragment of the message)
        (
            e.CreateExperiment,
            pb.CreateExperimentRequest(name="Customer Support Bot"),
            grpc.StatusCode.ALREADY_EXISTS,
            "'Customer Support Bot' already exists",
        ),
        (
            e.CreateExperiment,
            pb.CreateExperimentRequest(name="from spans"),
            grpc.StatusCode.ALREADY_EXISTS,
            "already exists",
        ),
        (
            e.CreateExperiment,
            pb.CreateExperimentRequest(name=""),
            grpc.StatusCode.INVALID_ARGUMENT,
            "must not be empty",
        ),
        (
            e.CreateExperiment,
            pb.CreateExperimentRequest(name="x" * 257),
            grpc.StatusCode.INVALID_ARGUMENT,
            "the limit is 256",
        ),
        (
            e.CreateExperiment,
            pb.CreateExperimentRequest(name="y", tags={"": "v"}),
            grpc.StatusCode.INVALID_ARGUMENT,
            "tag key must not be empty",
        ),
        (
            e.GetExperiment,
            pb.GetExperimentRequest(experiment_id="12345"),
            grpc.StatusCode.NOT_FOUND,
            "experiment 12345 not found",
        ),
        (
            e.GetExperiment,
            pb.GetExperimentRequest(experiment_id="abc"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "decimal",
        ),
        (
            e.GetExperimentByName,
            pb.GetExperimentByNameRequest(name="customer support bot"),
            grpc.StatusCode.NOT_FOUND,
            "case-sensitive",
        ),
    ]
    for method, request, code, fragment in failures:
        error = rpc_error(method, request)
        assert (error.code(), fragment in error.details()) == (code, True), (request, error)
    # the failed create of "y" left nothing behind
    error = rpc_error(e.GetExperimentByName, pb.GetExperimentByNameRequest(name="y"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


# -- search -----------------------------------------------------------------------------------

NAMES = {
    "Bot A": "support",
    "Bot B": "sales",
    "bot c": "support",
    "Other": "support",
    "Bot 100%": "sales",
}
EXPERIMENT_SEARCHES = [  # (filter, order_by, expected names in order)
    ("", [], "Default|Bot A|Bot B|bot c|Other|Bot 100%"),  # by id
    ("name LIKE 'Bot%'", ["name"], "Bot 100%|Bot A|Bot B"),  # LIKE is case-sensitive
    ("name ILIKE 'bot%'", ["name"], "Bot 100%|Bot A|Bot B|bot c"),
    ("name = 'Other'", [], "Other"),
    ("name LIKE 'Bot 100\\%'", [], "Bot 100%"),
    ("tags.team = 'support' and name != 'Other'", ["name DESC"], "bot c|Bot A"),
    ("tags.`team` LIKE 's%'", ["creation_time_ms DESC", "name"], None),  # checked below
    ("name = 'nothing'", [], ""),
]


def test_search_experiments_filters_orders_and_pages(api: Api) -> None:
    for name, team in NAMES.items():
        api.experiments.CreateExperiment(pb.CreateExperimentRequest(name=name, tags={"team": team}))

    def search(filter_text: str, order_by: list[str], page_size: int) -> list[str]:
        names, token = [], ""
        while True:
            reply = api.experiments.SearchExperiments(
                pb.SearchExperimentsRequest(
                    filter=filter_text, order_by=order_by, max_results=page_size, page_token=token
                )
            )
            assert len(reply.experiments) <= (page_size or 1000)
            names += [experiment.name for experiment in reply.experiments]
            token = reply.next_page_token
            if not token:
                return names

    for filter_text, order_by, expected in EXPERIMENT_SEARCHES:
        if expected is None:  # creation times may tie: then by name
            expected = "|".join(sorted(NAMES, key=lambda n: (-_created(api, n), n)))
        for page_size in (2, 0):
            assert "|".join(search(filter_text, order_by, page_size)) == expected, filter_text

    failures = [
        pb.SearchExperimentsRequest(filter="name > 'a'"),
        pb.SearchExperimentsRequest(filter="owner = 'me'"),
        pb.SearchExperimentsRequest(filter="name = 'a' OR name = 'b'"),
        pb.SearchExperimentsRequest(order_by=["size"]),
        pb.SearchExperimentsRequest(max_results=-1),
        pb.SearchExperimentsRequest(page_token="garbage"),
    ]
    for request in failures:
        error = rpc_error(api.experiments.SearchExperiments, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, request
    error = rpc_error(
        api.experiments.SearchExperiments, pb.SearchExperimentsRequest(filter="name LIKE 'a' AND")
    )
    assert error.details().endswith(
        "the end of the filter\n  name LIKE 'a' AND\n" + " " * (2 + len("name LIKE 'a' AND")) + "^"
    )


def _created(api: Api, name: str) -> int:
    return api.experiments.GetExperimentByName(
        pb.GetExperimentByNameRequest(name=name)
    ).creation_time_ms


# -- retention --------------------------------------------------------------------------------


def test_set_experiment_retention(api: Api) -> None:
    e = api.experiments
    created = e.CreateExperiment(pb.CreateExperimentRequest(name="kept a week"))
    changed = e.SetExperimentRetention(
        pb.SetExperimentRetentionRequest(experiment_id=created.experiment_id, retention_days=7)
    )
    assert changed.retention_days == 7
    assert changed.last_update_time_ms >= created.last_update_time_ms
    fetched = e.GetExperiment(pb.GetExperimentRequest(experiment_id=created.experiment_id))
    assert fetched.retention_days == 7
    cleared = e.SetExperimentRetention(
        pb.SetExperimentRetentionRequest(experiment_id=created.experiment_id)
    )
    assert not cleared.HasField("retention_days")

    for request, code in [
        (
            pb.SetExperimentRetentionRequest(experiment_id=created.experiment_id, retention_days=0),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            pb.SetExperimentRetentionRequest(
                experiment_id=created.experiment_id, retention_days=40_000
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            pb.SetExperimentRetentionRequest(experiment_id="777", retention_days=1),
            grpc.StatusCode.NOT_FOUND,
        ),
    ]:
        error = rpc_error(e.SetExperimentRetention, request)
        assert error.code() == code, request


def test_experiment_stats_count_traces_and_give_the_newest(collector: Collector, api: Api) -> None:
    old, new = old_and_new(collector, "counted", count=3)
    assert len(old) == 3 and len(new) == 1
    counted = api.experiment_id("counted")
    empty = api.experiments.CreateExperiment(pb.CreateExperimentRequest(name="empty")).experiment_id
    stats = api.experiments.GetExperimentStats(
        pb.GetExperimentStatsRequest(experiment_ids=[counted, empty, "777"])
    ).stats
    assert stats[counted].trace_count == 4
    pages = api.search(experiment_ids=[counted])
    newest = max(t.info.request_time for page in pages for t in page.traces)
    assert stats[counted].last_trace_time_ms == newest
    assert stats[empty].trace_count == 0 and not stats[empty].HasField("last_trace_time_ms")
    assert stats["777"].trace_count == 0
    error = rpc_error(
        api.experiments.GetExperimentStats,
        pb.GetExperimentStatsRequest(experiment_ids=["not a number"]),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def old_and_new(
    collector: Collector,
    experiment: str | None,
    count: int = 1,
) -> tuple[list[str], list[str]]:
    """``count`` traces started 3 days ago and one started an hour ago, in ``experiment``
    (None: the default); their ids (old, new)."""
    now = now_ms()
    old = [simple_trace("old", now - 3 * DAY_MS + i) for i in range(count)]
    new = [simple_trace("new", now - DAY_MS // 24)]
    send_traces(collector, [spans for _, spans in old + new], experiment=experiment)
    return [trace_id for trace_id, _ in old], [trace_id for trace_id, _ in new]


def set_retention(api: Api, experiment: str, days: int) -> None:
    api.experiments.SetExperimentRetention(
        pb.SetExperimentRetentionRequest(
            experiment_id=api.experiment_id(experiment), retention_days=days
        )
    )


def test_a_retention_pass_deletes_traces_past_their_retention(
    collector: Collector, api: Api
) -> None:
    _, short_new = old_and_new(collector, "one day", count=5)
    long_old, long_new = old_and_new(collector, "thirty days")
    default_old, default_new = old_and_new(collector, None)
    set_retention(api, "one day", 1)
    set_retention(api, "thirty days", 30)

    transactions = []

    def count_deletes(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("DELETE FROM traces"):
            transactions.append(statement)

    event.listen(collector.engine, "before_cursor_execute", count_deletes)
    try:  # no global setting: only "one day" has a retention that has passed
        assert retention.run_pass(collector.engine, None, batch=2) == 5
    finally:
        event.remove(collector.engine, "before_cursor_execute", count_deletes)
    assert len(transactions) == 3  # 5 traces in batches of 2
    assert set(trace_rows(collector.engine)) == set(
        short_new + long_old + long_new + default_old + default_new
    )

    # a global 2 days: the default experiment's old trace goes, "thirty days" keeps its own
    assert retention.run_pass(collector.engine, 2) == 1
    assert set(trace_rows(collector.engine)) == set(short_new + long_old + long_new + default_new)


def test_the_collector_applies_retention_in_the_background(
    start_collector: Callable[..., Collector], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "DEFAULT_INTERVAL_S", 0.1)
    collector = start_collector(store_url, retention_days=2)
    old, new = old_and_new(collector, None, count=2)
    wait_until(
        lambda: not set(old) & set(trace_rows(collector.engine)),
        20,
        "the background retention pass to delete the old traces",
    )
    assert set(trace_rows(collector.engine)) == set(new)


def test_a_failing_retention_pass_is_logged_and_retried(
    tmp_path: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = create_engine(f"sqlite:///{tmp_path}/missing-dir/spyglass.db")
    task = retention.RetentionTask(unreachable, 1, interval=0.05)
    with caplog.at_level(logging.WARNING, logger=retention.__name__):
        task.start()
        try:
            wait_until(lambda: task.passes >= 2, 10, "two failed retention passes")
        finally:
            task.stop()
    assert "trace retention pass failed, retrying" in caplog.text
    with pytest.raises(ConfigurationError, match="between 1 and"):
        retention.RetentionTask(unreachable, 0)


# -- auth -------------------------------------------------------------------------------------


def test_every_experiment_method_needs_the_api_key(
    start_collector: Callable[..., Collector], store_url: str
) -> None:
    assert_every_method_needs_a_key(
        start_collector,
        store_url,
        experiments_pb2_grpc.ExperimentServiceStub,
        pb,
        "ExperimentService",
    )
