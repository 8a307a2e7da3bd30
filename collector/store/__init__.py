"""The SQL store (SQLite or PostgreSQL): schema (:mod:`.models`), migrations, engine setup,
per-call query time limits, and one subpackage per thing it holds: :mod:`.traces` (the span
writer, the filter language and trace queries), :mod:`.datasets`, :mod:`.jobs` (jobs,
monitors, workers) and :mod:`.evaluation` (runs and assessments)."""
