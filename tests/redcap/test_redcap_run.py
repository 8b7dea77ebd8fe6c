"""``imnm-cohort run`` on a pipeline whose ``[input] kind = "redcap"``: the same patients as
from the project's CSV export, the source in the manifest, failures in one line, and the
token in no output, manifest, log or message."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.cli import main
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.outputs.registry import FORMATS
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.sources.files import FileSource
from imnm_cohort.synth import synthesize
from imnm_cohort.synth_redcap import redcap_layout, write_redcap
from imnm_cohort.validation.load import InputSpec, load_input
from tests.leaks import holding
from tests.redcap.server import TOKEN, FakeRedcap, longitudinal_project, serving

N, SEED = 24, 5
ENV = "IMNM_TEST_REDCAP_TOKEN"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    export, dictionary, mapping = write_redcap(N, tmp_path_factory.mktemp("rc") / "p.csv", SEED)
    return export, dictionary, mapping


@pytest.fixture
def server() -> Iterator[FakeRedcap]:
    made = redcap_layout(synthesize(N, seed=SEED), seed=SEED)
    with serving(longitudinal_project(made.export, made.dictionary)) as running:
        yield running


def pipeline(tmp: Path, input_lines: str, root: str, formats: list[str]) -> Path:
    path = tmp / f"{root}.toml"
    path.write_text(
        f'[input]\n{input_lines}\n[output]\nroot = "{root}"\nformats = {json.dumps(formats)}\n',
        encoding="utf-8",
    )
    return path


def redcap_input(server: FakeRedcap, mapping: Path, **extra: str) -> str:
    lines = [
        'kind = "redcap"',
        f'url = "{server.url}"',
        f'token_env = "{ENV}"',
        f'mapping = "{mapping.as_posix()}"',
        *(f"{k} = {v}" for k, v in extra.items()),
    ]
    return "\n".join(lines)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_a_run_over_the_api_classifies_the_patients_of_the_csv_export(
    server, files, tmp_path, monkeypatch, caplog, capfd
):
    monkeypatch.setenv(ENV, TOKEN)
    # Text and workbook outputs (the figures' formats add time, not another place to hide).
    formats = [f for f in ("json", "csv", "xlsx") if f in FORMATS]
    by_api = pipeline(tmp_path, redcap_input(server, files[2], batch_size="9"), "api", formats)
    with caplog.at_level(logging.DEBUG):
        code, out, err = run(["run", str(by_api)])
    assert code == 0, err
    api_run = next((tmp_path / "api").glob("*/manifest.json")).parent
    # The same patients as the CSV export read from file through the same mapping.
    by_file = load_input(InputSpec(files[0], files[2]))
    classified = pd.read_csv(api_run / "classified.csv", dtype=str)
    assert sorted(classified["patient_id"]) == sorted(by_file.valid["patient_id"])
    quarantined = pd.read_csv(api_run / "quarantine.csv", dtype=str)
    assert len(quarantined) == len(by_file.quarantine)
    # The event tables of the mapping's [tables.NAME]: the same rows as from the CSV export.
    _, by_file_tables = MappedSource(FileSource(files[0]), files[2]).tables()
    summary = json.loads((api_run / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["tables"]) == {"visits", "treatments", "antibody_tests", "cancers"}
    for name, table in summary["tables"].items():  # small counts are withheld ("<5")
        shown = table["input_rows"]
        assert shown == len(by_file_tables[name].rows) or len(by_file_tables[name].rows) < 5
    assert summary["tables"]["treatments"]["input_rows"] > 0
    manifest = json.loads((api_run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["visits"]["kind"] == "redcap"
    source = manifest["input"]  # the source's description and its fingerprint
    assert source["kind"] == "redcap" and source["host"] == "127.0.0.1"
    assert len(source["sha256"]) == 64 and source["records"] == N
    assert manifest["config"]["input"]["token_env"] == ENV
    # The token is nowhere: no output, no manifest, no printed line.
    streams = capfd.readouterr()
    assert TOKEN not in out + err + caplog.text + streams.out + streams.err
    found = holding(tmp_path / "api", TOKEN)
    assert not found
    assert server.heads and not any(TOKEN in head for head in server.heads)


def test_a_refused_token_stops_the_run_in_one_line(server, files, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "0" * 32)
    code, out, err = run(
        ["run", str(pipeline(tmp_path, redcap_input(server, files[2]), "r", ["json"]))]
    )
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "127.0.0.1" in err and "HTTP 403" in err
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").glob("*/manifest.json"))


def test_a_server_error_message_is_scrubbed_at_the_command_line(
    server, files, tmp_path, monkeypatch
):
    monkeypatch.setenv(ENV, TOKEN)
    server.fault = "echo"
    code, out, err = run(
        ["run", str(pipeline(tmp_path, redcap_input(server, files[2]), "e", ["json"]))]
    )
    assert code == 1 and TOKEN not in out + err and "***" in err


def test_an_unset_token_variable_is_a_usage_error(server, files, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    code, _, err = run(
        ["run", str(pipeline(tmp_path, redcap_input(server, files[2]), "u", ["json"]))]
    )
    assert code == 2 and ENV in err and err.count("\n") == 1


def test_an_unexpected_error_leaves_no_token_in_the_debug_log(server, files, tmp_path, monkeypatch):
    import types

    from imnm_cohort.sources import redcap

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug while reading an answer")

    monkeypatch.setenv(ENV, TOKEN)
    # Raised inside the call that holds the request body: the traceback passes through it.
    monkeypatch.setattr(redcap, "json", types.SimpleNamespace(loads=broken))
    code, _, err = run(
        ["run", str(pipeline(tmp_path, redcap_input(server, files[2]), "d", ["json"]))]
    )
    assert code == 1 and "unexpected internal error" in err
    logs = list((tmp_path / "d").glob("imnm-cohort-debug-*.log"))
    assert logs and all(TOKEN not in log.read_text(encoding="utf-8") for log in logs)


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ('kind = "redcap"\nurl = "https://r.example.org/api/"\nmapping = "m.toml"', "token_env"),
        ('kind = "redcap"\nurl = "https://r.example.org/api/"\ntoken_env = "T"', "mapping"),
        ('kind = "sftp"\nextract = "x.csv"', "kind = 'sftp' is not a known source"),
        ('extract = "x.csv"\ntoken_env = "T"', "unknown key 'token_env' in [input]"),
        (
            'kind = "redcap"\nurl = "http://r.example.org/api/"\ntoken_env = "T"\nmapping = "m"',
            "plain http",
        ),
        ('mapping = "m.toml"', "missing key 'extract' in [input]"),
    ],
)
def test_redcap_input_settings_are_checked(tmp_path, lines, words):
    from imnm_cohort.errors import ConfigError

    with pytest.raises(ConfigError, match=words.replace("[", r"\[").replace("(", r"\(")):
        load_pipeline(pipeline(tmp_path, lines, "c", ["json"]))
