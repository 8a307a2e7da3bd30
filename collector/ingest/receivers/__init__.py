"""OTLP receivers: gRPC (TraceService, LogsService) and HTTP (``/v1/traces``, ``/v1/logs``), both
feeding one ingest pipeline."""
