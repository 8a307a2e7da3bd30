"""Evaluation results in the store: evaluation runs with their per-record results and
metrics, and assessments (expectations and feedback) on traces."""
