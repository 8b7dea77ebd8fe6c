"""SIR, SMR and incidence by time since onset against R (popEpi 0.4.10) and by hand.

The cohort and the rates are made by ``tests/reference/sir_data.py``; ``r/sir_popepi.R``
splits the same follow-up with popEpi's ``lexpand`` and computes the ratios with
``popEpi::sir``; its output is ``r/sir_popepi.csv`` (and ``.txt``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from imnm_cohort import classify
from imnm_cohort.analysis.rates import read_reference_rates
from imnm_cohort.analysis.sir import population_comparison
from imnm_cohort.analysis.time_since_onset import FOLLOW_UP_BANDS, incidence_by_follow_up
from tests.conftest import valid_patients
from tests.reference.sir_data import HERE, as_extract_rows, sir_cohort, sir_rates

GROUPS = ["hmgcr", "srp"]
BAND_OF = {0.0: "<1", 1.0: "1-3", 3.0: "3-5", 5.0: ">=5"}


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return classify(valid_patients(as_extract_rows(sir_cohort())))


@pytest.fixture(scope="module")
def comparison(cohort):
    return population_comparison(cohort, read_reference_rates(HERE / "sir_rates.csv"), GROUPS)


def test_the_files_r_read_are_what_the_generator_makes():
    assert (HERE / "sir_cohort.csv").read_text() == sir_cohort().to_csv(index=False)
    assert (HERE / "sir_rates.csv").read_text() == sir_rates().to_csv(index=False)


def test_every_group_is_classified_as_generated(cohort):
    expected = sir_cohort().set_index("patient_id")["group"]
    got = cohort.set_index("patient_id")["imnm_group"].astype(str)
    assert got.sort_index().tolist() == expected.sort_index().tolist()


def test_sir_and_smr_match_popepi(comparison):
    r = pd.read_csv(HERE / "sir_popepi.csv")
    by_site = {s.site: s for s in comparison.ratios}
    assert [s.measure for s in comparison.ratios] == ["SIR", "SIR", "SMR"]
    for row in r.itertuples():
        result = by_site[row.site]
        assert result.measure == row.measure
        if np.isnan(row.fot_from_years):
            got = result.groups[row.group]
        else:
            got = result.by_follow_up[row.group][BAND_OF[row.fot_from_years]]
        assert got.observed == row.observed
        assert got.person_years == pytest.approx(row.person_years, rel=1e-10)
        assert got.expected == pytest.approx(row.expected_full, rel=1e-10)
        assert got.expected == pytest.approx(row.expected, abs=5e-5)  # popEpi's 4 decimals
        assert got.ratio == pytest.approx(row.sir, abs=5e-5)
        assert got.ratio_ci == pytest.approx((row.lower_full, row.upper_full), rel=1e-8)
        # popEpi rounds before its interval; the unrounded interval is checked above.
        assert got.ratio_ci == pytest.approx((row.lower, row.upper), rel=2e-3, abs=5e-5)


def test_person_time_without_a_rate_is_reported(cohort, comparison):
    # The rate file has female and male rows only: the 'other' patients' time is left out.
    other = cohort["sex"].astype(str) == "other"
    incidence = incidence_by_follow_up(cohort, GROUPS)
    total = sum(b.person_years for by in incidence.groups.values() for b in by.values())
    sir = comparison.ratios[0]
    covered = sum(r.person_years for r in sir.groups.values())
    assert other.any()
    assert sir.person_years_without_rate > 0
    earlier_cancer = (cohort["cancer_date"] < cohort["onset_date"]).fillna(False)
    assert sir.patients_without_rate == int((other & ~earlier_cancer).sum())
    assert covered + sir.person_years_without_rate == pytest.approx(total, rel=1e-12)


def test_incidence_by_time_since_onset_by_hand(cohort):
    result = incidence_by_follow_up(cohort, GROUPS)
    data = sir_cohort()
    onset = pd.to_datetime(data["onset_date"])
    end = pd.to_datetime(data["end_date"])
    cancer = pd.to_datetime(data["cancer_date"])
    before = (cancer < onset).fillna(False)
    in_fu = ((cancer >= onset) & (cancer <= end)).fillna(False)
    years = ((cancer.where(in_fu, end) - onset).dt.days / 365.25).to_numpy()
    edges = [0.0, 1.0, 3.0, 5.0, np.inf]
    for g in GROUPS:
        keep = ((data["group"] == g) & ~before).to_numpy()
        t, e = years[keep], in_fu.to_numpy()[keep]
        for j, band in enumerate(FOLLOW_UP_BANDS):
            lo, hi = edges[j], edges[j + 1]
            py = float((np.clip(t, lo, hi) - lo).sum())
            events = int((e & (t >= lo) & (t < hi)).sum())
            got = result.groups[g][band]
            assert got.person_years == pytest.approx(py, rel=1e-12)
            assert got.events == events
            # Exact (Garwood) limits as gamma quantiles (scipy), per 1,000 person-years.
            lower = stats.gamma.ppf(0.025, events) if events else 0.0
            upper = stats.gamma.ppf(0.975, events + 1)
            assert got.rate_ci == pytest.approx((1000 * lower / py, 1000 * upper / py))


def test_row_order_changes_no_number(cohort, comparison):
    rates = read_reference_rates(HERE / "sir_rates.csv")
    shuffled = cohort.iloc[np.random.default_rng(4).permutation(len(cohort))]
    assert population_comparison(shuffled, rates, GROUPS).to_dict() == comparison.to_dict()
