"""The manuscript tables of the cancer models, from summaries made by the toolkit."""

from __future__ import annotations

import json

import pytest

from imnm_cohort import classify, synthesize
from imnm_cohort.analysis.finegray import fine_gray
from imnm_cohort.analysis.survival import cause_specific_cox
from imnm_cohort.report import model_tables
from imnm_cohort.report.table_model import at
from imnm_cohort.validation.validate import validate_extract


def _summary(frame) -> dict:
    """The two models as summary.json holds them (through JSON, as the writers read it)."""
    summary = {
        "cause_specific_cox": cause_specific_cox(frame).to_dict(),
        "fine_gray": fine_gray(frame).to_dict(),
        "comparisons": {"malignancy": {"options": {"time_zero": "onset"}}},
    }
    return json.loads(json.dumps(summary))


@pytest.fixture(scope="module")
def cohort():
    return classify(validate_extract(synthesize(1500, seed=5)).valid)


@pytest.mark.parametrize("build", [model_tables.cause_specific_cox, model_tables.fine_gray])
def test_every_term_is_a_row_with_its_numbers_path(cohort, build):
    summary = _summary(cohort)
    table = build(summary)
    assert len(table.rows) == len(summary[table.key]["terms"])
    for row in table.rows:
        for number in (*row.cells[0], row.p):
            assert number.value == at(summary, number.path)
    labels = [row.label for row in table.rows]
    assert {"Onset age, per year", "Male sex", "anti-SRP (vs anti-HMGCR)"} <= set(labels)


def test_a_term_not_estimable_shows_a_dash_and_its_reason(cohort):
    srp = (cohort["imnm_group"].astype(str) == "srp").to_numpy()
    summary = _summary(cohort.assign(cancer_date=cohort["cancer_date"].where(~srp)))
    for table in (model_tables.cause_specific_cox(summary), model_tables.fine_gray(summary)):
        (row,) = [r for r in table.rows if r.label == "anti-SRP (vs anti-HMGCR)"]
        assert row.cell_text(0) == "-"  # the dash for a missing value (numbers.num)
        assert row.cells[0][0].value is None
        assert any(
            n.startswith("anti-SRP (vs anti-HMGCR): not estimable (") for n in table.footnotes
        )


def test_a_model_not_fitted_has_no_rows_and_says_why():
    small = classify(validate_extract(synthesize(60, seed=5)).valid)
    summary = _summary(small)
    for table in (model_tables.cause_specific_cox(summary), model_tables.fine_gray(summary)):
        assert table.rows == ()
        assert any(n.startswith("No model: ") for n in table.footnotes)


def test_the_cells_show_the_summarys_ratios_found_by_term_name(cohort):
    # Independent of the table's paths: each term looked up by name in the summary.
    summary = _summary(cohort)
    for table, key, ratio in (
        (model_tables.cause_specific_cox(summary), "cause_specific_cox", "hazard_ratio"),
        (model_tables.fine_gray(summary), "fine_gray", "subdistribution_hazard_ratio"),
    ):
        terms = {t["term"]: t for t in summary[key]["terms"]}
        for term, words in (("group_seronegative", "seronegative (vs anti-HMGCR)"),
                            ("onset_age", "Onset age, per year")):  # fmt: skip
            (row,) = [r for r in table.rows if r.label == words]
            t = terms[term]
            assert row.cell_text(0) == f"{t[ratio]:.2f} ({t['ci'][0]:.2f} to {t['ci'][1]:.2f})"
            assert row.p.value == t["p_value"]
