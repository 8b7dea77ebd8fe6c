"""End to end through ``main(argv)``: synth, validate, classify, criteria; exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.synth import DEMO_REGISTRY
from tests.pipeline.readers import run


def test_synth_is_deterministic_for_a_seed(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.parquet"
    assert run("synth", "--n", "200", "--seed", "3", "-o", str(a))[0] == 0
    assert run("synth", "--n", "200", "--seed", "3", "-o", str(b))[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert run("synth", "--n", "200", "--seed", "3", "-o", str(c))[0] == 0
    assert len(pd.read_parquet(c)) == 200


def test_validate_writes_every_output(tmp_path):
    extract = tmp_path / "x.csv"
    run("synth", "--n", "500", "--seed", "1", "--dirty", "0.1", "-o", str(extract))
    code, out, _ = run("validate", str(extract), "-o", str(tmp_path / "v"))
    assert code == 0
    # --dirty 0.1 of 500 rows: 50 rows get one rule-breaking defect each (synth._make_dirty).
    assert "500 rows: 450 valid, 50 quarantined" in out
    names = sorted(p.name for p in (tmp_path / "v").iterdir())
    assert names == sorted(
        [
            "valid.csv",
            "quarantine.csv",
            "quarantine_reasons.csv",
            "data_quality_warnings.csv",
            "validation_report.json",
            "validation_report.md",
        ]
    )
    report = json.loads((tmp_path / "v" / "validation_report.json").read_text())
    assert report["counts"] == {"input_rows": 500, "valid_rows": 450, "quarantined_rows": 50}
    text = (tmp_path / "v" / "validation_report.json").read_text()
    text += (tmp_path / "v" / "validation_report.md").read_text()
    assert "SYN" not in text  # aggregate: no patient ids
    quarantine = pd.read_csv(tmp_path / "v" / "quarantine.csv")
    assert len(quarantine) == 50 and quarantine["quarantine_reasons"].notna().all()


def test_validate_without_output_dir_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("validate", str(DEMO_REGISTRY))
    assert code == 0 and "3000 rows" in out  # the bundled demo has DEMO_SIZE = 3,000 rows
    assert list(tmp_path.iterdir()) == []


def test_strict_exit_3_when_rows_are_quarantined(tmp_path):
    code, _, _ = run("validate", str(DEMO_REGISTRY), "--strict", "-o", str(tmp_path / "v"))
    assert code == 3
    assert (tmp_path / "v" / "quarantine.csv").exists()
    clean = tmp_path / "clean.csv"
    run("synth", "--n", "100", "-o", str(clean))
    assert run("validate", str(clean), "--strict")[0] == 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_classify_writes_groups_and_reasons(tmp_path, suffix):
    target = tmp_path / f"classified{suffix}"
    code, out, _ = run("classify", str(DEMO_REGISTRY), "--criteria", "enmc2017", "-o", str(target))
    assert code == 0
    frame = pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target)
    assert {
        "imnm_group",
        "criteria",
        "classification_reasons",
        "age_at_onset_years",
        "statin_latency_months",
        "followup_years",
        "site",
    } <= set(frame.columns)
    assert set(frame["criteria"]) == {"enmc2017"}
    assert "group   hmgcr" in out and "reason  r6_hmgcr_imnm" in out
    quarantine = target.with_name(target.stem + ".quarantine.csv")
    assert len(frame) + len(pd.read_csv(quarantine)) == 3000  # nothing lost of the demo's 3,000


def test_classified_csv_reads_back_as_an_extract(tmp_path):
    target = tmp_path / "c.csv"
    run("classify", str(DEMO_REGISTRY), "-o", str(target))
    code, out, _ = run("validate", str(target))
    assert code == 0 and "0 quarantined" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required"),
        (["frobnicate"], "invalid choice"),
        (["synth", "--n", "10"], "-o/--output"),
        (["synth", "--n", "0", "-o", "x.csv"], "--n must be between 1 and 10,000,000"),
        (["synth", "--n", "5", "--dirty", "2", "-o", "x.csv"], "--dirty"),
        (["synth", "--n", "5", "-o", "x.txt"], ".csv or .parquet"),
        (
            ["classify", str(DEMO_REGISTRY), "--criteria", "who", "-o", "x.csv"],
            "unknown criteria set 'who'",
        ),
        (["classify", str(DEMO_REGISTRY), "-o", "x.json"], ".csv or .parquet"),
    ],
)
def test_usage_errors_exit_2_with_one_message(argv, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(*argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_criteria_lists_sets_and_codes():
    code, out, _ = run("criteria")
    assert code == 0
    assert "tma2025" in out and "enmc2017" in out and "r11_inflammation_prominent" in out


def test_quiet_prints_nothing(tmp_path):
    code, out, err = run("-q", "synth", "--n", "10", "-o", str(tmp_path / "q.csv"))
    assert (code, out, err) == (0, "", "")


def test_version():
    code, _, _ = run("--version")
    assert code == 0


def test_python_dash_m_works(tmp_path):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "imnm_cohort", "criteria"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "tma2025" in done.stdout
    assert Path(DEMO_REGISTRY).exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_analyse_progress_is_a_bar_on_a_terminal():
    from imnm_cohort.cli import _Printer

    err = _Terminal()
    say = _Printer(io.StringIO(), err, quiet=False)
    for done in range(3):
        say.analysis(done, 3, f"step{done}")
    say.analysis(3, 3, "")
    assert err.getvalue() == "".join(
        f"\r\x1b[K... analyse [{'#' * d}{'-' * (3 - d)}] {d}/3 step{d}" for d in range(3)
    )


def test_classify_in_batches_writes_what_the_in_memory_path_writes(tmp_path):
    extract = tmp_path / "x.csv"
    run("synth", "--n", "700", "--seed", "4", "--dirty", "0.05", "-o", str(extract))
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    code_a, out_a, _ = run("classify", str(extract), "-o", str(a))
    code_b, out_b, err_b = run("classify", str(extract), "-o", str(b), "--batch-rows", "150")
    assert code_a == code_b == 0
    assert "[validate + classify, 5 batches]" in err_b
    assert out_a.replace("a.", "b.") == out_b
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "a.quarantine.csv").read_bytes() == (
        tmp_path / "b.quarantine.csv"
    ).read_bytes()
    assert run("classify", str(extract), "-o", str(b), "--batch-rows", "0")[0] == 2


def test_exit_codes_are_chosen_in_one_place():
    from imnm_cohort import errors
    from imnm_cohort.cli import EXIT_CODES, exit_code, strict_exit_code

    assert exit_code(errors.RunLockedError("x")) == 4
    assert exit_code(errors.UnknownCriteriaError("x")) == 2
    assert exit_code(errors.FileLevelError("f", "c", "r", 9, 10, ())) == 1
    assert exit_code(errors.ImnmCohortError("x")) == 1
    assert {code for _, code in EXIT_CODES} == {1, 2, 4}
    assert (strict_exit_code(True, 3), strict_exit_code(False, 3), strict_exit_code(True, 0)) == (
        3,
        0,
        0,
    )
    assert not any(hasattr(kind, "exit_code") for kind, _ in EXIT_CODES)
