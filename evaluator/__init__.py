"""Evaluation library and service (built by the evaluator issues)."""
