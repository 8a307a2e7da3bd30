"""The config file layer: flag/argument > SPYGLASS_* variable > spyglass.toml > default, and
every mistake in the file is a ConfigurationError naming the file, the key and the fix."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from spyglass.config import (
    CONFIG_FILE_SETTINGS,
    CollectorSettings,
    EvaluatorSettings,
    TracingSettings,
)
from spyglass.errors import ConfigurationError
from spyglass.settings_file import value_kind


def write(tmp_path: Path, text: str, name: str = "spyglass.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_file_values_apply_below_environment_and_arguments(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[collector]
store = "postgresql+psycopg://db/spyglass"
grpc_port = 5317
http_port = 5318
api_keys = ["old", "new"]
migrate = false
retry_after = 2
""",
    )
    s = CollectorSettings.load(
        env={"SPYGLASS_CONFIG": path, "SPYGLASS_HTTP_PORT": "6318"}, store="sqlite:///x.db"
    )
    assert s.store == "sqlite:///x.db"  # argument beats file
    assert s.http_port == 6318  # environment beats file
    assert (s.grpc_port, s.api_keys, s.migrate) == (5317, ("old", "new"), False)  # file
    assert s.retry_after == 2.0 and isinstance(s.retry_after, float)
    assert s.host == "127.0.0.1" and s.queue_max_spans == 20_000  # defaults


def test_evaluator_table_and_precedence(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[collector]
grpc_port = 9999

[evaluator]
collector = "collector.internal:4317"
concurrency = 4
poll_seconds = 2.5
lease_seconds = 60
scorers_modules = ["mypkg.scorers"]
api_key = "k1,k2"
""",
    )
    s = EvaluatorSettings.load(
        env={"SPYGLASS_CONFIG": path, "SPYGLASS_EVALUATOR_CONCURRENCY": "8"}, poll_seconds=0.5
    )
    assert s.concurrency == 8  # environment beats file
    assert s.poll_seconds == 0.5  # argument beats environment + file
    assert (s.collector, s.lease_seconds, s.scorers_modules) == (
        "collector.internal:4317",
        60.0,
        ("mypkg.scorers",),
    )  # file
    assert s.api_key == "k1"  # strings parse like the variable
    assert s.http_port == 4319 and s.tls is False  # defaults
    assert not hasattr(s, "grpc_port")


def test_no_file_named_means_no_file_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "[collector]\ngrpc_port = 1\n")
    monkeypatch.chdir(tmp_path)  # a spyglass.toml in the working directory is not discovered
    assert CollectorSettings.load(env={}).grpc_port == 4317


def test_empty_string_means_unset(tmp_path: Path) -> None:
    path = write(tmp_path, '[collector]\ntls_cert = ""\nretention_days = ""\n')
    s = CollectorSettings.load(env={"SPYGLASS_CONFIG": path})
    assert s.tls_cert is None and s.retention_days is None


def test_tracing_settings_ignore_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[tracing]\nsampling_ratio = 0.1\n")
    assert TracingSettings.load(env={"SPYGLASS_CONFIG": path}).sampling_ratio is None


@pytest.mark.parametrize(
    "text, fragments",
    [
        (
            "[collector]\ngrpc_prot = 1\n",
            ["unknown key 'grpc_prot' in [collector]", "known keys:", "grpc_port", "api_keys"],
        ),
        (
            "[collectr]\ngrpc_port = 1\n",
            ["unknown table [collectr]", "known tables: [collector], [evaluator]"],
        ),
        ("store = 'x'\n", ["key 'store' is outside any table; put it under one of [collector]"]),
        ("collector = 5\n", ["'collector' must be a table"]),
        (
            "[collector]\ngrpc_port = true\n",
            [
                "[collector] grpc_port = True has the wrong type: expected an integer",
                "SPYGLASS_GRPC_PORT",
            ],
        ),
        ("[collector]\ngrpc_port = 4317.5\n", ["grpc_port = 4317.5 has the wrong type"]),
        (
            "[collector]\ngrpc_port = 'four'\n",
            ["[collector] grpc_port = 'four' is not valid", "default: 4317"],
        ),
        (
            "[collector]\napi_keys = [1, 2]\n",
            ["api_keys = [1, 2] has the wrong type", "expected an array of strings"],
        ),
        (
            "[collector]\nmigrate = 'maybe'\n",
            ["migrate = 'maybe' is not valid", "expected true or false"],
        ),
        ("[collector]\nmigrate = 1\n", ["migrate = 1 has the wrong type: expected true or false"]),
        ("[collector]\nsync = 'always'\n", ["expected 'normal' or 'full'"]),
        ("[collector]\nhost = 1\n", ["host = 1 has the wrong type: expected a string"]),
        ("[collector]\nstore = {url = 'x'}\n", ["store = {'url': 'x'} has the wrong type"]),
        ("[collector\n", ["not valid TOML"]),
    ],
)
def test_mistakes_name_the_file_and_the_key(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        CollectorSettings.load(env={"SPYGLASS_CONFIG": path})
    message = str(caught.value)
    assert message.startswith(f"config file {path}")
    for fragment in fragments:
        assert fragment in message


def test_evaluator_checks_apply_to_file_values(tmp_path: Path) -> None:
    path = write(tmp_path, "[evaluator]\nconcurrency = 0\n")
    with pytest.raises(
        ConfigurationError,
        match=r"\[evaluator\] concurrency = 0 is not valid: "
        "expected a positive integer",
    ):
        EvaluatorSettings.load(env={"SPYGLASS_CONFIG": path})


def test_a_bad_key_of_another_table_does_not_stop_this_process(tmp_path: Path) -> None:
    """Each process checks its own table (and the table names): a collector is not stopped
    by a typo only the evaluator would read, and the evaluator reports it."""
    path = write(tmp_path, "[collector]\ngrpc_port = 5317\n[evaluator]\nconcurency = 2\n")
    assert CollectorSettings.load(env={"SPYGLASS_CONFIG": path}).grpc_port == 5317
    with pytest.raises(ConfigurationError, match="unknown key 'concurency' in \\[evaluator\\]"):
        EvaluatorSettings.load(env={"SPYGLASS_CONFIG": path})


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    with pytest.raises(ConfigurationError, match=r"config file .*nope.toml: file not found"):
        CollectorSettings.load(env={"SPYGLASS_CONFIG": missing})


def test_a_file_not_ending_in_toml_is_read_as_json(tmp_path: Path) -> None:
    path = write(tmp_path, '{"collector": {"grpc_port": 5317}}', name="spyglass.json")
    assert CollectorSettings.load(env={"SPYGLASS_CONFIG": path}).grpc_port == 5317


def test_every_file_setting_has_a_toml_shape() -> None:
    """A new setting of a type the file cannot express fails here, not in production."""
    kinds = {value_kind(f) for cls in CONFIG_FILE_SETTINGS for f in dataclasses.fields(cls)}
    assert kinds == {"str", "int", "float", "bool", "list"}
