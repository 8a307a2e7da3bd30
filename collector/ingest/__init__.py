"""Ingest: OTLP in, rows to the store's writer, acknowledged only after COMMIT.

The data flow, top-down:

- :mod:`.receivers` take OTLP over gRPC (``otlp_grpc``) and HTTP (``otlp_http``, with the
  connection limits of ``http_connections``) and hand the body to the pipeline; over HTTP,
  :mod:`.bodies` first undoes the ``Content-Encoding`` within the request size limit, and
  :mod:`.answers` encodes the answer like the request (protobuf or OTLP/JSON);
- :mod:`.pipeline` bounds the bytes in flight, has the body decoded, queues the rows for the
  store's writer and answers once they are committed;
- :mod:`.decode_pool` runs decoding inline or in worker processes (``--decode-workers``);
- :mod:`.parse` turns a body into an export request, item by item, rejecting only what is bad;
- :mod:`.spans` and :mod:`.logs` convert decoded spans and log records into the store's rows
  (:mod:`spyglass.collector.store.rows`), with :mod:`.redaction` of secrets,
  :mod:`.value_limits` (what the columns can hold), and the GenAI conventions and prices of
  :mod:`spyglass.collector.genai`.

Ingest imports the store; the store never imports ingest.
"""
