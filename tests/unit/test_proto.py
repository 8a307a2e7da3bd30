"""The gRPC API definitions (proto/spyglass/v1) and their committed generated modules.

Proves that the committed ``*_pb2.py``/``*_pb2.pyi``/``*_pb2_grpc.py`` are exactly what the
pinned grpcio-tools makes from the ``.proto`` files (the same command as ``make proto``),
that the dependency bounds in pyproject.toml satisfy the generated code's own version
checks, that every service offers the methods the API promises with the right shapes, that
every definition is commented, that a Trace carrying assessments survives the wire, and
that SearchTraces streams pages through the generated stub and servicer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent import futures
from importlib.metadata import version
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import MethodDescriptor

from spyglass.v1 import (
    assessments_pb2,
    common_pb2,
    datasets_pb2,
    evaluation_pb2,
    experiments_pb2,
    experiments_pb2_grpc,
    jobs_pb2,
    review_pb2,
    traces_pb2,
    traces_pb2_grpc,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "proto"
API_DIR = PROTO_DIR / "spyglass" / "v1"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
# `make proto`'s protoc command, with its output folder left open (see the Makefile test)
PROTOC_OUTPUTS = ("--python_out", "--pyi_out", "--grpc_python_out")
FILES = {
    "spyglass/v1/common.proto": common_pb2.DESCRIPTOR,
    "spyglass/v1/traces.proto": traces_pb2.DESCRIPTOR,
    "spyglass/v1/assessments.proto": assessments_pb2.DESCRIPTOR,
    "spyglass/v1/experiments.proto": experiments_pb2.DESCRIPTOR,
    "spyglass/v1/evaluation.proto": evaluation_pb2.DESCRIPTOR,
    "spyglass/v1/datasets.proto": datasets_pb2.DESCRIPTOR,
    "spyglass/v1/jobs.proto": jobs_pb2.DESCRIPTOR,
    "spyglass/v1/review.proto": review_pb2.DESCRIPTOR,
}
SERVICES = {
    "TraceService": [
        "SearchTraces",
        "GetTrace",
        "BatchGetTraces",
        "SetTraceTag",
        "DeleteTraceTag",
        "SetTraceMetadata",
        "DeleteTraces",
        "SearchSessions",
    ],
    "ExperimentService": [
        "CreateExperiment",
        "GetExperiment",
        "GetExperimentByName",
        "SearchExperiments",
        "SetExperimentRetention",
        "GetExperimentStats",
        "GetExperimentUsage",
    ],
    "AssessmentService": [
        "CreateAssessment",
        "GetAssessment",
        "UpdateAssessment",
        "DeleteAssessment",
        "OverrideFeedback",
    ],
    "EvaluationService": [
        "CreateEvaluationRun",
        "LogEvaluationResults",
        "FinishEvaluationRun",
        "GetEvaluationRun",
        "SearchEvaluationRuns",
        "ListEvaluationResults",
    ],
    "DatasetService": [
        "CreateDataset",
        "GetDataset",
        "SearchDatasets",
        "DeleteDataset",
        "SetDatasetTags",
        "AddDatasetExperiments",
        "RemoveDatasetExperiments",
        "MergeRecords",
        "MergeTraces",
        "ListRecords",
        "DeleteRecords",
        "ListDatasetVersions",
        "DiffDatasetVersions",
    ],
    "EvaluationJobService": [
        "SubmitJob",
        "GetJob",
        "ListJobs",
        "CancelJob",
        "CreateMonitor",
        "GetMonitor",
        "ListMonitors",
        "UpdateMonitor",
        "DeleteMonitor",
        "GetMonitorSeries",
        "Heartbeat",
        "ClaimWork",
        "RenewLease",
        "LogWorkResults",
        "ReleaseLease",
    ],
    "ReviewService": [
        "CreateReviewQueue",
        "ListReviewQueues",
        "GetReviewQueue",
        "DeleteReviewQueue",
        "NextReviewItem",
        "SubmitReviewItem",
        "SkipReviewItem",
        "ListReviewItems",
    ],
}
STREAMING_METHODS = {"spyglass.v1.TraceService.SearchTraces"}
# a merge's records arrive in chunks and are committed once, when the stream ends
CLIENT_STREAMING_METHODS = {"spyglass.v1.DatasetService.MergeRecords"}


def proto_sources() -> list[str]:
    """The .proto files as protoc names them (relative to the include folder proto/)."""
    return sorted(str(p.relative_to(PROTO_DIR)) for p in API_DIR.glob("*.proto"))


def run_protoc(out_dir: Path, *extra: str) -> None:
    """Runs `make proto`'s generator command from the repository root, into ``out_dir``."""
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        "-Iproto",
        *(f"{flag}={out_dir}" for flag in PROTOC_OUTPUTS),
        *extra,
        *(f"proto/{name}" for name in proto_sources()),
    ]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def generated_files(folder: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.name.endswith(GENERATED_SUFFIXES)
    }


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def lower_bound(requirement_name: str) -> tuple[int, ...]:
    """The `>=` bound of a runtime dependency in pyproject.toml, as a version tuple."""
    for requirement in pyproject()["project"]["dependencies"]:
        match = re.fullmatch(rf"{re.escape(requirement_name)}\s*>=\s*([\d.]+)", requirement)
        if match:
            return version_tuple(match.group(1))
    raise AssertionError(f"pyproject.toml has no `{requirement_name}>=` dependency")


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def all_methods() -> list[MethodDescriptor]:
    return [
        method
        for descriptor in FILES.values()
        for service in descriptor.services_by_name.values()
        for method in service.methods
    ]


