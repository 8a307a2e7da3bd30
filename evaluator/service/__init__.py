"""The evaluator service: evaluation jobs and monitors, run by ``spyglass evaluator serve``.

- :mod:`.refs` turns scorer references (``{"type": "Guidelines", ...}``,
  ``"mypkg.scorers:my_scorer"``, registered names) into scorers, for submitters and workers;
- :mod:`.jobs` and :mod:`.monitors` are the client API (submit, follow, cancel; create,
  pause, delete), also exported by :mod:`spyglass.evaluator`;
- the worker modules take chunks of work from the collector by lease and score them.

Nothing is imported here: each module loads only what it needs.
"""
