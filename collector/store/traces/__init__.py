"""Traces in the store: the group-commit span writer and everything it writes (statements,
per-trace aggregates, log events, experiment resolution), the trace filter language, the
query API's reads, experiments, retention and SQLite's background checkpoints."""
