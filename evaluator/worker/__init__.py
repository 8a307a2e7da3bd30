"""The evaluator worker process (``spyglass evaluator serve``): it leases chunks of jobs from
the collector, scores them and writes the results back.

:mod:`.serve` wires one worker; :mod:`.loop` claims, scores and releases chunks; :mod:`.lease`
keeps a chunk's lease alive; :mod:`.chunk` and :mod:`.job_datasets` turn leased rows into
records; :mod:`.scoring` runs a job's scorers; :mod:`.heartbeat`, :mod:`.connection`,
:mod:`.http` and :mod:`.metrics` report the worker's state. The client side (submitting jobs
and monitors) is :mod:`spyglass.evaluator.jobs`.
"""