# --- generated modules: pinned generator, fresh, runtime bounds ---------------------------


def test_generator_is_the_pinned_grpcio_tools() -> None:
    extras = pyproject()["project"]["optional-dependencies"]
    pins = {
        extra: [r for r in extras[extra] if r.startswith("grpcio-tools")]
        for extra in ("dev", "test")
    }
    installed = version("grpcio-tools")
    for extra, requirement in pins.items():
        assert requirement == [f"grpcio-tools=={installed}"], (
            f"the `{extra}` extra pins {requirement} but grpcio-tools {installed} is "
            "installed: reinstall with `pip install -e .[test]` (or regenerate with the new "
            "version and update both pins)"
        )


def test_make_proto_runs_the_command_this_test_checks() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    outputs = " ".join(f"{flag}=proto" for flag in PROTOC_OUTPUTS)
    command = f"$(PY) -m grpc_tools.protoc -Iproto {outputs} proto/spyglass/v1/*.proto"
    assert re.search(r"^proto:", makefile, re.MULTILINE)
    assert command in makefile


def test_generated_modules_are_fresh(tmp_path: Path) -> None:
    run_protoc(tmp_path)
    fresh = generated_files(tmp_path / "spyglass" / "v1")
    committed = generated_files(API_DIR)
    assert len(fresh) == 3 * len(proto_sources())
    stale = sorted(
        name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name)
    )
    assert not stale, f"generated modules are stale: run `make proto` ({stale})"


def test_generated_modules_import_by_their_proto_package() -> None:
    assert (API_DIR / "__init__.py").is_file()
    # a regular package here would shadow the core `spyglass` whenever proto/ is on sys.path
    assert not (PROTO_DIR / "spyglass" / "__init__.py").exists()
    for path in API_DIR.glob("*_pb2*.py"):
        for line in re.findall(r"^(?:from|import) spyglass.*$", path.read_text(), re.MULTILINE):
            assert line.startswith("from spyglass.v1 import "), (path.name, line)


def test_dependency_bounds_satisfy_the_generated_version_checks() -> None:
    for path in sorted(API_DIR.glob("*_pb2.py")):
        match = re.search(
            r"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,"
            r"\s*(\d+),\s*(\d+),\s*(\d+),",
            path.read_text(),
        )
        assert match, f"{path.name} has no protobuf runtime version check"
        gencode = tuple(int(part) for part in match.groups())
        assert lower_bound("protobuf") >= gencode, (path.name, gencode)
    for path in sorted(API_DIR.glob("*_pb2_grpc.py")):
        match = re.search(r"^GRPC_GENERATED_VERSION = '([\d.]+)'$", path.read_text(), re.MULTILINE)
        assert match, f"{path.name} has no grpc version check"
        assert lower_bound("grpcio") >= version_tuple(match.group(1)), path.name


