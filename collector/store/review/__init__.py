"""Human-review queues in the store: the queues with their fields and progress
(``queues``), the fields' definitions and the checks of submitted values (``fields``), and
the claims by which reviewers share a queue: next, submit, skip (``claims``)."""
