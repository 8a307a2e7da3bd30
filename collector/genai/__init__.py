"""What GenAI telemetry means, whichever convention wrote it: pure functions with no I/O.

- :mod:`.normalize` maps a span's attributes (Spyglass/MLflow, OpenInference, OTel GenAI,
  OpenLLMetry) to the canonical fields (inputs, outputs, span type, model, tokens, ...);
- :mod:`.events` turns GenAI events carried by log records into their span's inputs and
  outputs;
- :mod:`.cost` prices an LLM call from its token counts (genai-prices, `--price-file` over it).

Both ingest and the store use them (the store when a span's log records arrive after it),
so they sit below both.
"""
