"""Evaluation jobs and monitors in the store: submission checks, snapshotted rows split into
chunks, leases to workers, completion, progress messages, monitors and their checks for new
traces, and the live workers' heartbeats."""
