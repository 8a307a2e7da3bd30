"""The session view's turns (collector/ui/pages/sessions.py): a traced request as chat
messages, only the turn's new messages when the app resends the history, plain inputs and
outputs as one user and one assistant message, the list's first input, and URLs for ids
with any character."""

from __future__ import annotations

import json

from spyglass.collector.ui.pages.sessions import input_text, session_href, to_turn
from spyglass.v1 import traces_pb2


def trace(inputs: object, outputs: object, **info: object) -> traces_pb2.Trace:
    root = traces_pb2.Span(trace_id="a" * 32, span_id="b" * 16, name="chat", attributes="{}")
    if inputs is not None:
        root.inputs = json.dumps(inputs)
    if outputs is not None:
        root.outputs = json.dumps(outputs)
    child = traces_pb2.Span(
        trace_id="a" * 32, span_id="c" * 16, parent_span_id="b" * 16, name="llm", attributes="{}"
    )
    child.inputs = json.dumps({"messages": [{"role": "user", "content": "not the root"}]})
    return traces_pb2.Trace(
        info=traces_pb2.TraceInfo(trace_id="a" * 32, **info), spans=[child, root]
    )


def said(turn_trace: traces_pb2.Trace) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in to_turn(1, turn_trace).chat.messages]


def test_a_resent_history_shows_only_the_new_messages() -> None:
    history = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Where is my order?"},
        ]
    }
    reply = {"choices": [{"message": {"role": "assistant", "content": "On its way."}}]}
    assert said(trace(history, reply)) == [
        ("user", "Where is my order?"),
        ("assistant", "On its way."),
    ]


def test_plain_inputs_and_outputs_become_one_user_and_one_assistant_message() -> None:
    assert said(trace({"question": "Why?"}, "Because.")) == [
        ("user", "Why?"),
        ("assistant", "Because."),
    ]
    assert said(trace({"question": "Why?", "n": 2}, None))[0][1] == '{"question": "Why?", "n": 2}'


def test_without_a_root_span_the_previews_are_used() -> None:
    bare = traces_pb2.Trace(
        info=traces_pb2.TraceInfo(
            trace_id="a" * 32, request_preview='{"q": "hello"}', response_preview='"hi"'
        )
    )
    assert said(bare) == [("user", "hello"), ("assistant", "hi")]
    assert said(traces_pb2.Trace(info=traces_pb2.TraceInfo(trace_id="a" * 32))) == []


def test_first_input_is_what_the_user_said() -> None:
    chat = {"messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "Hi"}]}
    assert input_text(json.dumps(chat)) == "Hi"
    assert input_text('{"question": "Why?"}') == "Why?"
    assert input_text('{"messages": [{"role": "us') == '{"messages": [{"role": "us'  # truncated


def test_session_urls_quote_the_id() -> None:
    assert session_href("o'hara/7 ?", "3") == "/sessions/o%27hara%2F7%20%3F?experiment=3"
