"""The course analyses in a run (contract section 6), end to end through ``main(argv)``: with
``[input.tables]``, CK course, strength, response, treatments and relapse appear in
``summary.json``, the HTML and Markdown reports and the Word and Excel tables, under
disclosure control, and the self-check passes; an analysis whose tables the pipeline does
not name appears nowhere."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.course_plotdata import course_figures
from imnm_cohort.synth import synthesize
from tests.pipeline.readers import aggregate_texts, run

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


COURSE = ("ck_course", "strength", "response", "treatments", "relapse")
VISIT_ONLY = ("ck_course", "strength", "response")
TITLES = {
    "ck_course": "CK course",
    "strength": "Strength: MMT",
    "response": "Response by the 2016 ACR/EULAR criteria",
    "treatments": "Treatments: immunotherapies",
    "relapse": "Relapse (the toolkit's convention)",
}
#: The counts of patients in the course results (by their key): published values 1 to 4
#: would be small counts shown.
COUNT_KEYS = {
    "n", "events", "competing", "patients", "assessed", "not_assessed", "full",
    "with_baseline", "with_courses", "followed", "patients_relapsed", "died_before",
    "time_zero_from_onset", "time_zero_onset", "no_followup", "met",
}  # fmt: skip

PIPELINE = """[input]
path = "patients.csv"
{tables}
[output]
root = "out"
formats = {formats}
"""


def _write(folder: Path, tables: tuple[str, ...], formats: str, n: int = 60) -> Path:
    """Patients, six visits each over their observation (CK falling, strength and the
    response measures improving) and one to three treatment courses."""
    patients = synthesize(n, seed=11)
    patients.to_csv(folder / "patients.csv", index=False)
    rng = np.random.default_rng(4)
    onset = pd.to_datetime(patients["onset_date"])
    t0 = pd.to_datetime(patients["diagnosis_date"]).fillna(onset)
    end = pd.to_datetime(patients["death_date"]).fillna(
        pd.to_datetime(patients["last_followup_date"])
    )
    span = (end - t0).dt.days.clip(lower=0).to_numpy(dtype=float)
    per = 6
    frac = np.tile(np.linspace(0.0, 1.0, per), n)
    day = np.floor(np.repeat(np.nan_to_num(span), per) * frac)
    date = pd.Series(np.repeat(t0.to_numpy(), per)) + pd.to_timedelta(day, unit="D")
    visits = pd.DataFrame(
        {
            "patient_id": np.repeat(patients["patient_id"].to_numpy(), per),
            "visit_date": date.dt.strftime("%Y-%m-%d"),
            "ck": np.round(4000 * np.exp(-3 * frac) + rng.integers(20, 150, n * per)),
            "ck_uln": 200,
            "mmt": np.clip(np.round(50 + 28 * frac + rng.normal(0, 4, n * per)), 0, 80),
            "mmt_max": 80,
            "physician_global": np.round(8 - 6 * frac),
            "patient_global": np.round(8 - 5 * frac),
            "haq": np.round((2.5 - 2 * frac) * 4) / 4,
            "extramuscular_global": np.round(3 - 2 * frac),
        }
    )
    visits = visits[date.notna().to_numpy()].drop_duplicates(["patient_id", "visit_date"])
    visits.to_csv(folder / "visits.csv", index=False)
    k = rng.integers(1, 4, n)
    start = pd.Series(np.repeat(t0.to_numpy(), k)) + pd.to_timedelta(
        rng.integers(0, 200, k.sum()), unit="D"
    )
    drugs = ["prednisone", "methotrexate", "ivig", "rituximab", "azathioprine"]
    courses = pd.DataFrame(
        {
            "patient_id": np.repeat(patients["patient_id"].to_numpy(), k),
            "drug": rng.choice(drugs, k.sum()),
            "start_date": start.dt.strftime("%Y-%m-%d"),
        }
    )
    inside = (start.notna() & (start <= pd.Series(np.repeat(end.to_numpy(), k)))).to_numpy()
    courses[inside].drop_duplicates(["patient_id", "drug"]).to_csv(
        folder / "treatments.csv", index=False
    )
    named = "\n".join(f'{t} = "{t}.csv"' for t in tables)
    text = PIPELINE.format(tables=f"[input.tables]\n{named}" if tables else "", formats=formats)
    (folder / "pipeline.toml").write_text(text)
    return folder / "pipeline.toml"


def _run(folder: Path, tables: tuple[str, ...], formats: str) -> tuple[int, str, str, Path]:
    pipeline = _write(folder, tables, formats)
    code, out, err = run("run", str(pipeline))
    runs = [p for p in (folder / "out").iterdir() if p.name != "latest"]
    return code, out, err, runs[0]


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    formats = '["json", "html", "md", "docx", "xlsx"]'
    return _run(tmp_path_factory.mktemp("course"), ("visits", "treatments"), formats)


@pytest.fixture(scope="module")
def visits_only(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("course_visits"), ("visits",), '["json", "md"]')


def _counts(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every value under a count key, with its path."""
    if isinstance(node, dict):
        out = []
        for k, v in node.items():
            if k in COUNT_KEYS and not isinstance(v, dict | list):
                out.append(((*path, k), v))
            out += _counts(v, (*path, str(k)))
        return out
    if isinstance(node, list):
        return [c for i, v in enumerate(node) for c in _counts(v, (*path, str(i)))]
    return []


