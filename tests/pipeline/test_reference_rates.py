"""End to end: a pipeline naming a reference-rate file (SIR and SMR), and bad rate files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from imnm_cohort import synthesize, write_extract
from tests.pipeline.test_run import SCHEMA, run

HOSTILE = '<script>alert(1)</script> | =HYPERLINK("x") **bold**'


def pipeline(tmp_path: Path, rates: str | None, n: int = 800, seed: int = 7) -> Path:
    write_extract(synthesize(n, seed=seed), tmp_path / "extract.csv")
    line = f'reference_rates = "{rates}"\n' if rates else ""
    path = tmp_path / "pipeline.toml"
    path.write_text(f'[input]\nextract = "extract.csv"\n[analysis]\n{line}[output]\nroot = "out"\n')
    return path


def rate_file(path: Path, source: str = "invented for a test") -> None:
    rows = ["sex,age_from,age_to,site,rate_per_100000,source"]
    for site, level in (("all_malignant", 400), ("C50", 90), ("all_causes", 1200)):
        for sex in ("female", "male"):
            rows.append(f'{sex},0,59,{site},{level},"{source}"')
            rows.append(f'{sex},60,,{site},{level * 3},"{source}"')
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.slow
def test_a_run_with_rates_reports_sir_and_smr_escaped(tmp_path):
    rate_file(tmp_path / "rates.csv", HOSTILE.replace('"', '""'))
    code, _, err = run("run", str(pipeline(tmp_path, "rates.csv")))
    assert code == 0, err
    latest = tmp_path / "out" / "latest"
    summary = json.loads((latest / "summary.json").read_text())
    jsonschema.validate(summary, SCHEMA)
    ratios = summary["population_rates"]["ratios"]
    assert [(r["measure"], r["site"]) for r in ratios] == [
        ("SIR", "all_malignant"),
        ("SIR", "C50"),
        ("SMR", "all_causes"),
    ]
    assert summary["population_rates"]["sources"] == [HOSTILE]
    html = (latest / "report.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html
    assert "SIR, all counted cancers" in html and "SMR, deaths from any cause" in html
    md = (latest / "report.md").read_text()
    assert not re.search(r"(?<!\\)<script", md) and "\\|" in md  # escaped, inert
    assert "### Table 6. Subdistribution hazard ratios of cancer" in md
    assert "### Cancer by time since onset" in md


@pytest.mark.slow
def test_small_counts_are_withheld_in_every_band(tmp_path):
    rate_file(tmp_path / "rates.csv")
    code, _, err = run("run", str(pipeline(tmp_path, "rates.csv", n=400, seed=3)))
    assert code == 0, err
    summary = json.loads((tmp_path / "out" / "latest" / "summary.json").read_text())
    shown = []
    for g in summary["time_since_onset"]["groups"].values():
        shown += [b["events"] for b in g["by_follow_up"].values()]
    for r in summary["population_rates"]["ratios"]:
        for g in r["groups"].values():
            bands = [b["observed"] for b in g["by_follow_up"].values()]
            shown += [g["observed"], *bands]
            # no band (nor the total) is the only unknown: it would be found by subtraction
            assert sum(isinstance(b, str) for b in [g["observed"], *bands]) != 1
            withheld = [b for b in g["by_follow_up"].values() if isinstance(b["observed"], str)]
            assert all(b["ratio"] == "[withheld]" for b in withheld)
    assert "<5" in shown
    assert not [v for v in shown if isinstance(v, int) and 0 < v < 5]


def test_without_rates_the_report_says_so(tmp_path):
    code, _, err = run("run", str(pipeline(tmp_path, None, n=300)))
    assert code == 0, err
    latest = tmp_path / "out" / "latest"
    assert json.loads((latest / "summary.json").read_text())["population_rates"] is None
    assert "No reference-rate file was given" in (latest / "report.md").read_text()


def test_a_missing_or_bad_rate_file_is_a_configuration_error(tmp_path):
    path = pipeline(tmp_path, "absent.csv", n=50)
    code, _, err = run("run", str(path))
    assert code == 2 and "absent.csv" in err and "reference_rates" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    (tmp_path / "bad.csv").write_text("sex,age_from,site,rate_per_100000,source\nX,0,C50,1,s\n")
    code, _, err = run("run", str(pipeline(tmp_path, "bad.csv", n=50)))
    assert code == 2 and "bad.csv" in err and "column 'sex'" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_diagnosis_as_time_zero_runs_and_reports_what_it_left_out(tmp_path):
    # Seed 3 holds patients diagnosed after their last follow-up; a horizon of 40 years
    # lies past every group's follow-up.
    write_extract(synthesize(300, seed=3), tmp_path / "extract.csv")
    path = tmp_path / "pipeline.toml"
    path.write_text(
        '[input]\nextract = "extract.csv"\n[analysis]\ntime_zero = "diagnosis"\n'
        'horizon_years = 40\n[disclosure]\nmin_cell_count = 0\n[output]\nroot = "out"\n'
    )
    code, _, err = run("run", str(path))
    assert code == 0 and "Traceback" not in err
    latest = tmp_path / "out" / "latest"
    summary = json.loads((latest / "summary.json").read_text())
    jsonschema.validate(summary, SCHEMA)
    groups = summary["comparisons"]["malignancy"]["groups"]
    assert sum(g["time_zero_after_end"] for g in groups.values()) > 0
    assert all(g["horizon_beyond_follow_up"] for g in groups.values())
    assert all(g["cumulative_incidence"] is None for g in groups.values())
    warnings = {w["code"] for w in summary["validation"]["warnings"]}
    assert "diagnosis_after_end_of_observation" in warnings
    for report in ("report.md", "report.html"):
        text = (latest / report).read_text()
        assert "falls after the end of observation" in text
        assert "horizon beyond this group" in text