# --- the API's shape ----------------------------------------------------------------------


@pytest.mark.parametrize("service_name", sorted(SERVICES))
def test_service_has_exactly_its_methods(service_name: str) -> None:
    (descriptor,) = [
        d.services_by_name[service_name]
        for d in FILES.values()
        if service_name in d.services_by_name
    ]
    assert descriptor.full_name == f"spyglass.v1.{service_name}"
    assert [m.name for m in descriptor.methods] == SERVICES[service_name]


def test_streaming_methods_are_the_ones_meant_to_stream() -> None:
    streaming = {m.full_name for m in all_methods() if m.server_streaming}
    assert streaming == STREAMING_METHODS
    client_streaming = {m.full_name for m in all_methods() if m.client_streaming}
    assert client_streaming == CLIENT_STREAMING_METHODS
    search = traces_pb2.DESCRIPTOR.services_by_name["TraceService"].methods_by_name["SearchTraces"]
    assert search.output_type.full_name == "spyglass.v1.SearchTracesPage"


@pytest.mark.parametrize(
    ("method", "request_type", "response_type"),
    [
        ("TraceService.GetTrace", "GetTraceRequest", "Trace"),
        ("TraceService.DeleteTraces", "DeleteTracesRequest", "DeleteTracesResponse"),
        ("TraceService.SearchSessions", "SearchSessionsRequest", "SearchSessionsResponse"),
        ("AssessmentService.CreateAssessment", "CreateAssessmentRequest", "Assessment"),
        ("AssessmentService.UpdateAssessment", "UpdateAssessmentRequest", "Assessment"),
        ("AssessmentService.OverrideFeedback", "OverrideFeedbackRequest", "Assessment"),
        (
            "ExperimentService.SearchExperiments",
            "SearchExperimentsRequest",
            "SearchExperimentsResponse",
        ),
        ("ExperimentService.SetExperimentRetention", "SetExperimentRetentionRequest", "Experiment"),
        (
            "ExperimentService.GetExperimentStats",
            "GetExperimentStatsRequest",
            "GetExperimentStatsResponse",
        ),
        (
            "ExperimentService.GetExperimentUsage",
            "GetExperimentUsageRequest",
            "GetExperimentUsageResponse",
        ),
        ("ReviewService.CreateReviewQueue", "CreateReviewQueueRequest", "ReviewQueue"),
        ("ReviewService.NextReviewItem", "NextReviewItemRequest", "NextReviewItemResponse"),
        ("ReviewService.SubmitReviewItem", "SubmitReviewItemRequest", "ReviewItem"),
        ("DatasetService.MergeRecords", "MergeRecordsRequest", "MergeRecordsResponse"),
        ("DatasetService.MergeTraces", "MergeTracesRequest", "MergeRecordsResponse"),
        ("DatasetService.ListRecords", "ListRecordsRequest", "ListRecordsResponse"),
        (
            "DatasetService.DiffDatasetVersions",
            "DiffDatasetVersionsRequest",
            "DiffDatasetVersionsResponse",
        ),
    ],
)
def test_method_types(method: str, request_type: str, response_type: str) -> None:
    (found,) = [m for m in all_methods() if m.full_name == f"spyglass.v1.{method}"]
    assert found.input_type.full_name == f"spyglass.v1.{request_type}"
    assert found.output_type.full_name == f"spyglass.v1.{response_type}"


