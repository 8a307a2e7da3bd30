"""OTLP receivers: gRPC (TraceService) and HTTP (/v1/traces), both feeding one ingest pipeline."""
