"""The hostile corpus, run end to end: every case gives one line and its exit code, or a
correct result; a failed run leaves nothing half-written; nothing withheld can be
recovered by subtraction; nothing from the data runs in a report or a spreadsheet."""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.cli import main
from imnm_cohort.disclosure.suppression import WITHHELD, covers, leaves
from imnm_cohort.pipeline.runfolder import LATEST, LOCK_NAME
from tests.corpus.cohorts import patients, write_csv
from tests.corpus.make_corpus import INJECTION_NAME

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


HERE = Path(__file__).parent
FILES = HERE / "files"
ROOT = HERE.parents[1]


def run(*argv: str) -> tuple[int, str, list[str]]:
    """Exit code, stdout, and the stderr lines that are not stage timings."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    return code, out.getvalue(), [x for x in err.getvalue().splitlines() if not x.startswith("[")]


def live_formulas(path: Path) -> list[str]:
    """Cells and header names of a CSV file that a spreadsheet would run."""
    cells = pd.read_csv(path, dtype=str, keep_default_na=False)
    values = [*cells.to_numpy().ravel(), *cells.columns]
    return [v for v in values if re.match(r"^[=+\-@\t\r]", v) and not re.match(r"^-?\d", v)]


def run_pipeline(extract: Path, root: Path, *extra: str) -> tuple[int, str, list[str]]:
    return run("run", "--input", str(extract), "--output-dir", str(root), *extra)


def left_behind(root: Path) -> list[str]:
    """Whatever a failed run must not leave: a lock, a temporary folder, a run folder."""
    if not root.exists():
        return []
    return sorted(
        p.name for p in root.iterdir() if p.name == LOCK_NAME or p.name.startswith(".incomplete")
    )


def pipeline(tmp_path: Path, extract: Path, **sections: dict[str, object]) -> Path:
    text = f'[input]\nextract = "{extract}"\n[output]\nroot = "{tmp_path / "out"}"\n'
    for section, keys in sections.items():
        text += f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
    path = tmp_path / "pipeline.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = patients({"hmgcr": 11, "srp": 2, "seronegative": 5})
    rows[0]["death_date"] = "2019-01-01"
    rows[12]["death_date"] = "2019-01-01"
    return write_csv(rows, tmp_path_factory.mktemp("cohort") / "small.csv")


@pytest.fixture(scope="module")
def small_run(small_cohort: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    assert run_pipeline(small_cohort, root)[0] == 0
    return root / LATEST


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("analysis", "seed", "-1"),
        ("analysis", "window_years", "nan"),
        ("analysis", "window_years", "-2"),
        ("analysis", "horizon_years", "inf"),
        ("analysis", "horizon_years", "1e12"),
        ("analysis", "horizon_years", "1e9"),
        ("analysis", "horizon_years", "0"),
        ("disclosure", "min_cell_count", "-5"),
        ("disclosure", "min_cell_count", "1000000"),
        ("disclosure", "rounding", "-5"),
    ],
)
def test_out_of_range_settings_exit_2_naming_the_key(tmp_path, section, key, value):
    path = pipeline(tmp_path, FILES / "byte_order_mark.csv", **{section: {key: value}})
    code, _, lines = run("run", str(path))
    assert code == 2
    assert len(lines) == 1 and f"[{section}] {key} = " in lines[0] and "out of range" in lines[0]
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- output folder


def test_a_read_only_output_folder_is_one_line_exit_2(tmp_path, small_cohort, monkeypatch):
    root = tmp_path / "ro"
    root.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the folder refuse as it would
        real_open = Path.open

        def refuse(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            if self.parent == root:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "open", refuse)
    else:
        root.chmod(0o555)
    code, _, lines = run_pipeline(small_cohort, root)
    root.chmod(0o755)
    assert code == 2
    assert lines == [
        f"imnm-cohort: error: {root}: cannot write to the output folder (Permission denied)"
    ]
    assert list(root.iterdir()) == []


def test_a_full_disk_leaves_no_lock_no_folder_and_no_run(tmp_path, small_cohort):
    # A file size limit in a child process makes every write past 20 KiB fail (EFBIG).
    root = tmp_path / "full"
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))\n"
        "from imnm_cohort.cli import main\n"
        f"argv = ['run', '--input', {str(small_cohort)!r}, '--output-dir', {str(root)!r}]\n"
        "sys.exit(main(argv))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    lines = [x for x in done.stderr.splitlines() if not x.startswith("[")]
    assert done.returncode == 1, done.stderr
    assert len(lines) == 1 and "the disk is full or a file size limit was reached" in lines[0]
    assert "Traceback" not in done.stderr
    assert not root.exists() or list(root.iterdir()) == []


def test_without_symlinks_latest_is_a_text_file_naming_the_run(tmp_path, small_cohort, monkeypatch):
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted", str(self))

    monkeypatch.setattr(Path, "symlink_to", refuse)
    root = tmp_path / "fat"
    assert run_pipeline(small_cohort, root)[0] == 0
    latest = root / LATEST
    assert latest.is_file() and not latest.is_symlink()
    first = latest.read_text().strip()
    assert (root / first / "summary.json").is_file()
    code, _, lines = run_pipeline(small_cohort, root)
    assert code == 0 and lines == []
    second = latest.read_text().strip()
    assert second != first
    changes = json.loads((root / second / "changes.json").read_text())
    assert changes["previous_run"] == first
    assert left_behind(root) == []


def test_a_run_meeting_the_lock_stops_before_any_work(tmp_path, small_cohort):
    root = tmp_path / "locked"
    root.mkdir()
    with (root / LOCK_NAME).open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        err = io.StringIO()
        code = main(
            ["run", "--input", str(small_cohort), "--output-dir", str(root)],
            stdout=io.StringIO(),
            stderr=err,
        )
    assert code == 4
    assert "[validate]" not in err.getvalue() and "[checksum]" not in err.getvalue()
    assert "another run is writing" in err.getvalue()


def test_a_resaved_or_damaged_earlier_run_never_stops_the_next(tmp_path, small_cohort):
    root = tmp_path / "o"
    assert run_pipeline(small_cohort, root)[0] == 0
    first = (root / LATEST).resolve()
    # A spreadsheet re-saves the patient-level file with ';' : it is never read back.
    classified = first / "classified.csv"
    classified.write_text(classified.read_text().replace(",", ";"))
    code, _, lines = run_pipeline(small_cohort, root)
    assert code == 0 and lines == []
    second = (root / LATEST).resolve()
    assert json.loads((second / "changes.json").read_text())["patients"]["added"] == 0
    # A damaged snapshot and summary: the comparison is skipped, in one line.
    (second / "snapshot.parquet").write_bytes(b"not parquet")
    (second / "summary.json").write_text("{")
    code, _, lines = run_pipeline(small_cohort, root)
    assert code == 0
    assert lines == [
        "imnm-cohort: note: changes since the previous run not compared: the previous run's "
        "snapshot.parquet cannot be read (ArrowInvalid)"
    ]
    assert not ((root / LATEST).resolve() / "changes.json").exists()


def test_classify_refuses_to_overwrite_its_input(tmp_path):
    extract = tmp_path / "x.csv"
    extract.write_bytes((FILES / "byte_order_mark.csv").read_bytes())
    before = extract.read_bytes()
    for output in (extract, tmp_path / "." / "x.csv"):
        code, _, lines = run("classify", str(extract), "-o", str(output))
        assert code == 2 and lines == [
            f"imnm-cohort: error: {output}: is the input file itself; choose another output file"
        ]
    quarantine_named = tmp_path / "y.quarantine.csv"
    quarantine_named.write_bytes(before)
    code, _, lines = run("classify", str(quarantine_named), "-o", str(tmp_path / "y.csv"))
    assert code == 2 and "is the input file itself" in lines[0]
    assert extract.read_bytes() == before


# --------------------------------------------------------------------------- data read exactly


def test_timezone_aware_dates_keep_their_local_calendar_date(tmp_path):
    frame = pd.read_parquet(FILES / "timezone_aware_dates.parquet")
    assert str(frame["birth_date"].dtype) == "datetime64[ns, Europe/Paris]"
    code, _, _ = run("validate", str(FILES / "timezone_aware_dates.parquet"), "-o", str(tmp_path))
    valid = pd.read_csv(tmp_path / "valid.csv", dtype=str)
    assert code == 0
    assert valid["birth_date"].tolist() == ["1955-03-01"] * 3
    assert valid["onset_date"].tolist() == ["2015-06-01"] * 3


def test_extra_columns_are_carried_whatever_their_names(tmp_path):
    out = tmp_path / "c.csv"
    assert run("classify", str(FILES / "reserved_extra_names.csv"), "-o", str(out))[0] == 0
    got = pd.read_csv(out, dtype=str)
    assert got["imnm_group"].tolist() == ["hmgcr"] * 3  # the toolkit's own column
    assert got["extract.imnm_group"].tolist() == ["hmgcr"] * 3
    assert got["extract.row_number"].tolist() == ["7"] * 3
    assert got["extract.criteria"].tolist() == ["mine"] * 3
    assert got["extract.age_at_onset_years"].tolist() == ["12"] * 3
    assert run("classify", str(FILES / "case_colliding_extras.csv"), "-o", str(out))[0] == 0
    got = pd.read_csv(out, dtype=str)
    assert (got["site"] + got["Site"] + got[" site"]).tolist() == ["abc"] * 3
    assert run("classify", str(FILES / "blank_extra_headers.csv"), "-o", str(out))[0] == 0
    assert [c for c in pd.read_csv(out).columns if c.startswith("column_")] == [
        "column_30",
        "column_31",
    ]


def test_runs_on_dates_at_the_edges_of_the_range(tmp_path):
    rows = patients({"hmgcr": 6, "seronegative": 6})
    for row in rows[:3]:
        row.update(birth_date="1677-09-22", statin_start_date="1677-09-23")
    rows[3].update(
        onset_date="2262-04-09", diagnosis_date="2262-04-10", last_followup_date="2262-04-11"
    )
    rows[4].update(cancer_date="1677-09-23", cancer_icd10="C50.9")
    extract = write_csv(rows, tmp_path / "edges.csv")
    code, _, lines = run_pipeline(extract, tmp_path / "o")
    assert code == 0, lines
    classified = pd.read_csv(tmp_path / "o" / LATEST / "classified.csv")
    age = classified["age_at_onset_years"].iloc[0]
    assert age == pytest.approx((dt.date(2015, 6, 1) - dt.date(1677, 9, 22)).days / 365.25)
    assert classified["birth_date"].iloc[0] == "1677-09-22"


# --------------------------------------------------------------------------- formulas


def test_no_live_formula_in_any_patient_level_file(tmp_path):
    rows = patients({"hmgcr": 6, "seronegative": 6})
    rows[0]["patient_id"] = '=HYPERLINK("http://example.invalid","x")'
    rows[1]["patient_id"] = "=+SUM(1,2)"
    rows[2]["patient_id"] = "@SUM(A1)"
    rows[3]["notes"] = "-2+3"
    rows[4]["sex"] = "=1+1"  # quarantined, formula kept as read
    for row in rows:
        row.setdefault("notes", "+cmd|' /C calc'!A0")
    extract = write_csv(rows, tmp_path / "f.csv")
    assert run_pipeline(extract, tmp_path / "o")[0] == 0
    for name in ("classified.csv", "quarantine.csv"):
        assert live_formulas(tmp_path / "o" / LATEST / name) == [], name


# --------------------------------------------------------------------------- subtraction


def _aggregate_jsons(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}


#: A Table 1 of the bundled REDCap export's mapped extract: missing values
#: left out of the denominators, a user label, a free-text contract column.
CUSTOM_TABLE_ONE = {
    "missing": '"exclude"',
    "variables": '["sex", { column = "weakness_course", label = "<b>Course</b>" }, '
    '{ column = "ck_peak", summary = "mean_sd" }, "cancer_icd10"]',
}


@pytest.mark.parametrize("variant", ["plain", "rates", "mapping"])
def test_every_integer_of_every_aggregate_output_is_declared(tmp_path, small_cohort, variant):
    from imnm_cohort.pipeline.config import load_pipeline
    from imnm_cohort.pipeline.run import run_pipeline as run_it

    data = ROOT / "imnm_cohort" / "data"
    rates = variant != "plain"
    analysis = {"reference_rates": f'"{data / "illustrative_rates.csv"}"'} if rates else {}
    sections: dict[str, dict[str, object]] = {"analysis": analysis}
    extract = small_cohort
    if variant == "mapping":
        extract = data / "redcap_export.csv"
        sections["table_one"] = CUSTOM_TABLE_ONE
    path = pipeline(tmp_path, extract, **sections)
    if variant == "mapping":
        mapping = f'mapping = "{data / "redcap_export.mapping.toml"}"\n'
        path.write_text(path.read_text().replace("[output]", mapping + "[output]", 1))
    config = load_pipeline(path)
    assert (config.reference_rates is not None) is rates
    assert (config.mapping is not None) is (variant == "mapping")
    run_it(config)
    result = run_it(config)  # the second run has changes.json too
    outputs = _aggregate_jsons(result.folder)
    assert set(outputs) == {"summary.json", "changes.json", "manifest.json"}
    assert bool(outputs["summary.json"]["population_rates"]) is rates
    assert set(result.declarations) == set(outputs)
    for name, data in outputs.items():
        numbers = [p for p, v in leaves(data) if isinstance(v, int) and not isinstance(v, bool)]
        assert numbers, name
        uncovered = [p for p in numbers if not covers(result.declarations[name], p)]
        assert uncovered == [], name
    assert outputs["manifest.json"]["disclosure"]["undeclared"] == []
    if variant == "mapping":
        assert isinstance(outputs["summary.json"]["counts"]["export_rows"], int)
        assert outputs["summary.json"]["table_one"]["missing_values"] == "exclude"


def test_table_one_overall_minus_the_groups_gives_nothing(small_run):
    t1 = json.loads((small_run / "summary.json").read_text())["table_one"]
    n = t1["n"]
    assert n["srp"] == "<5"
    assert sum(isinstance(n[g], str) for g in ("hmgcr", "srp", "seronegative", "overall")) >= 2
    categorical = {r["variable"]: r["cells"] for r in t1["rows"] if r["kind"] == "categorical"}
    assert categorical
    for variable, by in categorical.items():
        for level in by["overall"]["counts"]:
            row = [by[g]["counts"][level] for g in (*t1["groups"], "overall")]
            assert sum(isinstance(v, str) for v in row) != 1, (variable, level)
        for g in (*t1["groups"], "overall"):
            column = [*by[g]["counts"].values(), by[g]["denominator"]]
            assert sum(isinstance(v, str) for v in column) != 1, (variable, g)
            if isinstance(by[g]["denominator"], str):  # count / percent would give it back
                assert all(isinstance(v, str) for v in by[g]["percent"].values())


def test_a_withheld_cell_never_states_something_false(small_run):
    summary = json.loads((small_run / "summary.json").read_text())
    assert summary["groups"]["srp"] == "<5"
    shown_as_small = [v for p, v in leaves(summary) if v == "<5"]
    assert shown_as_small
    # Every '<5' is a count from 1 to 4 in the unsuppressed data; the others say [withheld].
    assert summary["groups"]["seronegative"] == WITHHELD
    report = (small_run / "report.md").read_text()
    assert "\\[withheld\\]" in report and "is a count from 1 to 4, withheld" in report
    html = (small_run / "report.html").read_text()
    assert "[withheld]" in html and "is a count from 1 to 4, withheld" in html


def test_survival_is_withheld_next_to_withheld_deaths(small_run):
    groups = json.loads((small_run / "summary.json").read_text())["survival"]["groups"]
    for g in groups.values():
        if isinstance(g["deaths"], str):
            assert g["survival_at_horizon"] == g["ci_at_horizon"] == WITHHELD


def test_a_group_of_five_shows_no_mean_sd_or_range(tmp_path):
    extract = write_csv(patients({"hmgcr": 20, "seronegative": 5}), tmp_path / "five.csv")
    assert run_pipeline(extract, tmp_path / "o")[0] == 0
    summary = json.loads((tmp_path / "o" / LATEST / "summary.json").read_text())
    five = summary["comparisons"]["onset_age"]["groups"]["seronegative"]
    assert five["n"] == 5 and isinstance(five["median"], float)
    assert five["mean"] == five["sd"] == five["min"] == five["max"] == WITHHELD
    twenty = summary["comparisons"]["onset_age"]["groups"]["hmgcr"]
    assert isinstance(twenty["mean"], float) and twenty["min"] == WITHHELD


def test_changes_do_not_give_back_a_withheld_count(tmp_path):
    root = tmp_path / "o"
    before = patients({"hmgcr": 20, "seronegative": 20})
    assert run_pipeline(write_csv(before, tmp_path / "a.csv"), root)[0] == 0
    after = [dict(r) for r in before[:-1]] + patients({"srp": 2})  # 2 added, 1 removed
    for row in after[:7]:
        row.update(anti_hmgcr="negative")  # 7 hmgcr patients become seronegative
    after[0].update(biopsy_necrosis="absent")  # ... and one of them not IMNM
    assert run_pipeline(write_csv(after, tmp_path / "b.csv"), root)[0] == 0
    changes = json.loads((root / LATEST / "changes.json").read_text())
    patients_ = changes["patients"]
    assert patients_["added"] == "<5" and patients_["removed"] in ("<5", WITHHELD)
    transitions = [*changes["transitions"].values(), patients_["changed"]]
    assert sum(isinstance(v, str) for v in transitions) != 1
    for estimate in changes["estimates"]:
        if estimate["estimate"].startswith("groups."):
            assert isinstance(estimate["previous"], str), estimate  # a marker, never a number
            assert isinstance(estimate["current"], str), estimate


def test_a_small_group_curve_is_not_drawn_step_by_step(small_cohort):
    from imnm_cohort import analyse, classify, load_extract
    from imnm_cohort.analysis.plotdata import figure_data

    classified = classify(load_extract(small_cohort).valid)
    data = figure_data(classified, analyse(classified, n_boot=10), 5)
    for curve in (*data.survival, *data.incidence):
        assert all(float(t).is_integer() for t in curve.time), curve.label


def test_rounding_policy_end_to_end(tmp_path, small_cohort):
    path = pipeline(tmp_path, small_cohort, disclosure={"min_cell_count": 5, "rounding": 5})
    assert run("run", str(path))[0] == 0
    folder = tmp_path / "out" / LATEST
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["counts"]["input_rows"] == 20  # 18 rounded to the nearest 5
    assert summary["groups"]["hmgcr"] == 10 and summary["groups"]["srp"] == "<=5"
    assert summary["groups"]["seronegative"] == "<=5"
    for _, v in leaves(summary["groups"]):
        assert isinstance(v, str) or v % 5 == 0
    assert "rounded to the nearest 5" in (folder / "report.md").read_text()


# --------------------------------------------------------------------------- injection


def test_names_from_the_data_are_inert_in_markdown_and_html(tmp_path):
    extract = tmp_path / INJECTION_NAME
    extract.write_bytes((FILES / "name_injection.csv").read_bytes())
    assert run_pipeline(extract, tmp_path / "o")[0] == 0
    md = (tmp_path / "o" / LATEST / "report.md").read_text()
    assert "[click me](" not in md and not re.search(r"(?<!\\)<img", md)
    assert "\\[click me\\]\\(javascript:alert\\(1\\)\\)" in md
    html = (tmp_path / "o" / LATEST / "report.html").read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    code, _, _ = run("validate", str(extract), "-o", str(tmp_path / "v"))
    assert code == 0
    assert "[click me](" not in (tmp_path / "v" / "validation_report.md").read_text()


def test_validate_refuses_to_overwrite_its_input(tmp_path):
    extract = tmp_path / "valid.csv"
    extract.write_bytes((FILES / "byte_order_mark.csv").read_bytes())
    code, _, lines = run("validate", str(extract), "-o", str(tmp_path))
    assert code == 2 and "is the input file itself" in lines[0]


def test_a_file_level_message_shows_empty_cells_as_empty(tmp_path):
    rows = patients({"hmgcr": 12}, sex="")
    code, _, lines = run("validate", str(write_csv(rows, tmp_path / "no_sex.csv")))
    assert code == 1 and len(lines) == 1
    assert "(for example '(empty)'" in lines[0] and "<NA>" not in lines[0]


def test_a_cox_model_that_cannot_be_fitted_is_reported_not_raised(monkeypatch):
    import imnm_cohort.analysis.survival as survival
    from imnm_cohort import classify, synthesize, validate_extract

    classified = classify(validate_extract(synthesize(1000, seed=5)).valid)
    fitted = survival.cause_specific_cox(classified)
    assert fitted.terms and fitted.reason is None

    def singular(*args: object, **kwargs: object) -> None:
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(survival, "zph_test", singular)
    no_check = survival.cause_specific_cox(classified)
    assert [t.hazard_ratio for t in no_check.terms] == [t.hazard_ratio for t in fitted.terms]
    assert all(t.ph_p_value is None for t in no_check.terms)

    monkeypatch.setattr(survival, "fit_cox", singular)
    failed = survival.cause_specific_cox(classified)
    assert failed.terms == () and failed.reason.startswith("the model could not be fitted")


def test_figures_show_no_count_the_summary_withholds(small_run):
    summary = json.loads((small_run / "summary.json").read_text())
    assert summary["survival"]["groups"]["seronegative"]["n"] == WITHHELD
    svg = (small_run / "figures" / "survival.svg").read_text()
    # A group whose size or events are withheld is not drawn; its legend entry says why.
    assert 'id="curve-seronegative"' not in svg
    assert "seronegative" not in svg or "not shown" in svg
    assert "not shown: fewer than 5 patients" in svg


def test_a_run_whose_latest_cannot_be_switched_is_taken_back(tmp_path, small_cohort, monkeypatch):
    import imnm_cohort.pipeline.runfolder as runfolder

    root = tmp_path / "o"
    assert run_pipeline(small_cohort, root)[0] == 0
    before = sorted(p.name for p in root.iterdir())

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runfolder, "point_latest", full)
    code, _, lines = run_pipeline(small_cohort, root)
    assert code == 1 and len(lines) == 1 and "the disk is full" in lines[0]
    assert sorted(p.name for p in root.iterdir()) == before


@pytest.mark.parametrize("text", ["", "../elsewhere", ".incomplete-x", "a/b", "missing-run"])
def test_a_latest_file_naming_no_run_folder_is_ignored(tmp_path, text):
    from imnm_cohort.pipeline.runfolder import latest_run

    (tmp_path / "elsewhere").mkdir()
    (tmp_path / LATEST).write_text(text + "\n")
    assert latest_run(tmp_path) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n", "1000000000000"], "--n must be between 1 and 10,000,000"),
        (["--n", "0"], "--n must be between 1 and 10,000,000"),
        (["--n", "5", "--seed", "-1"], "--seed must be between 0 and 4294967295"),
    ],
)
def test_synth_refuses_huge_or_negative_numbers(tmp_path, argv, message):
    code, _, lines = run("synth", *argv, "-o", str(tmp_path / "s.csv"))
    assert code == 2 and lines == [f"imnm-cohort: error: {message}"]


@pytest.mark.parametrize("command", ["validate", "classify", "synth"])
def test_every_command_meets_a_read_only_folder_in_one_line(tmp_path, monkeypatch, command):
    import tempfile

    folder = tmp_path / "ro"
    folder.mkdir()

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    import pyarrow.csv

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setattr(pyarrow.csv, "write_csv", refuse)
    extract = str(FILES / "duplicate_ids.csv")
    argv = {
        "validate": ["validate", extract, "-o", str(folder)],
        "classify": ["classify", extract, "-o", str(folder / "c.csv")],
        "synth": ["synth", "--n", "5", "-o", str(folder / "s.csv")],
    }[command]
    code, _, lines = run(*argv)
    assert code == 2
    assert lines == [
        f"imnm-cohort: error: {folder}: cannot write to the output folder (Permission denied)"
    ]
    assert list(folder.iterdir()) == []


def test_an_output_folder_that_is_a_file_is_one_line_exit_2(tmp_path, small_cohort):
    not_a_folder = tmp_path / "report"
    not_a_folder.write_text("keep me")
    code, _, lines = run_pipeline(small_cohort, not_a_folder)
    assert code == 2 and len(lines) == 1 and "is a file, not a folder" in lines[0]
    assert not_a_folder.read_text() == "keep me"


def test_map_and_draft_mapping_refuse_to_overwrite_their_inputs(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes((FILES / "byte_order_mark.csv").read_bytes())
    mapping = tmp_path / "m.toml"
    mapping.write_text("[columns]\n")
    code, _, lines = run("map", str(export), "--mapping", str(mapping), "-o", str(export))
    assert code == 2 and "is the input file itself" in lines[0]
    dictionary = tmp_path / "dict.csv"
    dictionary.write_text("x\n")
    code, _, lines = run(
        "draft-mapping", "--redcap-dictionary", str(dictionary), "-o", str(dictionary)
    )
    assert code == 2 and "is the input file itself" in lines[0]
    assert dictionary.read_text() == "x\n"
