"""The anti-HMGCR titres in a run, end to end through ``main(argv)``: with an
``antibody_tests`` table beside the visits, the analysis is in ``summary.json`` (valid by
its schema, under disclosure control) and a table of every report format; without it, it
appears nowhere."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.cli.test_course_run import _write
from tests.pipeline.readers import aggregate_texts, run

#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


TITLE = "Anti-HMGCR titres at diagnosis"


def _assays(folder: Path) -> None:
    """One ELISA per patient a few days after time zero, its value rising with the CK of
    the first visit (so that rho is positive), from two labs with different units; and a
    line blot, which is not a titre."""
    patients = pd.read_csv(folder / "patients.csv")
    visits = pd.read_csv(folder / "visits.csv")
    first = visits.sort_values("visit_date").drop_duplicates("patient_id").set_index("patient_id")
    t0 = pd.to_datetime(patients["diagnosis_date"]).fillna(pd.to_datetime(patients["onset_date"]))
    ck = first["ck"].reindex(patients["patient_id"]).to_numpy(dtype=float)
    lab = np.arange(len(patients)) % 2
    value = np.round(ck / 20.0 * np.where(lab == 0, 1.0, 3.0), 1)
    elisa = pd.DataFrame(
        {
            "patient_id": patients["patient_id"],
            "test_date": (t0 + pd.Timedelta(days=3)).dt.strftime("%Y-%m-%d"),
            "antigen": "hmgcr",
            "method": "elisa",
            "value": value,
            "unit": np.where(lab == 0, "CU", "U/mL"),
            "cutoff": np.where(lab == 0, 20.0, 60.0),
        }
    )
    blot = elisa.assign(
        test_date=(t0 + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d"),
        method="line_blot",
        value=np.nan,
        unit="",
        cutoff=np.nan,
        grade="strong",
    )
    keep = elisa["value"].notna() & t0.notna()
    pd.concat([elisa[keep], blot[keep]]).to_csv(folder / "antibody_tests.csv", index=False)


@pytest.fixture(scope="module")
def titred(tmp_path_factory):
    folder = tmp_path_factory.mktemp("titres")
    pipeline = _write(
        folder, ("visits", "antibody_tests"), '["json", "html", "md", "docx", "xlsx"]'
    )
    _assays(folder)
    code, _, err = run("run", str(pipeline))
    runs = [p for p in (folder / "out").iterdir() if p.name != "latest"]
    return code, err, runs[0]


def test_the_titres_are_in_the_summary_under_disclosure_control(titred):
    import jsonschema

    from imnm_cohort.pipeline.summary_schema import summary_schema

    code, err, folder = titred
    assert code == 0, err
    assert "] titres\n" in err
    summary = json.loads((folder / "summary.json").read_text())
    jsonschema.validate(summary, summary_schema())
    t = summary["titres"]
    assert t["options"]["scale"] == "cutoff"
    levels = [v["with_level"] for v in t["groups"].values()]
    assert all(isinstance(v, str) or v == 0 or v >= 5 for v in levels)  # no small count
    overall = t["correlations"]["ck"]["overall"]
    assert overall["n"] >= 20 and overall["rho"] > 0.5
    assert overall["p_value"] == "<0.001" or overall["p_value"] < 0.05  # as journals print it
    # the units differ between the two labs: no group's values are summarised in a unit
    shown = [v for v in t["groups"].values() if isinstance(v["with_level"], int)]
    assert all(v["unit"] is None for v in shown if v["with_level"])
    assert all(v["unit"] == "[withheld]" for v in t["groups"].values() if v not in shown)


def test_the_titres_are_a_table_of_every_report_format(titred):
    texts = aggregate_texts(titred[2])
    for name in ("report.html", "report.md", "tables.docx", "tables.xlsx"):
        text = html.unescape(texts[name].replace("\\", ""))
        assert TITLE in text, name
        assert "Spearman's rho with CK" in text, name


def test_without_antibody_tests_the_titres_are_nowhere(tmp_path):
    pipeline = _write(tmp_path, ("visits",), '["json", "md"]')
    code, _, err = run("run", str(pipeline))
    assert code == 0, err
    folder = next(p for p in (tmp_path / "out").iterdir() if p.name != "latest")
    assert "titres" not in json.loads((folder / "summary.json").read_text())
    assert TITLE not in (folder / "report.md").read_text()
