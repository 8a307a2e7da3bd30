"""In-app tracing SDK (built by the instrumentation issue)."""
