"""Sending a merge: one MergeRecords client stream, fed while its chunks are made.

gRPC reads the request stream in a thread of its own; this thread makes the chunks (the
JSON encoding and checks of ``normalize.py``) and hands them over through a small queue,
so encoding the next chunk overlaps with sending and checking the previous one in the
collector. The collector merges only a stream that ends normally: when a record turns out
to be bad half way, the call is cancelled and nothing is stored, and the error raised is
the record's own (not the cancellation).
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

from spyglass.evaluator.datasets import remote as service
from spyglass.v1 import datasets_pb2 as pb

QUEUE_CHUNKS = 4  # chunks made ahead of what gRPC has taken
_END = None


def send_merge(
    dataset_id: str, chunks: Iterator[pb.DatasetRecordColumns], first: pb.DatasetRecordColumns
) -> pb.MergeRecordsResponse:
    """Merge ``first`` and then every chunk of ``chunks`` into the dataset, as one stream."""
    handover: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_CHUNKS)
    user = service.current_user()
    handover.put(pb.MergeRecordsRequest(dataset_id=dataset_id, user=user, records=first))
    call = service.start("MergeRecords", _drain(handover), timeout=service.MERGE_TIMEOUT_S)
    try:
        for chunk in chunks:
            if not _hand_over(handover, call, pb.MergeRecordsRequest(records=chunk)):
                break  # the collector answered already (an error): stop making chunks
    except BaseException:
        call.cancel()  # before the end marker: the collector must see a cancelled stream
        raise
    finally:
        _hand_over(handover, call, _END)
    response: pb.MergeRecordsResponse = service.result(call)
    return response


def _drain(handover: queue.Queue[Any]) -> Iterator[pb.MergeRecordsRequest]:
    while (item := handover.get()) is not _END:
        yield item


def _hand_over(handover: queue.Queue[Any], call: Any, item: Any) -> bool:
    """Put ``item`` in the queue, unless the call ends first; whether it was put."""
    while True:
        try:
            handover.put(item, timeout=0.1)
            return True
        except queue.Full:
            if call.done():
                return False