def test_update_assessment_takes_a_standard_field_mask() -> None:
    field = assessments_pb2.UpdateAssessmentRequest.DESCRIPTOR.fields_by_name["update_mask"]
    assert field.message_type.full_name == "google.protobuf.FieldMask"


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        (traces_pb2.TraceInfo, ["execution_duration_ms", "name", "session_id", "user_id"]),
        (traces_pb2.Span, ["parent_span_id", "inputs", "outputs", "cost", "model"]),
        (assessments_pb2.Assessment, ["span_id", "rationale", "run_id", "overrides"]),
        (assessments_pb2.Feedback, ["value_json"]),
        (experiments_pb2.Experiment, ["retention_days"]),
        (traces_pb2.SearchTracesRequest, ["max_results"]),
        (experiments_pb2.SetExperimentRetentionRequest, ["retention_days"]),
        (evaluation_pb2.EvaluationScore, ["value_json", "score", "rationale", "assessment_id"]),
        (evaluation_pb2.EvaluationRun, ["model_id", "dataset_id", "end_time_ms", "error_message"]),
        (evaluation_pb2.JudgeUsage, ["cost"]),
        (datasets_pb2.GetDatasetRequest, ["version"]),
        (datasets_pb2.ListRecordsRequest, ["version"]),
        (datasets_pb2.DiffDatasetVersionsRequest, ["to_version"]),
    ],
)
def test_fields_whose_absence_matters_track_presence(message: type, fields: list[str]) -> None:
    by_name = message.DESCRIPTOR.fields_by_name
    assert [f for f in fields if not by_name[f].has_presence] == []


def source_comments(
    descriptor_set: Path,
) -> tuple[list[descriptor_pb2.FileDescriptorProto], dict[str, set[tuple[int, ...]]]]:
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    commented = {
        f.name: {
            tuple(loc.path)
            for loc in f.source_code_info.location
            if loc.leading_comments.strip() or loc.trailing_comments.strip()
        }
        for f in files
    }
    return list(files), commented


def uncommented(
    file: descriptor_pb2.FileDescriptorProto, commented: set[tuple[int, ...]]
) -> Iterator[str]:
    """Names of the messages, fields, oneofs, enums, values, services and methods without a
    comment (paths follow descriptor.proto's field numbers)."""

    def enum(e: descriptor_pb2.EnumDescriptorProto, path: tuple[int, ...]) -> Iterator[str]:
        if path not in commented:
            yield e.name
        yield from (
            f"{e.name}.{v.name}" for i, v in enumerate(e.value) if (*path, 2, i) not in commented
        )

    def message(m: descriptor_pb2.DescriptorProto, path: tuple[int, ...]) -> Iterator[str]:
        if m.options.map_entry:  # synthesized for map<,> fields
            return
        if path not in commented:
            yield m.name
        yield from (
            f"{m.name}.{f.name}" for i, f in enumerate(m.field) if (*path, 2, i) not in commented
        )
        yield from (
            f"{m.name}.{o.name}"
            for i, o in enumerate(m.oneof_decl)
            if not o.name.startswith("_") and (*path, 8, i) not in commented
        )
        for i, nested in enumerate(m.nested_type):
            yield from message(nested, (*path, 3, i))
        for i, nested_enum in enumerate(m.enum_type):
            yield from enum(nested_enum, (*path, 4, i))

    for i, m in enumerate(file.message_type):
        yield from message(m, (4, i))
    for i, e in enumerate(file.enum_type):
        yield from enum(e, (5, i))
    for i, service in enumerate(file.service):
        if (6, i) not in commented:
            yield service.name
        yield from (
            f"{service.name}.{m.name}"
            for j, m in enumerate(service.method)
            if (6, i, 2, j) not in commented
        )


def test_every_definition_is_commented(tmp_path: Path) -> None:
    descriptor_set = tmp_path / "api.binpb"
    run_protoc(tmp_path, f"--descriptor_set_out={descriptor_set}", "--include_source_info")
    files, commented = source_comments(descriptor_set)
    assert sorted(f.name for f in files) == sorted(FILES) == proto_sources()
    missing = {f.name: list(uncommented(f, commented[f.name])) for f in files}
    assert missing == {name: [] for name in FILES}
    assert all(f.package == "spyglass.v1" for f in files)


# --- messages on the wire -----------------------------------------------------------------


