"""Importable scorer modules for tests (tests/ is on sys.path under pytest; give worker
subprocesses PYTHONPATH=tests). This package itself defines no scorer."""
