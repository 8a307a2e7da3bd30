"""A trace as ``spyglass traces get`` draws it: a header line (name, state, start, duration,
tokens, cost, experiment, tags) and the spans as a tree, each with its type, duration,
status, model and tokens, and its inputs and outputs underneath as one-line previews."""

from __future__ import annotations

from collections import defaultdict

from rich.console import Group
from rich.text import Text
from rich.tree import Tree

from spyglass.cli.output import cell, short, to_text, when
from spyglass.entities import Span, Trace
from spyglass.quantities import cost, duration, tokens

VALUE_CHARS = 100
"""Characters of an input or output preview under a span."""


def draw_trace(trace: Trace, experiment: str | None = None) -> str:
    """The trace as text: its header, then its span tree (a span whose parent is not in the
    trace is drawn at the top level, so a partial trace still shows every span)."""
    info = trace.info
    header = Text.assemble(
        ("trace ", "bold"),
        (info.trace_id, "cyan"),
        "  ",
        (info.name or "-", "bold"),
        "  ",
        cell(info.state, "status"),
    )
    facts = [
        f"started {when(info.request_time)}",
        f"duration {duration(info.execution_duration)}",
        f"{len(trace.data.spans)} span(s)",
        _usage(info.input_tokens, info.output_tokens, info.total_tokens),
        f"cost {cost(info.cost)}",
        f"experiment {experiment or info.experiment_id}",
    ]
    if info.tags:
        facts.append("tags " + ",".join(f"{k}={v}" for k, v in info.tags.items()))
    root = Tree(Group(header, Text("  ".join(facts), style="dim")), guide_style="dim")
    children: dict[str | None, list[Span]] = defaultdict(list)
    known = {s.span_id for s in trace.data.spans}
    for span in sorted(trace.data.spans, key=lambda s: s.start_time_ns):
        children[span.parent_id if span.parent_id in known else None].append(span)

    def add(parent: Tree, span: Span) -> None:
        node = parent.add(_label(span))
        for label, value in (("in ", span.inputs), ("out", span.outputs)):
            if value not in (None, "", {}, []):
                node.add(Text.assemble((f"{label} ", "bold dim"), (short(value, VALUE_CHARS), "")))
        if span.status == "ERROR" and span.status_message:
            node.add(Text(f"error {short(span.status_message, VALUE_CHARS)}", style="red"))
        for child in children.get(span.span_id, []):
            add(node, child)

    for top in children.get(None, []):
        add(root, top)
    return to_text(root)


def _label(span: Span) -> Text:
    """A span's line: name, [type], duration, status, model, tokens, cost."""
    parts: list[str | tuple[str, str] | Text] = [
        (span.name, "bold"),
        "  ",
        (f"[{span.span_type or 'UNKNOWN'}]", "magenta"),
        "  ",
        duration(span.duration_ms),
        "  ",
        cell(span.status, "status"),
    ]
    if span.model:
        parts += ["  ", (span.model, "dim")]
    if span.input_tokens is not None or span.total_tokens is not None:
        parts += ["  ", _usage(span.input_tokens, span.output_tokens, span.total_tokens)]
    if span.cost:
        parts += ["  ", cost(span.cost)]
    return Text.assemble(*parts)


def _usage(input_tokens: int | None, output_tokens: int | None, total: int | None) -> str:
    """``1,234 tokens (1,000 in, 234 out)``, or ``no tokens`` when there are no counts."""
    if total is None and input_tokens is None and output_tokens is None:
        return "no tokens"
    if total is None:
        total = (input_tokens or 0) + (output_tokens or 0)
    return f"{tokens(total)} tokens ({tokens(input_tokens)} in, {tokens(output_tokens)} out)"