def sample_trace() -> traces_pb2.Trace:
    expectation_value = {
        "must_mention": ["30 days", "receipt"],
        "tone": "helpful",
        "big": 2**63 + 1,
    }
    source = assessments_pb2.AssessmentSource
    return traces_pb2.Trace(
        info=traces_pb2.TraceInfo(
            trace_id="0af7651916cd43dd8448eb211c80319c",
            experiment_id="3",
            request_time=1_700_000_000_123,
            execution_duration_ms=0,
            state=traces_pb2.TraceInfo.OK,
            name="answer",
            ingest_sequence=42,
            request_preview='{"question": "refund?"}',
            tags={"environment": "dev"},
            trace_metadata={"app_version": "1.2"},
            session_id="s-1",
            token_usage=common_pb2.TokenUsage(input_tokens=12, output_tokens=30, total_tokens=42),
            cost=0.000125,
            span_count=2,
            error_count=0,
            assessments=[
                assessments_pb2.Assessment(
                    assessment_id="a-1",
                    trace_id="0af7651916cd43dd8448eb211c80319c",
                    name="key_information",
                    expectation=assessments_pb2.Expectation(
                        value_json=json.dumps(expectation_value)
                    ),
                    source=source(source_type=source.HUMAN, source_id="alice"),
                    create_time_ms=1_700_000_001_000,
                    last_update_time_ms=1_700_000_001_000,
                    valid=True,
                ),
                assessments_pb2.Assessment(
                    assessment_id="a-2",
                    trace_id="0af7651916cd43dd8448eb211c80319c",
                    span_id="b7ad6b7169203331",
                    name="factual_accuracy",
                    feedback=assessments_pb2.Feedback(
                        error=assessments_pb2.AssessmentError(
                            error_code="MISSING_EXPECTATIONS",
                            error_message="needs expected_response",
                        )
                    ),
                    rationale="",
                    source=source(source_type=source.LLM_JUDGE, source_id="openai:/gpt-4o-mini"),
                    metadata={"judge": "correctness"},
                    run_id="run-7",
                    valid=False,
                    overrides="a-0",
                ),
            ],
        ),
        spans=[
            traces_pb2.Span(
                trace_id="0af7651916cd43dd8448eb211c80319c",
                span_id="b7ad6b7169203331",
                name="answer",
                kind=traces_pb2.Span.SPAN_KIND_INTERNAL,
                span_type="CHAIN",
                start_time_ns=1_700_000_000_123_000_000,
                end_time_ns=1_700_000_000_123_000_001,
                status_code=traces_pb2.Span.STATUS_CODE_OK,
                inputs='{"question": "refund?"}',
                outputs='"Within 30 days."',
                attributes="{}",
            ),
            traces_pb2.Span(
                trace_id="0af7651916cd43dd8448eb211c80319c",
                span_id="00f067aa0ba902b7",
                parent_span_id="b7ad6b7169203331",
                name="chat gpt-4o-mini",
                span_type="CHAT_MODEL",
                status_code=traces_pb2.Span.STATUS_CODE_ERROR,
                status_message="rate limited",
                model="gpt-4o-mini",
                provider="openai",
                token_usage=common_pb2.TokenUsage(total_tokens=42),
                cost=0.0,
                attributes='{"gen_ai.request.model": "gpt-4o-mini"}',
                events="[]",
            ),
        ],
    )


def test_trace_with_assessments_round_trips() -> None:
    original = sample_trace()
    parsed = traces_pb2.Trace.FromString(original.SerializeToString())
    assert parsed == original
    info = parsed.info
    assert traces_pb2.TraceInfo.State.Name(info.state) == "OK"
    assert info.HasField("execution_duration_ms") and info.execution_duration_ms == 0
    assert not info.HasField("response_preview") and not info.HasField("user_id")
    assert dict(info.tags) == {"environment": "dev"}
    expectation, feedback = info.assessments
    assert expectation.WhichOneof("value") == "expectation"
    assert json.loads(expectation.expectation.value_json)["big"] == 2**63 + 1
    assert not expectation.HasField("span_id")
    assert feedback.WhichOneof("value") == "feedback"
    assert not feedback.feedback.HasField("value_json")
    assert feedback.feedback.error.error_code == "MISSING_EXPECTATIONS"
    assert feedback.HasField("rationale") and feedback.rationale == ""
    assert (feedback.valid, feedback.overrides, feedback.run_id) == (False, "a-0", "run-7")
    root, child = parsed.spans
    assert not root.HasField("parent_span_id") and child.parent_span_id == root.span_id
    assert json.loads(root.inputs) == {"question": "refund?"}
    assert not root.HasField("token_usage") and not root.HasField("cost")
    assert child.HasField("cost") and child.cost == 0.0
    assert not child.token_usage.HasField("input_tokens")
    assert child.token_usage.total_tokens == 42


