"""Traces in the store: the group-commit span writer and everything it writes (statements,
per-trace aggregates, log events, experiment resolution), the filter language (compiled
with probes; trace search's fields here, datasets and experiments bring their own), the
query API's trace reads, tags, metadata and deletes, experiments (create, find, search,
retention settings), an experiment's usage per hour or day and per model, retention
passes and SQLite's background checkpoints."""
