"""Hostile input, round 2: the command line, pipeline files, settings files, the Word and
Excel writers and the Python API. Each case gives one line and its documented exit code,
or a correct result."""

from __future__ import annotations

import dataclasses
import errno
import io
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import imnm_cohort as ic
from imnm_cohort.cli import main
from imnm_cohort.io.tables import write_table
from imnm_cohort.pipeline.config import DEMO_EXTRACT, ReportSettings, load_pipeline
from imnm_cohort.pipeline.run import run_pipeline
from imnm_cohort.settings_files import RATES_MAX_BYTES, TOML_MAX_BYTES
from tests.corpus.cohorts import patients, write_csv

ROOT = Path(__file__).resolve().parents[2]
DEMO_PIPELINE = ROOT / "pipelines" / "demo.toml"


def run(*argv: str) -> tuple[int, str, list[str]]:
    """Exit code, stdout, and the stderr lines that are not stage timings."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    return code, out.getvalue(), [x for x in err.getvalue().splitlines() if not x.startswith("[")]


def one_error(code: int, lines: list[str], expected_code: int, *phrases: str) -> None:
    """Exactly one line on stderr, the error, holding every phrase; the exit code."""
    assert code == expected_code, lines
    assert len(lines) == 1 and lines[0].startswith("imnm-cohort: error: "), lines
    for phrase in phrases:
        assert phrase in lines[0], lines


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = patients({"hmgcr": 6, "srp": 5, "seronegative": 5})
    return write_csv(rows, tmp_path_factory.mktemp("cohort") / "my.csv")


def pipeline_file(folder: Path, text: str) -> Path:
    path = folder / "pipeline.toml"
    path.write_text(textwrap.dedent(text))
    return path


# ---------------------------------------------------------------- the README's own commands


def test_input_replaces_a_pipeline_extract_that_does_not_exist(tmp_path, cohort):
    # pipelines/example.toml names ../exports/registry.csv, which a new user does not have.
    pipeline = pipeline_file(
        tmp_path,
        """
        [input]
        extract = "exports/registry.csv"
        [output]
        formats = ["json"]
        """,
    )
    code, _, lines = run("run", str(pipeline))
    one_error(code, lines, 2, "[input] extract", "no such file")
    out = tmp_path / "out"
    code, _, lines = run("run", str(pipeline), "--input", str(cohort), "--output-dir", str(out))
    assert code == 0, lines
    summary = json.loads((out / "latest" / "summary.json").read_text())
    manifest = json.loads((out / "latest" / "manifest.json").read_text())
    assert summary["counts"]["input_rows"] == 16
    assert manifest["config"]["input"]["extract"] == str(cohort.resolve())


def test_a_replaced_mapping_of_the_pipeline_need_not_exist(tmp_path, cohort):
    pipeline = pipeline_file(
        tmp_path,
        """
        [input]
        extract = "export.csv"
        mapping = "old-mapping.toml"
        """,
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text("[columns]\n")
    code, _, lines = run("run", str(pipeline), "--input", str(cohort))
    one_error(code, lines, 2, "[input] mapping = 'old-mapping.toml': no such file")
    config = load_pipeline(pipeline, extract=cohort, mapping=mapping)
    assert (config.extract, config.mapping) == (cohort.resolve(), mapping.resolve())


def test_the_readme_pipeline_takes_its_input_from_the_command_line(cohort):
    example = ROOT / "pipelines" / "example.toml"
    assert not (example.parent / "../exports/registry.csv").exists()
    config = load_pipeline(example, extract=cohort)
    assert config.extract == cohort.resolve()
    assert config.report.title == "IMNM in the registry"  # a study's own settings stay


@pytest.mark.parametrize("batch", [[], ["--batch-rows", "1000"]], ids=["in_memory", "batched"])
def test_classify_of_a_missing_input_says_it_does_not_exist(tmp_path, batch):
    missing = tmp_path / "national.csv"
    code, _, lines = run("classify", str(missing), "-o", str(tmp_path / "c.parquet"), *batch)
    one_error(code, lines, 1, f"{missing}: file not found")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["-q", "validate", "{cohort}"],
        ["validate", "{cohort}", "-q"],
        ["validate", "-q", "{cohort}"],
        ["--quiet", "criteria"],
        ["criteria", "--quiet"],
    ],
)
def test_global_options_work_before_or_after_the_subcommand(cohort, argv):
    code, out, lines = run(*(a.format(cohort=cohort) for a in argv))
    assert (code, out, lines) == (0, "", [])


def test_version_works_after_the_subcommand(capsys):
    assert main(["criteria", "--version"]) == 0
    assert capsys.readouterr().out.startswith("imnm-cohort ")


# ------------------------------------------------------------- the demo's identity stays its own


@pytest.mark.parametrize("demo", [None, DEMO_PIPELINE], ids=["bundled", "pipelines_demo"])
def test_own_input_never_carries_the_demos_identity_or_rates(tmp_path, cohort, demo, monkeypatch):
    monkeypatch.chdir(tmp_path)
    as_demo = load_pipeline(demo)
    assert as_demo.is_demo and as_demo.reference_rates is not None  # the demo keeps its own
    assert load_pipeline(demo, extract=DEMO_EXTRACT).report == as_demo.report
    config = load_pipeline(demo, extract=cohort)
    assert config.report == ReportSettings()
    assert config.reference_rates is None
    assert config.output_root == tmp_path / "reports" / "my"
    assert len(config.notes) == 1 and "not the demo registry" in config.notes[0]


def test_run_says_when_the_demo_settings_are_left_out(tmp_path, cohort, monkeypatch):
    import imnm_cohort.pipeline.run as pipeline_run

    seen = []

    def record(config, **kwargs):  # the run itself is tested below
        seen.append(config)
        return pipeline_run.RunResult(tmp_path, 0)

    monkeypatch.setattr(pipeline_run, "run_pipeline", record)
    code, out, lines = run("run", "--input", str(cohort), "--output-dir", str(tmp_path))
    assert (code, lines) == (0, [])
    assert "note: my.csv is not the demo registry" in out
    assert seen[0].reference_rates is None and seen[0].report == ReportSettings()


def test_a_run_on_own_input_without_a_pipeline_is_not_labelled_as_the_demo(
    tmp_path, cohort, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    config = load_pipeline(None, extract=cohort, output_root=tmp_path / "out")
    result = run_pipeline(dataclasses.replace(config, formats=("json",)))
    summary = (result.folder / "summary.json").read_text()
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert json.loads(summary)["population_rates"] is None  # no SIR/SMR on invented rates
    assert "Synthetic registry" not in summary + json.dumps(manifest)
    assert "imnm-cohort demo" not in json.dumps(manifest)
    assert manifest["config"]["report"]["title"] == ReportSettings().title
    assert manifest["notes"] == list(config.notes)


# ---------------------------------------------------------------- settings files: bounded


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # no disk used: the size is what is refused
    return path


@pytest.mark.parametrize(
    "case", ["mapping_over_1_mib", "pipeline_over_1_mib", "rates_over_64_mib", "mapping_folder"]
)
def test_settings_files_over_their_limit_are_refused_before_reading(tmp_path, cohort, case):
    big_toml = _sparse(tmp_path / "big.toml", TOML_MAX_BYTES + 1)
    rates = _sparse(tmp_path / "rates.csv", RATES_MAX_BYTES + 1)
    pipeline = pipeline_file(
        tmp_path,
        f"""
        [input]
        extract = "{cohort}"
        [analysis]
        reference_rates = "{rates}"
        """,
    )
    argv, phrases = {
        "mapping_over_1_mib": (
            ["validate", str(cohort), "--mapping", str(big_toml)],
            ["mapping file is 1,048,577 bytes", "limit of 1 MiB"],
        ),
        "pipeline_over_1_mib": (["run", str(big_toml)], ["pipeline file is", "limit of 1 MiB"]),
        "rates_over_64_mib": (
            ["run", str(pipeline)],
            ["[analysis] reference_rates", "reference-rate file is 67,108,865 bytes"],
        ),
        "mapping_folder": (
            ["map", str(cohort), "--mapping", str(tmp_path), "-o", str(tmp_path / "x.csv")],
            ["is a folder, not a mapping file"],
        ),
    }[case]
    code, _, lines = run(*argv)
    one_error(code, lines, 2, *phrases)


_DEVICE_CASES = """
import io, json, sys
from imnm_cohort.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    results.append([code, err.getvalue().splitlines()])
print(json.dumps(results))
"""


def test_devices_and_fifos_are_refused_without_reading_them(tmp_path, cohort):
    # In a child process with 1.5 GB of address space and a time limit: should a check be
    # lost, the case fails here instead of filling the machine's memory or waiting for ever.
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    pipeline = pipeline_file(
        tmp_path,
        f"""
        [input]
        extract = "{cohort}"
        mapping = "{fifo}"
        [analysis]
        reference_rates = "/dev/zero"
        """,
    )
    out = str(tmp_path / "x.csv")
    cases = [
        ["validate", str(cohort), "--mapping", "/dev/zero"],
        ["classify", str(cohort), "--mapping", "/dev/zero", "-o", out],
        ["map", str(cohort), "--mapping", str(fifo), "-o", out],
        ["run", "--input", str(cohort), "--mapping", str(fifo)],
        ["run", "/dev/zero"],
        ["run", str(pipeline)],
    ]
    limit = "import resource; resource.setrlimit(resource.RLIMIT_AS, (1500 << 20, 1500 << 20));"
    done = subprocess.run(
        [sys.executable, "-c", limit + _DEVICE_CASES, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    for argv, (code, lines) in zip(cases, json.loads(done.stdout), strict=True):
        assert code == 2, (argv, lines)
        assert len(lines) == 1 and "is not a regular file" in lines[0], (argv, lines)
    assert not Path(out).exists()


@pytest.mark.parametrize("shape", ["arrays", "inline_tables"])
@pytest.mark.parametrize("what", ["mapping", "pipeline"])
def test_toml_nested_3000_deep_is_one_line(tmp_path, cohort, shape, what):
    value = "[" * 3000 + "]" * 3000 if shape == "arrays" else "{a = " * 3000 + "1" + "}" * 3000
    deep = tmp_path / "deep.toml"
    deep.write_text(f"[columns]\npatient_id = {value}\n")
    if what == "mapping":
        code, _, lines = run("validate", str(cohort), "--mapping", str(deep))
    else:
        deep.write_text(f'[input]\nextract = "{cohort}"\n[table_one]\nvariables = {value}\n')
        code, _, lines = run("run", str(deep))
    one_error(code, lines, 2, str(deep), "more than 20 levels deep")


def test_toml_nested_below_the_recursion_limit_is_refused_by_depth(tmp_path, cohort):
    deep = tmp_path / "deep.toml"
    deep.write_text("[columns]\npatient_id = " + "[" * 50 + "]" * 50 + "\n")
    code, _, lines = run("validate", str(cohort), "--mapping", str(deep))
    one_error(code, lines, 2, "mapping file nests tables or arrays more than 20 levels deep")


# ------------------------------------------------------- control characters in Word and Excel


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ('[report]\ntitle = "A\\u000bB"', "[report] title"),
        ('[report]\nauthors = ["A. Author", "B.\\u0000"]', "[report] authors[1]"),
        (
            '[table_one]\nvariables = [{ column = "sex", label = "Sex\\u000c" }]',
            "[table_one] variables[0] label",
        ),
    ],
)
def test_a_control_character_in_a_label_of_the_pipeline_is_refused(tmp_path, cohort, section, key):
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(f'[input]\nextract = "{cohort}"\n{section}\n')
    code, _, lines = run("run", str(pipeline))
    one_error(code, lines, 2, key, "control character U+00")


def test_a_control_character_from_the_data_is_replaced_in_word_and_excel(tmp_path):
    rows = patients({"hmgcr": 6, "srp": 5, "seronegative": 5}, site="North\x0bside\x00")
    extract = write_csv(rows, tmp_path / "sites.csv")
    # NUL is refused by the reader; the vertical tab reaches Table 1 as a row label.
    text = extract.read_text().replace("\x00", "")
    extract.write_text(text)
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(
        f'[input]\nextract = "{extract}"\n[output]\nroot = "out"\nformats = ["docx", "xlsx"]\n'
        '[table_one]\nvariables = [{ column = "site", kind = "categorical" }]\n'
    )
    code, _, lines = run("run", str(pipeline))
    assert code == 0, lines
    latest = tmp_path / "out" / "latest"
    docx = zipfile.ZipFile(latest / "tables.docx").read("word/document.xml").decode()
    xlsx = pd.read_excel(latest / "tables.xlsx", sheet_name=None, header=None)
    cells = {str(v) for sheet in xlsx.values() for v in sheet.to_numpy().ravel()}
    assert "North\ufffdside" in docx and "North\ufffdside" in cells
    assert "\x0b" not in docx and not any("\x0b" in c for c in cells)


# ------------------------------------------------------------------------ output folders


@pytest.mark.parametrize("batch", [[], ["--batch-rows", "5"]], ids=["in_memory", "batched"])
def test_classify_into_a_folder_that_is_a_file_is_one_line_exit_2(tmp_path, cohort, batch):
    parent = tmp_path / "afile"
    parent.write_text("keep me")
    code, _, lines = run("classify", str(cohort), "-o", str(parent / "c.csv"), *batch)
    one_error(code, lines, 2, f"{parent}: is a file, not a folder")
    assert parent.read_text() == "keep me"


@pytest.mark.parametrize("batch", [[], ["--batch-rows", "5"]], ids=["in_memory", "batched"])
def test_classify_into_a_read_only_folder_is_one_line_exit_2(tmp_path, cohort, batch, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root writes anywhere: the folder refuses as it would
        real_mkstemp = tempfile.mkstemp

        def refuse(*args: Any, **kwargs: Any) -> tuple[int, str]:
            if Path(kwargs.get("dir", "")) == folder:
                raise PermissionError(errno.EACCES, "Permission denied")
            return real_mkstemp(*args, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    try:
        code, _, lines = run("classify", str(cohort), "-o", str(folder / "c.csv"), *batch)
    finally:
        folder.chmod(0o755)
    one_error(code, lines, 2, f"{folder}: cannot write to the output folder")
    assert list(folder.iterdir()) == []


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")


def test_validate_with_its_reader_gone_writes_its_outputs_and_exits_0(tmp_path, cohort):
    err = io.StringIO()
    folder = tmp_path / "validation"
    code = main(["validate", str(cohort), "-o", str(folder)], stdout=_ClosedPipe(), stderr=err)
    assert code == 0 and "error" not in err.getvalue()
    assert (folder / "valid.csv").is_file()


def test_validate_into_a_closed_pipe_finishes_its_work_quietly(tmp_path, cohort):
    # PYTHONUNBUFFERED=1, as `validate ... 2>&1 | head` when head has gone: the progress
    # line on stderr meets the closed pipe first, then the first result on stdout.
    read_end, write_end = os.pipe()
    os.close(read_end)
    folder = tmp_path / "validation"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "imnm_cohort", "validate", str(cohort), "-o", str(folder)],
            stdout=write_end,
            stderr=write_end,
            timeout=120,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)},
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0  # a traceback or an internal error would give 1
    assert (folder / "valid.csv").is_file() and (folder / "validation_report.json").is_file()
    assert not list(folder.glob("imnm-cohort-debug-*"))


# -------------------------------------------------------------------------------- the API


@pytest.fixture(scope="module")
def classified_csv(cohort: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("classified") / "classified.csv"
    assert main(["-q", "classify", str(cohort), "-o", str(path)]) == 0
    return path


def test_analyse_reads_a_classified_file_back_as_classify_gives_it(tmp_path):
    def numbers(analysis: ic.CohortAnalysis) -> object:
        return json.loads(json.dumps(analysis.to_dict(), default=str), parse_float=lambda x: "~")

    # 400 synthetic patients: every EULAR/ACR category occurs.
    classified = ic.classify(ic.load_extract(DEMO_EXTRACT).valid.head(400))
    write_table(classified, tmp_path / "classified.csv")
    read_back = pd.read_csv(tmp_path / "classified.csv")
    kept = read_back.copy()
    from_csv = ic.analyse(read_back, n_boot=20)
    pd.testing.assert_frame_equal(read_back, kept)  # the caller's frame is not modified
    direct = ic.analyse(classified, n_boot=20)
    # Every count, text and category order is the same (floats differ in the last digit
    # that a CSV file keeps, so they are compared as placeholders).
    assert numbers(from_csv) == numbers(direct)
    rows = direct.to_dict()["table_one"]["rows"]
    levels = next(r["levels"] for r in rows if r["variable"] == "eular_acr_2017_category")
    assert levels != sorted(levels)  # the classifier's order, which text alone would lose


def test_analyse_names_a_text_date_it_cannot_read(classified_csv):
    frame = pd.read_csv(classified_csv)
    frame.loc[2, "onset_date"] = "03/04/2019"
    with pytest.raises(ic.ConfigError, match=r"column 'onset_date' holds '03/04/2019' at row 3"):
        ic.analyse(frame)


def test_analyse_of_a_file_classified_twice_works(classified_csv):
    # The classified file's own output columns are reserved names: read back as an extract
    # they are carried as extract.<name>, and classifying again gives the same groups.
    twice = ic.classify(ic.load_extract(classified_csv).valid)
    assert (twice["imnm_group"].astype(str) == twice["extract.imnm_group"].astype(str)).all()
    result = ic.analyse(twice, n_boot=20)
    assert result.to_dict()["table_one"]["rows"]


def test_analyse_of_an_unclassified_frame_is_a_clear_error(cohort):
    with pytest.raises(ic.ConfigError, match="no column 'imnm_group': classify it first"):
        ic.analyse(pd.read_csv(cohort))
