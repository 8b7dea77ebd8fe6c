"""Every section of every output on the runs that break reports: tiny groups, empty groups,
no events. Each must complete, say what was not done and why, and show nothing misleading."""

from __future__ import annotations

import json
import re

import docx
import openpyxl
import pytest

from imnm_cohort import synthesize, write_extract
from tests.pipeline.readers import aggregate_texts, docx_text, run

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


FORMATS = '["html", "md", "json", "csv", "docx", "xlsx", "figures"]'
SECTIONS = ("Cohort flow", "Data quality", "Table 1", "Group comparisons", "Malignancy", "Methods")


def _no_srp(frame):
    frame["anti_srp"] = "negative"
    return frame


def _no_statin(frame):
    frame["statin_exposed"] = "false"
    for column in ("statin_name", "statin_start_date", "statin_stop_date"):
        frame[column] = None
    frame["improved_after_statin_stop"] = None
    return frame


def _no_events(frame):
    frame["cancer_date"] = None
    frame["cancer_icd10"] = None
    frame["death_date"] = None
    return frame


CASES = {
    "tiny": (12, lambda f: f),
    "empty_srp_group": (250, _no_srp),
    "no_statin_exposure": (250, _no_statin),
    "no_events": (250, _no_events),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def edge_run(request, tmp_path_factory):
    n, change = CASES[request.param]
    tmp = tmp_path_factory.mktemp(request.param)
    extract = write_extract(change(synthesize(n, seed=11)), tmp / "x.csv")
    (tmp / "p.toml").write_text(
        f'[input]\nextract = "{extract}"\n[output]\nroot = "out"\nformats = {FORMATS}\n'
    )
    code, _, err = run("run", str(tmp / "p.toml"))
    assert code == 0, err
    return request.param, tmp / "out" / "latest"


def test_every_section_renders_without_placeholders(edge_run):
    _, folder = edge_run
    texts = aggregate_texts(folder)
    html = texts["report.html"]
    for section in SECTIONS:
        assert section in html
    for name in ("report.html", "report.md", "tables.docx", "tables.xlsx"):
        assert not re.search(r"\b(nan|NaN|None|inf)\b", texts[name]), name
    assert docx.Document(str(folder / "tables.docx")).tables
    assert len(openpyxl.load_workbook(folder / "tables.xlsx").sheetnames) == 8


def test_methods_describe_only_what_ran(edge_run):
    _, folder = edge_run
    summary = json.loads((folder / "summary.json").read_text())
    md = (folder / "report.md").read_text()
    methods = md[md.index("## Methods") :]
    fitted = bool(summary["cause_specific_cox"]["terms"])
    assert ("cause-specific Cox model" in methods) == fitted
    if not fitted:
        assert "No model:" in md
    gray_done = summary["comparisons"]["malignancy"]["p_value"] is not None
    assert ("Gray's test (Gray" in methods) == gray_done
    statin_done = summary["comparisons"]["statin_latency"]["p_value"] is not None
    assert ("Statin latency (months" in methods) == statin_done


def test_empty_plots_say_no_data(edge_run):
    case, folder = edge_run
    statin = (folder / "figures" / "statin_latency.svg").read_text()
    if case in ("no_statin_exposure", "tiny"):
        assert "No data to show" in statin
    if case == "no_events":
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["comparisons"]["malignancy"]["reason"]
        assert summary["cause_specific_cox"]["reason"]
        assert "No model:" in (folder / "report.html").read_text()
        words = docx_text(folder / "tables.docx")
        assert "Gray's test not done" in words
        assert "Gray's test." not in words  # no footnote for a test that was not done


def test_reason_codes_are_shown_in_words(edge_run):
    _, folder = edge_run
    summary = json.loads((folder / "summary.json").read_text())
    html = (folder / "report.html").read_text()
    from imnm_cohort.report.labels import reason_words

    for code in summary["classification_reasons"]:
        if code.startswith(("r2", "r3", "r6", "r7", "r8", "r9", "r11")) and code in html:
            assert reason_words(code) in html.replace("&#39;", "'")
