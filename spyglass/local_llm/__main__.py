"""``python -m spyglass.local_llm``: serve the local OpenAI-compatible model in the foreground."""

from __future__ import annotations

import argparse
import sys

from spyglass.local_llm.server import LocalLLM


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spyglass.local_llm",
        description="A local OpenAI-compatible server (chat completions, responses, "
        "embeddings) with deterministic answers; point OPENAI_BASE_URL at it.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8099, help="port (0: any free port)")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay before every answer, in milliseconds"
    )
    args = parser.parse_args(argv)
    if args.latency_ms < 0:
        parser.error(f"--latency-ms must be 0 or more, got {args.latency_ms}")
    try:
        LocalLLM(latency_s=args.latency_ms / 1000, host=args.host, port=args.port).serve_forever()
    except OSError as exc:
        print(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
            "choose another --port",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
