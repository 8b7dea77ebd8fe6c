"""The manuscript table of SIR and SMR, from summaries made by the toolkit."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from imnm_cohort import classify, synthesize
from imnm_cohort.analysis.rates import read_reference_rates
from imnm_cohort.analysis.sir import population_comparison
from imnm_cohort.report.population_table import population_rates
from imnm_cohort.report.table_model import at
from imnm_cohort.validation.validate import validate_extract


def test_without_a_rate_file_the_table_says_so():
    table = population_rates({"population_rates": None})
    assert table.rows == () and table.footnotes[0].startswith("No reference-rate file")


@pytest.fixture(scope="module")
def summary() -> dict:
    """The SIR and SMR of a synthetic cohort as summary.json holds them."""
    frame = classify(validate_extract(synthesize(800, seed=3)).valid)
    rates = read_reference_rates(resources.files("imnm_cohort") / "data/illustrative_rates.csv")
    return json.loads(
        json.dumps({"population_rates": population_comparison(frame, rates).to_dict()})
    )


def test_every_ratio_and_band_is_a_row_with_its_numbers_path(summary):
    p = summary["population_rates"]
    table = population_rates(summary)
    assert len(table.rows) == len(p["ratios"]) * (1 + len(p["bands_years"]))
    assert table.columns == ("anti-HMGCR", "anti-SRP", "seronegative")
    for row in table.rows:
        for cell in row.cells:
            for number in cell:
                assert number.value == at(summary, number.path)
    first = p["ratios"][0]["groups"]["hmgcr"]
    assert [n.value for n in table.rows[0].cells[0]] == [
        first["observed"],
        first["expected"],
        first["ratio"],
        *first["ratio_ci"],
    ]
    assert table.rows[1].label == "<1 year after onset" and table.rows[1].indent == 1
    assert any(note.startswith("Rates: illustrative_rates.csv") for note in table.footnotes)


def test_the_first_cell_shows_observed_expected_and_ratio_as_written_out(summary):
    (sir,) = [
        r
        for r in summary["population_rates"]["ratios"]
        if r["measure"] == "SIR" and r["site"] == "all_malignant"
    ]
    g = sir["groups"]["hmgcr"]
    (row,) = [r for r in population_rates(summary).rows if r.label == "SIR, all counted cancers"]
    lo, hi = g["ratio_ci"]
    assert row.cell_text(0) == (
        f"{g['observed']} / {g['expected']:.1f}; {g['ratio']:.2f} ({lo:.2f} to {hi:.2f})"
    )
