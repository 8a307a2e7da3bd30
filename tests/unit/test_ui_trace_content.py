"""The trace view's shaping of span content and of the span tree: chat messages in the shapes
the collector stores become a conversation, retriever outputs a document list, anything else
stays JSON; the waterfall rows are relative, sorted and never point at a missing parent."""

from __future__ import annotations

import json

from spyglass.collector.ui.pages.span_content import shape
from spyglass.collector.ui.pages.trace import root_span, span_context, waterfall_rows
from spyglass.v1 import traces_pb2


def test_openai_request_and_completion_are_conversations() -> None:
    request = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        ],
    }
    shaped = shape(json.dumps(request), "CHAT_MODEL")
    assert shaped.kind == "chat"
    assert [(m.role, m.text) for m in shaped.messages] == [
        ("system", "Be brief."),
        ("user", "Weather?"),
    ]
    assert shaped.extra == {"model": "gpt-4o-mini"}
    completion = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                        }
                    ],
                }
            }
        ]
    }
    answer = shape(json.dumps(completion), "CHAT_MODEL")
    assert answer.kind == "chat"
    (message,) = answer.messages
    assert message.role == "assistant" and message.text == ""
    (call,) = message.tool_calls
    assert (call.name, call.call_id) == ("get_weather", "call_1")
    assert json.loads(call.arguments) == {"city": "Oslo"}


def test_genai_convention_messages_with_parts() -> None:
    value = {
        "messages": [
            {"role": "user", "parts": [{"type": "text", "content": "Add 2 and 3"}]},
            {
                "role": "assistant",
                "parts": [{"type": "tool_call", "name": "add", "arguments": {"a": 2, "b": 3}}],
            },
        ],
        "system_instructions": [{"type": "text", "content": "Use tools."}],
    }
    shaped = shape(json.dumps(value), "")
    assert [(m.role, m.text) for m in shaped.messages] == [
        ("system", "Use tools."),
        ("user", "Add 2 and 3"),
        ("assistant", ""),
    ]
    assert shaped.messages[2].tool_calls[0].name == "add"


def test_retriever_documents_and_plain_json() -> None:
    docs = [
        {"page_content": "Refunds within 30 days.", "metadata": {"source": "faq.md"}, "score": 0.9},
        {"content": "Receipts are required.", "id": "d2"},
    ]
    shaped = shape(json.dumps(docs), "RETRIEVER")
    assert shaped.kind == "documents"
    assert [d.text for d in shaped.documents] == [
        "Refunds within 30 days.",
        "Receipts are required.",
    ]
    assert shaped.documents[0].metadata == {"source": "faq.md"}
    assert shaped.documents[0].score == "0.9" and shaped.documents[1].doc_id == "d2"
    assert shape(json.dumps(docs), "TOOL").kind == "json"  # only a retriever's list is documents
    assert shape('{"q": 1}').kind == "json"
    assert shape('[{"role": "user", "content": "hi"}, 3]').kind == "json"  # not all messages
    assert shape("not json at all").value == "not json at all"
    assert shape(None).kind == "none"


def _span(
    span_id: str, parent: str | None, start: int, end: int, error: bool = False
) -> traces_pb2.Span:
    span = traces_pb2.Span(
        span_id=span_id, name=f"s{span_id}", start_time_ns=start, end_time_ns=end, span_type=""
    )
    if parent is not None:
        span.parent_span_id = parent
    if error:
        span.status_code = traces_pb2.Span.STATUS_CODE_ERROR
    return span


def test_waterfall_rows_are_relative_sorted_and_orphans_are_roots() -> None:
    spans = [
        _span("b", "a", 3_000_000, 5_000_000, error=True),
        _span("a", None, 1_000_000, 11_000_000),
        _span("c", "gone", 2_000_000, 2_500_000),
    ]
    rows, total = waterfall_rows(spans)
    assert total == 10.0
    assert rows == [
        ["a", "", "sa", "UNKNOWN", 0.0, 10.0, 0],
        ["c", "", "sc", "UNKNOWN", 1.0, 0.5, 0],
        ["b", "a", "sb", "UNKNOWN", 2.0, 2.0, 1],
    ]
    root = root_span(spans)
    assert root is not None and root.span_id == "a"


def test_span_context_separates_exceptions_from_events() -> None:
    span = _span("a", None, 0, 1_000_000, error=True)
    span.events = json.dumps(
        [
            {"name": "retry", "time_unix_nano": 5_000_000, "attributes": {"n": 1}},
            {
                "name": "exception",
                "time_unix_nano": 6_000_000,
                "attributes": {
                    "exception.type": "ValueError",
                    "exception.message": "bad <input>",
                    "exception.stacktrace": "Traceback ...",
                },
            },
        ]
    )
    context = span_context(span)
    assert context["is_error"] and context["status"] == "ERROR"
    assert context["exceptions"] == [
        {"type": "ValueError", "message": "bad <input>", "stacktrace": "Traceback ..."}
    ]
    assert [e["name"] for e in context["events"]] == ["retry"]
    assert context["tokens"] == {"input": None, "output": None, "total": None}
