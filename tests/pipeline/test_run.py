"""End to end: `imnm-cohort run` through main(argv) on synthetic registries."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.pipeline.runfolder import LOCK_NAME
from imnm_cohort.synth import DEMO_DIRTY, DEMO_REGISTRY, DEMO_SIZE
from tests.pipeline.readers import aggregate_texts, run

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "summary.schema.json").read_text())
AGGREGATE = ("report.html", "report.md", "summary.json", "manifest.json", "changes.json")
CONTRACT_FILES = {
    "report.html",
    "report.md",
    "summary.json",
    "classified.csv",
    "quarantine.csv",
    "manifest.json",
}


def runs(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and not p.is_symlink()
    )


def test_demo_run_writes_every_contract_file(demo_run):
    root, out, err = demo_run
    latest = root / "latest"
    assert latest.is_symlink()
    assert {p.name for p in latest.iterdir()} >= CONTRACT_FILES
    assert f"report: {latest.resolve() / 'report.html'}" in out
    stages = [
        line for line in err.splitlines() if line.startswith("[") and "/" not in line.split("]")[0]
    ]
    assert [s.split("]")[0][1:] for s in stages] == [
        "read",
        "validate",
        "classify",
        "analyse",
        "disclose",
        "self-check",
        "render",
        "write",
    ]
    assert re.match(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$", latest.resolve().name)
    # Not a terminal: one plain line per analysis, before the analyse stage's timing.
    analyses = [line for line in err.splitlines() if line.startswith("[analyse ")]
    assert analyses == [
        f"[analyse {i}/10] {name}"
        for i, name in enumerate(
            [
                "table_one",
                "onset_age",
                "ck_peak",
                "statin_latency",
                "malignancy",
                "survival",
                "cox",
                "fine_gray",  # the registry's order, that of summary.json
                "time_since_onset",
                "population",  # the demo pipeline names reference rates
            ],
            start=1,
        )
    ]
    lines = err.splitlines()
    assert lines.index(analyses[-1]) < lines.index(next(s for s in stages if "[analyse]" in s))


def test_summary_matches_the_contract_and_its_schema(demo_run):
    root, _, _ = demo_run
    summary = json.loads((root / "latest" / "summary.json").read_text())
    jsonschema.validate(summary, SCHEMA)
    assert summary["criteria"] == "tma2025"
    # The bundled demo: DEMO_SIZE = 3,000 synthetic patients, DEMO_DIRTY = 1% (30 rows) given
    # one rule-breaking defect each by the generator.
    assert (DEMO_SIZE, round(DEMO_SIZE * DEMO_DIRTY)) == (3000, 30)
    assert summary["counts"] == {"input_rows": 3000, "valid_rows": 2970, "quarantined_rows": 30}
    assert sum(v for v in summary["groups"].values() if isinstance(v, int)) <= 2970


def test_manifest_records_versions_hashes_and_counts(demo_run):
    root, _, _ = demo_run
    folder = root / "latest"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (
        manifest["input"]["sha256"]
        == __import__("hashlib").sha256(DEMO_REGISTRY.read_bytes()).hexdigest()
    )
    # Demo counts as in test_summary_matches_the_contract_and_its_schema.
    assert manifest["rows"] == {"input": 3000, "valid": 2970, "quarantined": 30, "classified": 2970}
    assert {"pandas", "scipy", "lifelines", "pandera"} <= set(manifest["dependencies"])
    assert manifest["run"]["status"] == "rows_quarantined"  # the demo has 30 defective rows
    assert manifest["run"]["strict"] is False
    for name, digest in manifest["outputs"].items():
        assert __import__("hashlib").sha256((folder / name).read_bytes()).hexdigest() == digest
    assert set(manifest["timings_seconds"]) >= {"validate", "classify", "analyse", "write"}
    assert manifest["disclosure"]["min_cell_count"] == 5


def test_aggregate_outputs_carry_no_identifier_or_patient_date(demo_run):
    root, _, _ = demo_run
    extract = pd.read_csv(DEMO_REGISTRY, dtype=str)
    ids = set(extract["patient_id"].dropna())
    dates = set()
    for column in (
        "birth_date",
        "onset_date",
        "diagnosis_date",
        "last_followup_date",
        "death_date",
        "statin_start_date",
        "statin_stop_date",
        "cancer_date",
    ):
        dates |= set(extract[column].dropna())
    texts = aggregate_texts(root / "latest")
    # Every aggregate file: reports, JSON, the Word and Excel tables, the figures' text.
    assert {"tables.docx", "tables.xlsx", "figures/survival.svg", "figures/survival.pdf"} <= set(
        texts
    )
    blob = "\n".join(texts.values())
    found_ids = set(re.findall(r"SYN\d{4}-\d{7}", blob))
    assert not found_ids & ids
    found_dates = set(re.findall(r"\d{4}-\d{2}-\d{2}", blob))
    assert not found_dates & dates


def test_report_html_is_self_contained(demo_run):
    root, _, _ = demo_run
    html = (root / "latest" / "report.html").read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert html.count("<svg") == 5
    for section in (
        "Cohort flow",
        "Data quality",
        "Table 1",
        "Group comparisons",
        "Figures",
        "Malignancy",
        "Methods",
        "Run",
    ):
        assert section in html


@pytest.mark.slow
def test_determinism_same_input_same_summary(tmp_path):
    extract = write_extract(synthesize(600, seed=21), tmp_path / "x.csv")
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("run", "--input", str(extract), "--output-dir", str(a))[0] == 0
    assert run("run", "--input", str(extract), "--output-dir", str(b))[0] == 0
    sa = (a / "latest" / "summary.json").read_text()
    assert sa == (b / "latest" / "summary.json").read_text()
    for name in ("report.md",):
        ta = re.sub(r"run \S+, generated [^,]+,", "", (a / "latest" / name).read_text())
        tb = re.sub(r"run \S+, generated [^,]+,", "", (b / "latest" / name).read_text())
        assert ta == tb
    fa = sorted((a / "latest" / "figures").iterdir())
    assert [p.read_bytes() for p in fa] == [
        (b / "latest" / "figures" / p.name).read_bytes() for p in fa
    ]


@pytest.mark.slow
def test_values_from_the_data_are_escaped(tmp_path):
    nasty = tmp_path / "x<script>alert(1)<!--.csv"
    nasty.write_bytes(DEMO_REGISTRY.read_bytes())
    code, _, err = run("run", "--input", str(nasty), "--output-dir", str(tmp_path / "o"))
    assert code == 0, err
    html = (tmp_path / "o" / "latest" / "report.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;!--" in html
    assert "<script>" not in (tmp_path / "o" / "latest" / "report.md").read_text()


@pytest.mark.slow
def test_small_counts_are_withheld_on_a_tiny_registry(tmp_path):
    extract = write_extract(synthesize(40, seed=2), tmp_path / "tiny.csv")
    assert run("run", "--input", str(extract), "--output-dir", str(tmp_path / "o"))[0] == 0
    folder = tmp_path / "o" / "latest"
    summary = json.loads((folder / "summary.json").read_text())
    jsonschema.validate(summary, SCHEMA)
    small = [v for v in summary["groups"].values() if isinstance(v, int) and 0 < v < 5]
    assert not small
    assert "<5" in json.dumps(summary)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["disclosure"]["withheld_count"] > 0
    assert "&lt;5" in (folder / "report.html").read_text()


def test_suppression_can_be_turned_off(tmp_path):
    extract = write_extract(synthesize(40, seed=2), tmp_path / "tiny.csv")
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(
        f'[input]\nextract = "{extract}"\n[disclosure]\nmin_cell_count = 0\n'
        f'[output]\nroot = "out"\n'
    )
    assert run("run", str(pipeline))[0] == 0
    summary = (tmp_path / "out" / "latest" / "summary.json").read_text()
    assert "<5" not in summary


@pytest.mark.slow
def test_a_failed_run_leaves_the_earlier_run_and_latest_intact(tmp_path, monkeypatch):
    root = tmp_path / "o"
    assert run("run", "--output-dir", str(root))[0] == 0
    before = (root / "latest").resolve()
    import imnm_cohort.outputs.text as text_outputs

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(text_outputs, "render_html", broken)
    code, _, err = run("run", "--output-dir", str(root))
    assert code == 1
    (line,) = [x for x in err.splitlines() if not x.startswith("[")]
    assert "unexpected internal error (RuntimeError: disk full); details in " in line
    log = Path(line.rsplit("details in ", 1)[1])
    assert log.parent == root and "Traceback" in log.read_text()
    assert not (root / ".imnm-cohort.lock").exists()
    assert (root / "latest").resolve() == before
    assert runs(root) == [before]
    assert not list(root.glob(".incomplete-*"))


@pytest.mark.slow
def test_a_killed_run_leaves_the_earlier_run_intact(tmp_path):
    root = tmp_path / "o"
    extract = write_extract(synthesize(30000, seed=4), tmp_path / "big.csv")
    assert run("run", "--output-dir", str(root))[0] == 0
    before = (root / "latest").resolve()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "imnm_cohort",
            "-q",
            "run",
            "--input",
            str(extract),
            "--output-dir",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not list(root.glob(".incomplete-*")) and time.monotonic() < deadline:
        if child.poll() is not None:
            break
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert (root / "latest").resolve() == before
    assert runs(root) == [before]
    # The next run clears what the killed one left and completes.
    assert run("run", "--output-dir", str(root))[0] == 0
    assert not list(root.glob(".incomplete-*"))
    assert len(runs(root)) == 2


def test_a_second_run_on_a_locked_root_exits_4_and_writes_nothing(tmp_path):
    root = tmp_path / "o"
    root.mkdir()
    with (root / LOCK_NAME).open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        code, _, err = run("run", "--output-dir", str(root))
    assert code == 4
    lines = [line for line in err.splitlines() if not line.startswith("[analyse ")]
    assert "another run is writing" in err and len(lines) <= 8
    assert sorted(p.name for p in root.iterdir()) == [LOCK_NAME]


@pytest.mark.slow
def test_changes_between_two_runs(tmp_path):
    root = tmp_path / "o"
    first = synthesize(800, seed=31)
    path = write_extract(first, tmp_path / "m1.csv")
    assert run("run", "--input", str(path), "--output-dir", str(root))[0] == 0
    second = first.iloc[10:].copy()  # 10 patients removed
    second = pd.concat([second, synthesize(805, seed=32).iloc[800:]])  # ids 800..804 added
    # Three patients get a confirmed hereditary myopathy: rule 1 makes them not_imnm, so
    # each whose group was something else changes group.
    turned = second.index[:3]
    second.loc[turned, "hereditary_myopathy"] = "true"
    unknown = second["death_date"].isna() & second["cancer_date"].isna()
    target = second.index[unknown.to_numpy()][:6]
    second.loc[target, "cancer_date"] = second.loc[target, "last_followup_date"]
    path2 = write_extract(second, tmp_path / "m2.csv")
    assert run("run", "--input", str(path2), "--output-dir", str(root))[0] == 0
    changes = json.loads((root / "latest" / "changes.json").read_text())
    old = set(first["patient_id"])
    new = set(second["patient_id"])
    assert changes["patients"]["removed"] == len(old - new) == 10
    assert changes["patients"]["added"] == len(new - old) == 5
    assert changes["patients"]["new_cancers"] == 6
    from imnm_cohort import classify, validate_extract

    before = classify(validate_extract(first.loc[turned]).valid)["imnm_group"].astype(str)
    expected = int((before != "not_imnm").sum())
    assert changes["patients"]["changed"] == ("<5" if 0 < expected < 5 else expected)
    # Two runs in the same second sort by their hash, not by time: the previous run is the
    # one that ``latest`` does not point at.
    latest = (root / "latest").resolve().name
    assert [changes["previous_run"]] == [r.name for r in runs(root) if r.name != latest]
    html = (root / "latest" / "report.html").read_text()
    assert "Changes since the previous run" in html
    assert not re.search(r"SYN\d{4}-\d{7}", json.dumps(changes))


@pytest.mark.slow
def test_changes_with_suppression_off_count_every_transition(tmp_path):
    first = synthesize(300, seed=41)
    second = first.copy()
    second.loc[second.index[:7], "hereditary_myopathy"] = "true"
    p1, p2 = write_extract(first, tmp_path / "a.csv"), write_extract(second, tmp_path / "b.csv")
    for extract in (p1, p2):
        (tmp_path / "p.toml").write_text(
            f'[input]\nextract = "{extract}"\n[disclosure]\nmin_cell_count = 0\n'
            '[output]\nroot = "out"\n'
        )
        assert run("run", str(tmp_path / "p.toml"))[0] == 0
    changes = json.loads((tmp_path / "out" / "latest" / "changes.json").read_text())
    old = first.iloc[:7]
    from imnm_cohort import classify, validate_extract

    was = classify(validate_extract(old).valid)["imnm_group"].astype(str)
    expected = int((was != "not_imnm").sum())
    assert changes["patients"]["changed"] == expected
    assert sum(changes["transitions"].values()) == expected
    assert all(k.endswith("-> not_imnm") for k in changes["transitions"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[input]\nextract = "x.csv"\n[analysis]\nwindow = 3\n',
            "unknown key 'window' in [analysis]",
        ),
        (
            '[input]\nextract = "x.csv"\n[analysis]\nwindow_years = "3"\n',
            "[analysis] window_years must be int or float",
        ),
        ('[output]\nroot = "o"\n', "missing key 'extract' in [input]"),
        ('[input]\nextract = "x.csv"\n[reports]\ntitle = "x"\n', "unknown section [reports]"),
        (
            '[input]\nextract = "x.csv"\n[report]\ndata_cutoff = "31/12/2026"\n',
            "[report] data_cutoff must be a date YYYY-MM-DD",
        ),
        ('[input]\nextract = "x.csv"\n[report]\nauthors = [1]\n', "[report] authors"),
        ('[input]\nextract = "x.csv"\n[output]\nformats = [["html"]]\n', "formats"),
        (
            '[input]\nextract = "x.csv"\n[classification]\ncriteria = "who"\n',
            "criteria = 'who' is not a known criteria set",
        ),
        ('[input]\nextract = "x.csv"\n[analysis]\ntime_zero = "birth"\n', "time_zero"),
        ('[input]\nextract = "x.csv"\n[output]\nformats = ["pdf"]\n', "formats"),
        (
            '[input]\nextract = "x.csv"\n[disclosure]\nmin_cell_count = true\n',
            "min_cell_count must be int",
        ),
        ("[input\n", "not valid TOML"),
    ],
)
def test_bad_pipeline_files_exit_2_naming_key_and_file(tmp_path, text, message):
    pipeline = tmp_path / "bad.toml"
    pipeline.write_text(text)
    code, _, err = run("run", str(pipeline))
    assert code == 2
    assert message in err and "bad.toml" in err
    assert not (tmp_path / "reports").exists()


def test_missing_input_or_pipeline_exits_2_naming_key_and_file(tmp_path):
    pipeline = tmp_path / "p.toml"
    pipeline.write_text('[input]\nextract = "nowhere.csv"\n[output]\nroot = "o"\n')
    code, _, err = run("run", str(pipeline))
    assert code == 2 and "p.toml: [input] extract = 'nowhere.csv': no such file" in err
    assert not (tmp_path / "o").exists()
    code, _, err = run("run", "--input", str(tmp_path / "gone.csv"))
    assert code == 2 and "--input" in err and "gone.csv" in err
    assert run("run", str(tmp_path / "absent.toml"))[0] == 2


def test_an_unusable_extract_exits_1_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("patient_id;sex\nP1;female\n")
    code, _, err = run("run", "--input", str(bad), "--output-dir", str(tmp_path / "o"))
    assert code == 1 and "bad.csv" in err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.slow
def test_strict_exits_3_but_writes_the_report(tmp_path):
    code, _, _ = run("run", "--strict", "--output-dir", str(tmp_path))
    assert code == 3
    assert (tmp_path / "latest" / "report.html").exists()
    manifest = json.loads((tmp_path / "latest" / "manifest.json").read_text())
    assert manifest["run"]["status"] == "rows_quarantined" and manifest["run"]["strict"]


def test_shipped_demo_pipeline_matches_the_bundled_one():
    shipped = load_pipeline(ROOT / "pipelines" / "demo.toml")
    bundled = load_pipeline()
    assert shipped.extract == bundled.extract
    assert shipped.digest() == bundled.digest()


def test_example_pipeline_is_valid_where_its_extract_exists(tmp_path):
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "exports").mkdir()
    example = tmp_path / "pipelines" / "example.toml"
    example.write_text((ROOT / "pipelines" / "example.toml").read_text())
    (tmp_path / "exports" / "registry.csv").write_bytes(DEMO_REGISTRY.read_bytes())
    config = load_pipeline(example)
    assert config.extract == (tmp_path / "exports" / "registry.csv").resolve()
    assert config.output_root == (tmp_path / "reports" / "registry").resolve()
    assert config.criteria == "tma2025" and config.min_cell_count == 5


NOT_COUNTS = {
    "bootstrap",
    "seed",
    "df",
    "contract_version",
    "window_years",
    "horizon_years",
    "min_cell_count",
}


def _small_ints(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in NOT_COUNTS:
                yield from _small_ints(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _small_ints(value, f"{path}[{i}]")
    elif isinstance(node, int) and not isinstance(node, bool) and 0 < node < 5:
        yield path


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 3, 5])
def test_no_small_count_survives_in_any_aggregate_output(tmp_path, seed):
    extract = write_extract(synthesize(60, seed=seed, dirty=0.05), tmp_path / "tiny.csv")
    root = tmp_path / "o"
    assert run("run", "--input", str(extract), "--output-dir", str(root))[0] == 0
    assert run("run", "--input", str(extract), "--output-dir", str(root))[0] == 0
    for name in ("summary.json", "changes.json"):
        data = json.loads((root / "latest" / name).read_text())
        assert list(_small_ints(data)) == []


@pytest.mark.slow
def test_manifest_counts_are_withheld_like_the_summary(tmp_path):
    frame = synthesize(200, seed=6)
    frame.loc[frame.index[:3], "sex"] = "x"  # three quarantined rows
    extract = write_extract(frame, tmp_path / "three.csv")
    assert run("run", "--input", str(extract), "--output-dir", str(tmp_path / "o"))[0] == 0
    manifest = json.loads((tmp_path / "o" / "latest" / "manifest.json").read_text())
    assert manifest["rows"]["quarantined"] == "<5"
    assert manifest["rows"]["valid"] == "[withheld]"  # else 200 - valid would give it away
    summary = json.loads((tmp_path / "o" / "latest" / "summary.json").read_text())
    assert summary["counts"]["quarantined_rows"] == "<5"
