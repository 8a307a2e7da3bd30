"""Judges of retrieval-augmented answers, reading the RETRIEVER spans of the row's trace.

The documents a retriever returned are its span's outputs, in whichever shape the app used:
a list of documents (dicts with ``page_content``/``content``/``text``, or plain strings), an
object holding such a list under ``documents``/``results``, or a single string.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..results import ScoreResult
from . import prompts
from .base import JudgeScorer, expected_answer
from .client import JudgeError

if TYPE_CHECKING:
    from spyglass.entities import Trace

_TEXT_KEYS = ("page_content", "content", "text", "document", "chunk", "snippet")
_LIST_KEYS = ("documents", "results", "chunks", "docs", "context")


def retrieved_documents(trace: Trace) -> list[str]:
    """The texts every RETRIEVER span of ``trace`` returned, in span start order."""
    documents: list[str] = []
    for span in trace.search_spans(span_type="RETRIEVER"):
        documents += _documents(span.outputs)
    return documents


def _documents(outputs: Any) -> list[str]:
    if outputs is None:
        return []
    if isinstance(outputs, dict):
        listed = next((outputs[k] for k in _LIST_KEYS if isinstance(outputs.get(k), list)), None)
        return _documents(listed) if listed is not None else [_document_text(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [text for item in outputs if (text := _document_text(item))]
    return [_document_text(outputs)] if str(outputs).strip() else []


def _document_text(item: Any) -> str:
    if isinstance(item, dict):
        text: str | None = next((item[k] for k in _TEXT_KEYS if isinstance(item.get(k), str)), None)
        if text is not None:
            return text
    return prompts.render(item)


class _RetrievalJudge(JudgeScorer):
    """Shared by the retrieval judges: the row's retrieved documents, or a clear error."""

    def documents(self, trace: Trace | None) -> list[str]:
        if trace is None:
            raise self.missing(
                "the row's trace (with RETRIEVER spans); evaluate() passes it when the row has one"
            )
        if not trace.search_spans(span_type="RETRIEVER"):
            raise self.missing(
                f"a RETRIEVER span in trace {trace.info.trace_id}; mark the "
                "retrieval step with span_type='RETRIEVER'"
            )
        documents = retrieved_documents(trace)
        if not documents:
            raise self.missing(
                f"documents in the outputs of the RETRIEVER spans of trace "
                f"{trace.info.trace_id}, which are empty"
            )
        return documents


def _context(documents: list[str]) -> str:
    return "\n\n".join(f"[{i}] {text}" for i, text in enumerate(documents, 1))


class RetrievalGroundedness(_RetrievalJudge):
    """Is every claim of the output supported by the documents the app retrieved?"""

    def __call__(self, inputs: dict[str, Any], outputs: Any, trace: Trace | None) -> ScoreResult:
        context = _context(self.documents(trace))
        return self.judge(
            prompts.task(
                prompts.RETRIEVAL_GROUNDEDNESS,
                request=inputs,
                response=outputs,
                retrieved_context=context,
            )
        )


class RetrievalSufficiency(_RetrievalJudge):
    """Do the retrieved documents hold everything the expected answer needs?"""

    def __call__(
        self, inputs: dict[str, Any], expectations: dict[str, Any], trace: Trace | None
    ) -> ScoreResult:
        expected = expected_answer(expectations)
        if expected is None:
            raise self.missing("expectations.expected_response or expected_facts")
        kind, value = expected
        material = prompts.bullet_list(value) if kind == "expected_facts" else value
        context = _context(self.documents(trace))
        return self.judge(
            prompts.task(
                prompts.RETRIEVAL_SUFFICIENCY,
                request=inputs,
                retrieved_context=context,
                **{kind: material},
            )
        )


class RetrievalRelevance(_RetrievalJudge):
    """Which share of the retrieved documents is relevant to the request? One verdict per
    document; the value is the relevant fraction, the rationale lists each verdict."""

    def __call__(self, inputs: dict[str, Any], trace: Trace | None) -> ScoreResult:
        documents = self.documents(trace)
        verdicts: list[ScoreResult] = []
        spent: dict[str, Any] = {}
        for text in documents:
            try:
                verdict = self.judge(
                    prompts.task(prompts.RETRIEVAL_RELEVANCE, request=inputs, document=text)
                )
            except JudgeError as exc:  # keep the tokens the earlier documents cost
                raise JudgeError(str(exc), _add_usage(spent, exc.usage)) from exc
            verdicts.append(verdict)
            spent = _add_usage(spent, verdict.usage)
        relevant = int(sum(v.score for v in verdicts))
        lines = [f"[{i}] {v.value}: {v.rationale}" for i, v in enumerate(verdicts, 1)]
        share = relevant / len(verdicts)
        return ScoreResult(
            name=self.name,
            value=share,
            score=share,
            rationale=(
                f"{relevant} of {len(verdicts)} retrieved documents are relevant.\n"
                + "\n".join(lines)
            ),
            metadata={
                "relevant_documents": str(relevant),
                "retrieved_documents": str(len(verdicts)),
            },
            source_type=self.source_type,
            source_id=self.source_id,
            usage=spent,
        )


def _add_usage(total: dict[str, Any], more: dict[str, Any] | None) -> dict[str, Any]:
    if not more:
        return total
    return {
        "input_tokens": total.get("input_tokens", 0) + more.get("input_tokens", 0),
        "output_tokens": total.get("output_tokens", 0) + more.get("output_tokens", 0),
        "model": more.get("model", total.get("model")),
    }
