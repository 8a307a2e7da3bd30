"""Resolving the experiment a span asks for (an id, a name, or a header's either) to an id.

Runs inside the writer's transaction. Names seen for the first time create the experiment;
ids that do not exist fall back to the default experiment with one warning per id. Lookups
are cached; entries made in a transaction join the cache only once it commits.
"""

from __future__ import annotations

import logging
from typing import Any

from spyglass import semconv
from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.rows import ExperimentRef
from spyglass.collector.store.traces.statements import Statements

log = logging.getLogger(__name__)
DEFAULT_ID = int(semconv.DEFAULT_EXPERIMENT_ID)


class ExperimentResolver:
    """Maps :class:`ExperimentRef` to experiment ids, creating experiments by name."""

    def __init__(self, statements: Statements) -> None:
        self._st = statements
        self._by_name: dict[str, int] = {}
        self._ids: set[int] = {DEFAULT_ID}
        self._pending_names: dict[str, int] = {}
        self._pending_ids: set[int] = set()
        self._warned: set[str] = set()

    def resolve(self, cursor: Any, ref: ExperimentRef) -> int:
        if ref.kind == "name":
            return self._by_name_or_create(cursor, ref.value)
        if ref.value.isdigit() and self._exists(cursor, int(ref.value)):
            return int(ref.value)
        if ref.kind == "id_or_name":
            return self._by_name_or_create(cursor, ref.value)
        if ref.value not in self._warned:
            self._warned.add(ref.value)
            log.warning(
                "spans name experiment id %r, which does not exist; their traces go to "
                "the default experiment. Create the experiment first "
                "(spyglass.set_experiment) or fix the %s attribute",
                ref.value,
                semconv.EXPERIMENT_ID,
            )
        return DEFAULT_ID

    def commit(self) -> None:
        self._by_name.update(self._pending_names)
        self._ids.update(self._pending_ids)
        self.rollback()

    def rollback(self) -> None:
        self._pending_names.clear()
        self._pending_ids.clear()

    def _exists(self, cursor: Any, experiment_id: int) -> bool:
        if experiment_id in self._ids or experiment_id in self._pending_ids:
            return True
        cursor.execute(self._st.experiment_by_id, (experiment_id,))
        if cursor.fetchone() is None:
            return False
        self._pending_ids.add(experiment_id)
        return True

    def _by_name_or_create(self, cursor: Any, name: str) -> int:
        known = self._by_name.get(name, self._pending_names.get(name))
        if known is not None:
            return known
        now = now_ms()
        cursor.execute(self._st.create_experiment, (name, now, now))
        cursor.execute(self._st.experiment_by_name, (name,))
        experiment_id = int(cursor.fetchone()[0])
        self._pending_names[name] = experiment_id
        self._pending_ids.add(experiment_id)
        return experiment_id
