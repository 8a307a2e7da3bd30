"""The SQL store (SQLite or PostgreSQL): the schema (:mod:`.models`), its migrations
(:mod:`.migrate`), engine setup (:mod:`.engine`) and per-call query time limits
(:mod:`.query_budget`); the rows the span writer takes from ingest (:mod:`.rows`); pieces
every search and write shares: keyset paging and page tokens (:mod:`.paging`), id parsing
(:mod:`.ids`), checks of request text (:mod:`.text`) and the clock rows record
(:mod:`.clock`); and one subpackage per thing it holds: :mod:`.traces` (the span writer,
the filter language, trace queries, experiments, retention), :mod:`.datasets`, :mod:`.jobs`
(jobs, monitors, workers) and :mod:`.evaluation` (runs and assessments)."""
