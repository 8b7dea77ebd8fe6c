"""The command line takes a source's URL where it takes an input path: ``validate``,
``classify``, ``map`` and ``run --input`` on a DuckDB URL give what they give on the same
rows in a file; an unusable URL is one line and exit code 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.cli import main
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.synth import synthesize, write_extract

SECRET = "Url-Pa55word"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def error_of(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-q", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the same dirty extract as CSV, Parquet and a DuckDB table, as the
    current folder (URLs with three slashes are relative to it). The rows are in a
    database's reading order (patient_id, then every other column), so that row numbers
    agree."""
    frame = synthesize(240, seed=11, dirty=0.25)
    key = ["patient_id", *(c for c in frame.columns if c != "patient_id")]
    frame = frame.sort_values(key, na_position="last", kind="stable", ignore_index=True)
    for name in ("x.csv", "x.parquet", "reg.duckdb"):
        write_extract(frame, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lines_after_the_source(text: str) -> list[str]:
    """The printed summary without its first line's source name and its last line (where
    the outputs went)."""
    first, *rest = text.splitlines()
    return [first.split(": ", 1)[1], *rest[:-1]]


@pytest.mark.slow
def test_validate_and_classify_read_a_duckdb_url_as_the_file(here):
    code, by_file, err = run("validate", "x.csv", "-o", "v-file")
    assert code == 0, err
    for url in (
        "duckdb:///reg.duckdb?table=patients",
        f"duckdb:////{(here / 'x.parquet').as_posix().lstrip('/')}",
    ):
        code, by_url, err = run("validate", url, "-o", "v-url")
        assert code == 0, (url, err)
        assert lines_after_the_source(by_url) == lines_after_the_source(by_file), url
    for name in ("quarantine.csv", "valid.csv"):
        if (here / "v-file" / name).exists():
            a = pd.read_csv(here / "v-file" / name, dtype=str)
            b = pd.read_csv(here / "v-url" / name, dtype=str)
            pd.testing.assert_frame_equal(a, b, obj=name)
    code, _, err = run("classify", "x.csv", "-o", "c-file.csv")
    assert code == 0, err
    for extra in ((), ("--batch-rows", "40")):
        code, _, err = run("classify", "duckdb:///reg.duckdb?table=patients", "-o", "c.csv", *extra)
        assert code == 0, err
        pd.testing.assert_frame_equal(
            pd.read_csv("c.csv", dtype=str), pd.read_csv("c-file.csv", dtype=str)
        )


@pytest.mark.slow
def test_run_input_takes_a_url_and_the_manifest_records_it_without_a_user(here):
    pipeline = here / "p.toml"
    pipeline.write_text(
        '[input]\nextract = "x.csv"\n[output]\nroot = "by-file"\nformats = ["json"]\n',
        encoding="utf-8",
    )
    code, _, err = error_of("run", str(pipeline))
    assert code == 0, err
    url = "duckdb:///reg.duckdb?table=patients"
    code, _, err = error_of("run", str(pipeline), "--input", url, "--output-dir", "by-url")
    assert code == 0, err

    def summary(root: str) -> dict[str, object]:
        data = json.loads((here / root / "latest" / "summary.json").read_text("utf-8"))
        data.pop("input", None)
        return data

    assert summary("by-url") == summary("by-file")
    manifest = json.loads((here / "by-url" / "latest" / "manifest.json").read_text("utf-8"))
    assert manifest["config"]["input"] == {
        "kind": "duckdb",
        "database": "reg.duckdb",
        "table": "patients",
    }
    assert manifest["input"]["kind"] == "duckdb" and manifest["input"]["rows"] == 240
    # The demo pipeline given a URL keeps none of the demo's identity.
    demo = load_pipeline(None, extract=url)
    assert demo.extract is None and demo.input is not None and demo.reference_rates is None
    assert demo.output_root == here / "reports" / "reg.duckdb"
    assert any("reg.duckdb is not the demo registry" in note for note in demo.notes)


def test_map_reads_an_export_named_by_a_url(here):
    code, _, err = run("synth", "--n", "40", "--seed", "5", "--layout", "redcap", "-o", "e.csv")
    assert code == 0, err
    mapping = next(here.glob("*.toml")).name
    code, by_file, err = run("map", "e.csv", "--mapping", mapping, "-o", "m-file.csv")
    assert code == 0, err
    code, by_url, err = run("map", "duckdb:///e.csv", "--mapping", mapping, "-o", "m-url.csv")
    assert code == 0, err
    assert lines_after_the_source(by_url) == lines_after_the_source(by_file)
    by_id = ["patient_id"]
    pd.testing.assert_frame_equal(
        pd.read_csv("m-url.csv", dtype=str).sort_values(by_id, ignore_index=True),
        pd.read_csv("m-file.csv", dtype=str).sort_values(by_id, ignore_index=True),
    )


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("validate", "omopx+duckdb:///cdm.duckdb"), "unknown source kind 'omopx'"),
        (("validate", "ftp://host/x.csv"), "unknown URL scheme 'ftp'"),
        (
            ("classify", f"postgres://ann:{SECRET}@db/registry?table=t", "-o", "c.csv"),
            "never holds a password",
        ),
        (("run", "--input", f"postgres://db/r?table=t&password={SECRET}"), "never holds"),
        (("classify", "duckdb:///x.parquet", "-o", "x.parquet"), "is the input file itself"),
        (("validate", "duckdb:///reg.duckdb?tabel=patients"), "unknown parameter 'tabel'"),
    ],
)
def test_an_unusable_url_is_one_line_and_exit_code_2(here, argv, words):
    code, out, err = error_of(*argv)
    assert (code, out) == (2, ""), err
    assert words in err and err.count("\n") == 1 and SECRET not in err
    assert not (here / "c.csv").exists() and not (here / "reports").exists()


def test_a_url_s_database_problem_is_one_line_and_exit_code_1(here):
    for url, words in (
        ("duckdb:///absent.duckdb?table=patients", "absent.duckdb: file not found"),
        ("duckdb:///reg.duckdb?table=gone", "no table gone"),
    ):
        code, out, err = error_of("validate", url)
        assert (code, out) == (1, "") and words in err and err.count("\n") == 1, err
