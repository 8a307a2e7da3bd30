"""The web UI, served by the collector on its HTTP port at ``/``: experiments, traces, the
trace view and "Add to evaluation dataset", as server-rendered pages (Jinja2, autoescaped)
with htmx for partial updates and a few small JavaScript modules.

Every page has a plain URL. Pages read and write only through the spyglass.v1 services,
called in-process (:mod:`spyglass.collector.api.local_calls`), the same handlers the gRPC
port and the JSON API serve; nothing here touches the store. The UI sits above ``api`` in
the collector's layers and below ``server`` (the wiring).

* ``app.py``: the Starlette app (routes, middleware, static files, error pages);
* ``security.py``: sessions, sign-in with an API key, CSRF, Content-Security-Policy;
* ``templating.py``: the Jinja2 environment and its filters (times, durations, tokens);
* ``pages/``: one module per page or dialog;
* ``templates/``, ``static/``: the HTML and the browser assets; third-party ones in
  ``static/vendor/`` at pinned versions, recorded with their checksums in ``vendor.json``.
"""
