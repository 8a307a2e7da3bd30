"""``spans`` rows read straight from a store, with the columns the API returns rebuilt:
attributes in full (values shared with ``inputs``/``outputs`` put back) and the resource and
scope a row names by key. For tests that check what was stored without going through the
query API.

Typical use::

    row = stored_spans(engine, "SELECT * FROM spans WHERE name = :n", n="chat")[0]
    assert json.loads(row["attributes"]) == sent
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from spyglass.collector.store.attribute_refs import resolve
from spyglass.collector.store.traces import resources


def stored_spans(engine: Engine, query: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of ``query`` (over ``spans``) as dicts; ``attributes`` (when selected with
    ``inputs`` and ``outputs``), ``resource`` and ``scope`` as the span sent them."""
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(text(query), params)]
        pairs = resources.lookup(connection, (row.get("resource") for row in rows))
    for row in rows:
        if "attributes" in row and "inputs" in row and "outputs" in row:
            row["attributes"] = resolve(row["attributes"], row["inputs"], row["outputs"])
        if "resource" in row:
            row["resource"], scope = resources.expand(row["resource"], row.get("scope"), pairs)
            if "scope" in row:
                row["scope"] = scope
    return rows
