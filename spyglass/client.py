"""The collector API client (gRPC), used by the facade, the CLI and the evaluator.

One :class:`SpyglassClient` per collector address. Calls that the collector answers with
an error raise the matching :mod:`spyglass.errors` class (the collector names it in the
``spyglass-error`` trailing metadata; else the status code decides, by the table in
:mod:`spyglass.error_codes`), so callers catch ``NotFoundError`` or ``InvalidFilterError``
rather than inspect gRPC codes. Transient unavailability is retried by gRPC itself
(service-config retry policy). Before its first call a client waits at most
``connect_timeout`` (2 s) for the connection, so a collector that is not running is reported
at once, in those words, rather than after a round of retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

import grpc
from google.protobuf import field_mask_pb2

from spyglass import errors
from spyglass.entities import Assessment, AssessmentSource, Experiment, Trace
from spyglass.error_codes import ERROR_CLASS_KEY, error_class_for
from spyglass.v1 import assessments_pb2 as apb
from spyglass.v1 import assessments_pb2_grpc, experiments_pb2_grpc, traces_pb2_grpc
from spyglass.v1 import experiments_pb2 as epb
from spyglass.v1 import traces_pb2 as tpb

T = TypeVar("T")
S = TypeVar("S")

_RETRY_POLICY = json.dumps(
    {
        "methodConfig": [
            {
                "name": [
                    {"service": "spyglass.v1.TraceService"},
                    {"service": "spyglass.v1.ExperimentService"},
                    {"service": "spyglass.v1.AssessmentService"},
                    {"service": "spyglass.v1.DatasetService"},
                    {"service": "spyglass.v1.EvaluationService"},
                    {"service": "spyglass.v1.EvaluationJobService"},
                ],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.2s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def _translate(exc: grpc.RpcError, address: str) -> errors.SpyglassError:
    """The typed error for a failed call."""
    details = exc.details() or exc.code().name
    cls = error_class_for(exc.code(), _named_error(exc))
    if exc.code() == grpc.StatusCode.UNAVAILABLE and cls is errors.CollectorUnavailableError:
        details = (
            f"collector at {address} is unavailable ({details}); check that it runs "
            "and that SPYGLASS_COLLECTOR names its gRPC port"
        )
    return cls(details)


def _named_error(exc: grpc.RpcError) -> str | None:
    """The error class the collector named in the trailing metadata, if it did."""
    # grpc gives metadata as (key, value) pairs; its stubs call them an opaque class
    pairs = cast("Iterable[tuple[str, str | bytes]]", exc.trailing_metadata() or ())
    for key, value in pairs:
        if key == ERROR_CLASS_KEY and isinstance(value, str):
            return value
    return None


def _sendable(text: str, what: str) -> str:
    """``text`` when it can be sent (protobuf strings are UTF-8); else InvalidFilterError
    naming ``what`` and the position, raised before anything is sent."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        reason = errors.not_unicode(text[exc.start])
        raise errors.InvalidFilterError(
            f"invalid {what}: {reason} (character {exc.start + 1})",
            text=text,
            position=exc.start,
            reason=reason,
        ) from None
    return text