def test_the_run_passes_its_self_check_with_every_course_analysis(both):
    code, _, err, _ = both
    assert code == 0, err
    assert "[self-check]" in err  # the stage ran, and a leak would have stopped the run
    for key in COURSE:
        assert f"] {key}\n" in err  # its progress line: it ran


def test_each_course_analysis_is_in_the_summary_under_disclosure_control(both):
    import jsonschema

    from imnm_cohort.pipeline.summary_schema import summary_schema

    summary = json.loads((both[3] / "summary.json").read_text())
    jsonschema.validate(summary, summary_schema())
    assert [k for k in summary if k in COURSE] == list(COURSE)
    assert summary["response"]["options"]["change"] == "default"
    assert summary["relapse"]["definition"]["convention"].startswith("imnm-cohort")
    counts = [c for key in COURSE for c in _counts(summary[key], (key,))]
    assert len(counts) > 100
    small = [(p, v) for p, v in counts if isinstance(v, int) and 0 < v < 5]
    assert small == []  # a small count of patients is never shown
    assert any(v == "<5" for _, v in counts)  # and some were withheld here


def test_each_course_analysis_is_a_section_of_every_report_format(both):
    texts = aggregate_texts(both[3])
    for name in ("report.html", "report.md", "tables.docx", "tables.xlsx"):
        # Markdown escapes its punctuation, HTML its apostrophes
        text = html.unescape(texts[name].replace("\\", ""))
        for key, title in TITLES.items():
            assert title in text, (name, key)
        assert "<5" in text or "&lt;5" in text
        assert "Percent change basis used" in text
        assert "Relapse is the toolkit's convention" in text
    assert 'id="analysis-ck_course"' in texts["report.html"]


def test_no_identifier_or_date_reaches_an_aggregate_output(both):
    folder = both[3]
    ids = pd.read_csv(folder.parent.parent / "patients.csv")["patient_id"].astype(str)
    visits = pd.read_csv(folder.parent.parent / "visits.csv")["visit_date"].astype(str)
    for name, text in aggregate_texts(folder).items():
        if name == "manifest.json":
            continue
        assert not [i for i in ids if i in text], name
        assert not [d for d in visits.unique() if d in text], name


def test_the_course_figures_show_published_numbers_only(both):
    summary = json.loads((both[3] / "summary.json").read_text())
    figures = {f.name: f for f in course_figures(summary)}
    assert list(figures) == [
        "ck_normalisation", "ck_series", "strength", "drug_classes", "response_categories",
        "relapse_mcf",
    ]  # fmt: skip
    ck = summary["ck_course"]["series"]
    shown = {(g, b["estimate"]) for g, bins in ck["groups"].items() for b in bins.values()}
    (panel,) = figures["ck_series"].panels
    assert panel.lines and all({(ln.label, y) for y in ln.y} <= shown for ln in panel.lines)
    series = summary["strength"]["series"]
    published = {(g, b["estimate"]) for g, bins in series["groups"].items() for b in bins.values()}
    (panel,) = figures["strength"].panels
    assert panel.lines
    for line in panel.lines:
        assert {(line.label, y) for y in line.y} <= published
    withheld = [
        (g, label)
        for g, bins in series["groups"].items()
        for label, b in bins.items()
        if not isinstance(b["estimate"], float)
    ]
    drawn = {(line.label, x) for line in panel.lines for x in line.x}
    for g, label in withheld:
        a, _, b = label.partition("-")
        assert (g, (float(a) + float(b)) / 2) not in drawn


def test_without_treatments_the_analyses_that_read_them_are_nowhere(visits_only):
    code, _, err, folder = visits_only
    assert code == 0, err
    summary = json.loads((folder / "summary.json").read_text())
    assert [k for k in summary if k in COURSE] == list(VISIT_ONLY)
    texts = aggregate_texts(folder)
    for name in ("report.md",):
        text = texts[name].replace("\\", "")
        assert TITLES["strength"] in text
        assert "Treatments: immunotherapies" not in text
        assert "toolkit's convention" not in text


def test_imacs_improvement_and_confirmed_deterioration_are_in_the_summary_and_table(both):
    summary = json.loads((both[3] / "summary.json").read_text())
    imacs = summary["response"]["imacs"]
    assert imacs["change"] == "baseline"
    for definition in ("imacs_improvement", "confirmed_deterioration"):
        cells = imacs[definition]["groups"]["hmgcr"]["landmarks_months"]
        assert set(cells) == {"6", "12", "24"}
    assert set(imacs["time_to_improvement"]["groups"]) == set(summary["response"]["groups"])
    text = html.unescape(aggregate_texts(both[3])["report.md"].replace("\\", ""))
    assert "IMACS 2004 improvement at 12 months, n of assessed (%)" in text
    assert "Confirmed deterioration (ProDERM) at 24 months" in text
    assert "First IMACS 2004 improvement by 6 months" in text