def test_span_enums_match_otlp_numbers() -> None:
    from opentelemetry.proto.trace.v1 import trace_pb2 as otlp

    assert {v.name: v.number for v in traces_pb2.Span.SpanKind.DESCRIPTOR.values} == {
        v.name: v.number for v in otlp.Span.SpanKind.DESCRIPTOR.values
    }
    assert {v.name: v.number for v in traces_pb2.Span.StatusCode.DESCRIPTOR.values} == {
        v.name: v.number for v in otlp.Status.StatusCode.DESCRIPTOR.values
    }


# --- the generated stubs over a real channel ----------------------------------------------


class PagingTraceService(traces_pb2_grpc.TraceServiceServicer):
    """Streams the trace ids 0..total-1 in pages of the requested size."""

    def __init__(self, total: int) -> None:
        self.total = total

    def SearchTraces(
        self, request: traces_pb2.SearchTracesRequest, context: grpc.ServicerContext
    ) -> Iterator[traces_pb2.SearchTracesPage]:
        start = int(request.page_token or 0)
        for first in range(start, self.total, request.page_size):
            last = min(first + request.page_size, self.total)
            yield traces_pb2.SearchTracesPage(
                traces=[
                    traces_pb2.Trace(info=traces_pb2.TraceInfo(trace_id=f"{i:032x}"))
                    for i in range(first, last)
                ],
                next_page_token=str(last) if last < self.total else "",
            )


class NamedExperiments(experiments_pb2_grpc.ExperimentServiceServicer):
    def GetExperimentByName(
        self, request: experiments_pb2.GetExperimentByNameRequest, context: grpc.ServicerContext
    ) -> experiments_pb2.Experiment:
        return experiments_pb2.Experiment(experiment_id="7", name=request.name)


@pytest.fixture(scope="module")
def channel() -> Iterator[grpc.Channel]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    traces_pb2_grpc.add_TraceServiceServicer_to_server(PagingTraceService(total=5), server)
    experiments_pb2_grpc.add_ExperimentServiceServicer_to_server(NamedExperiments(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as chan:
        grpc.channel_ready_future(chan).result(timeout=10)
        yield chan
    server.stop(grace=None)


def test_search_traces_streams_pages_through_the_generated_stub(channel: grpc.Channel) -> None:
    stub = traces_pb2_grpc.TraceServiceStub(channel)
    pages = list(stub.SearchTraces(traces_pb2.SearchTracesRequest(page_size=2), timeout=10))
    assert [[t.info.trace_id[-1] for t in page.traces] for page in pages] == [
        ["0", "1"],
        ["2", "3"],
        ["4"],
    ]
    assert [page.next_page_token for page in pages] == ["2", "4", ""]
    resumed = stub.SearchTraces(
        traces_pb2.SearchTracesRequest(page_size=2, page_token="4"), timeout=10
    )
    assert [len(page.traces) for page in resumed] == [1]


def test_unary_stub_and_unimplemented_methods(channel: grpc.Channel) -> None:
    stub = experiments_pb2_grpc.ExperimentServiceStub(channel)
    found = stub.GetExperimentByName(
        experiments_pb2.GetExperimentByNameRequest(name="Customer Support Bot"), timeout=10
    )
    assert (found.experiment_id, found.name) == ("7", "Customer Support Bot")
    assert not found.HasField("retention_days")
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetExperiment(experiments_pb2.GetExperimentRequest(experiment_id="7"), timeout=10)
    assert raised.value.code() is grpc.StatusCode.UNIMPLEMENTED
