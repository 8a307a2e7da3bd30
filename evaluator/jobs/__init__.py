"""Evaluation jobs and monitors through the collector API: the client side of the evaluator
service.

- :mod:`.submit` submits, follows, lists and cancels jobs; :mod:`.monitors` creates, pauses,
  resumes and deletes monitors (both also exported by :mod:`spyglass.evaluator`);
- :mod:`.refs` turns scorer references into scorers, for submitters and workers;
- :mod:`.specs` reads job and monitor spec files; :mod:`.arguments` checks arguments before
  anything is sent.

Nothing is imported here: each module loads only what it needs.
"""