class SpyglassClient:
    """Typed calls to one collector's ``spyglass.v1`` services."""

    def __init__(
        self,
        address: str,
        api_key: str | None = None,
        *,
        root_certificates: bytes | None = None,
        tls: bool = False,
        timeout: float = 60.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._tls = bool(tls or root_certificates)
        self._connected = False
        options = [
            ("grpc.service_config", _RETRY_POLICY),
            ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", 256 << 20),
        ]
        if tls or root_certificates:
            creds = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.secure_channel(address, creds, options=options)
        else:
            self._channel = grpc.insecure_channel(address, options=options)
        self._metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._stubs: dict[Any, Any] = {}
        self._traces = self.stub(traces_pb2_grpc.TraceServiceStub)
        self._experiments = self.stub(experiments_pb2_grpc.ExperimentServiceStub)
        self._assessments = self.stub(assessments_pb2_grpc.AssessmentServiceStub)

    def close(self) -> None:
        self._channel.close()

    def ensure_connected(self) -> None:
        """Wait up to ``connect_timeout`` for the connection the first time (after that gRPC
        reconnects and retries by itself); CollectorUnavailableError when nothing answers."""
        if self._connected:
            return
        ready = grpc.channel_ready_future(self._channel)
        try:
            ready.result(timeout=self.connect_timeout)
        except grpc.FutureTimeoutError:
            ready.cancel()
            tls = "" if self._tls else ", or if it serves TLS, --tls or --tls-ca"
            raise errors.CollectorUnavailableError(
                f"no collector answers at {self.address} (waited {self.connect_timeout:g} s): "
                "check that it runs (`spyglass collector start`) and that --collector or "
                f"SPYGLASS_COLLECTOR names its gRPC port{tls}"
            ) from None
        self._connected = True

    def stub(self, stub_class: Callable[[grpc.Channel], S]) -> S:
        """A stub of ``stub_class`` (e.g. ``DatasetServiceStub``) on this client's channel,
        made once and cached, so other modules can call services this class does not wrap;
        call its methods through :meth:`call` to get the same errors and metadata."""
        found = self._stubs.get(stub_class)
        if found is None:
            found = self._stubs[stub_class] = stub_class(self._channel)
        return found

    def call(self, method: Callable[..., T], request: Any, *, timeout: float | None = None) -> T:
        """``method(request)`` of a stub with this client's API key and timeout; a failed
        call raises the matching :mod:`spyglass.errors` class."""
        self.ensure_connected()
        try:
            return method(request, timeout=timeout or self.timeout, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise _translate(exc, self.address) from None

    def collect(
        self, method: Callable[..., Any], request: Any, field: str, limit: int | None = None
    ) -> list[Any]:
        """The items in ``field`` of every page ``method`` returns for ``request`` (its
        ``page_token`` follows each ``next_page_token``), at most ``limit`` (None: all)."""
        found: list[Any] = []
        while True:
            response = self.call(method, request)
            found.extend(getattr(response, field))
            if not response.next_page_token or (limit and len(found) >= limit):
                return found[:limit] if limit else found
            request.page_token = response.next_page_token

    def call_future(self, method: Any, request: Any, *, timeout: float | None = None) -> Any:
        """Start ``method(request)`` without waiting for it (``method.future``): a
        client-streaming call can then be fed while it runs. Wait with :meth:`result`."""
        self.ensure_connected()
        return method.future(request, timeout=timeout or self.timeout, metadata=self._metadata)

    def result(self, future: Any) -> Any:
        """The response of a call started by :meth:`call_future`, errors translated as in
        :meth:`call`."""
        try:
            return future.result()
        except grpc.RpcError as exc:
            raise _translate(exc, self.address) from None

    _call = call  # the name the methods below use

    # -- experiments ---------------------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> Experiment:
        request = epb.CreateExperimentRequest(name=name, tags=dict(tags or {}))
        return Experiment.from_proto(self._call(self._experiments.CreateExperiment, request))

    def get_experiment(self, experiment_id: str) -> Experiment:
        request = epb.GetExperimentRequest(experiment_id=str(experiment_id))
        return Experiment.from_proto(self._call(self._experiments.GetExperiment, request))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment called ``name``, or None when there is none."""
        try:
            message = self._call(
                self._experiments.GetExperimentByName, epb.GetExperimentByNameRequest(name=name)
            )
        except errors.NotFoundError:
            return None
        return Experiment.from_proto(message)

    def search_experiments(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
    ) -> list[Experiment]:
        found: list[Experiment] = []
        token = ""
        while True:
            request = epb.SearchExperimentsRequest(
                filter=_sendable(filter_string or "", "filter"),
                max_results=max_results or 0,
                page_token=token,
                order_by=list(order_by or ()),
            )
            response = self._call(self._experiments.SearchExperiments, request)
            found.extend(Experiment.from_proto(e) for e in response.experiments)
            token = response.next_page_token
            if not token or (max_results and len(found) >= max_results):
                return found[:max_results] if max_results else found

    def set_experiment_retention(self, experiment_id: str, days: int | None) -> Experiment:
        request = epb.SetExperimentRetentionRequest(experiment_id=str(experiment_id))
        if days is not None:
            request.retention_days = days
        return Experiment.from_proto(self._call(self._experiments.SetExperimentRetention, request))

    # -- traces ----------------------------------------------------------------------------

    def search_trace_pages(
        self,
        experiment_ids: Sequence[str] = (),
        filter_string: str = "",
        order_by: Sequence[str] = (),
        max_results: int | None = None,
        page_token: str = "",
        page_size: int = 100,
        include_spans: bool = True,
    ) -> Iterator[tuple[list[Trace], str]]:
        """Pages of traces as the collector streams them, with each page's next token."""
        request = tpb.SearchTracesRequest(
            experiment_ids=[str(e) for e in experiment_ids],
            filter=_sendable(filter_string or "", "filter"),
            order_by=[_sendable(key, f"order_by[{i}]") for i, key in enumerate(order_by)],
            page_size=page_size,
            page_token=page_token or "",
            include_spans=include_spans,
        )
        if max_results is not None:
            request.max_results = max_results
        self.ensure_connected()
        try:
            for page in self._traces.SearchTraces(
                request, timeout=self.timeout, metadata=self._metadata
            ):
                yield [Trace.from_proto(t) for t in page.traces], page.next_page_token
        except grpc.RpcError as exc:
            raise _translate(exc, self.address) from None

    def get_trace(self, trace_id: str) -> Trace:
        return Trace.from_proto(
            self._call(self._traces.GetTrace, tpb.GetTraceRequest(trace_id=trace_id))
        )

    def batch_get_traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        response = self._call(
            self._traces.BatchGetTraces, tpb.BatchGetTracesRequest(trace_ids=list(trace_ids))
        )
        return [Trace.from_proto(t) for t in response.traces]

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        self._call(
            self._traces.SetTraceTag,
            tpb.SetTraceTagRequest(trace_id=trace_id, key=key, value=str(value)),
        )

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self._call(
            self._traces.DeleteTraceTag, tpb.DeleteTraceTagRequest(trace_id=trace_id, key=key)
        )

    def set_trace_metadata(self, trace_id: str, metadata: Mapping[str, str]) -> None:
        request = tpb.SetTraceMetadataRequest(
            trace_id=trace_id, metadata={k: str(v) for k, v in metadata.items()}
        )
        self._call(self._traces.SetTraceMetadata, request)

    def delete_traces(
        self,
        trace_ids: Sequence[str] | None = None,
        experiment_id: str | None = None,
        max_timestamp_ms: int | None = None,
        max_traces: int | None = None,
    ) -> int:
        request = tpb.DeleteTracesRequest(trace_ids=list(trace_ids or ()))
        if experiment_id is not None:
            request.experiment_id = str(experiment_id)
        if max_timestamp_ms is not None:
            request.max_timestamp_ms = max_timestamp_ms
        if max_traces is not None:
            request.max_traces = max_traces
        deleted: int = self._call(self._traces.DeleteTraces, request).deleted_count
        return deleted

    # -- assessments -----------------------------------------------------------------------

    def create_assessment(self, message: apb.Assessment) -> Assessment:
        request = apb.CreateAssessmentRequest(assessment=message)
        return Assessment.from_proto(self._call(self._assessments.CreateAssessment, request))

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        request = apb.GetAssessmentRequest(trace_id=trace_id, assessment_id=assessment_id)
        return Assessment.from_proto(self._call(self._assessments.GetAssessment, request))

    def update_assessment(self, message: apb.Assessment, paths: Sequence[str]) -> Assessment:
        request = apb.UpdateAssessmentRequest(
            assessment=message, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
        )
        return Assessment.from_proto(self._call(self._assessments.UpdateAssessment, request))

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        request = apb.DeleteAssessmentRequest(trace_id=trace_id, assessment_id=assessment_id)
        self._call(self._assessments.DeleteAssessment, request)

    def override_feedback(
        self,
        trace_id: str,
        old_assessment_id: str,
        value: Any,
        rationale: str | None = None,
        source: AssessmentSource | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Assessment:
        request = apb.OverrideFeedbackRequest(
            trace_id=trace_id,
            old_assessment_id=old_assessment_id,
            value_json=json.dumps(value),
            metadata=dict(metadata or {}),
        )
        if rationale is not None:
            request.rationale = rationale
        if source is not None:
            request.source.CopyFrom(source.to_proto())
        return Assessment.from_proto(self._call(self._assessments.OverrideFeedback, request))
