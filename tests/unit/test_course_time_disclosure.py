"""A course curve's estimate is shown only where at least the minimum count of patients is
still at risk at that time (the issue of the course of the disease, "Disclosure": aggregate
figures only where at least the minimum count of patients contributes at that time).

Every estimate that is shown is the estimator's own value (``cumulative_incidence``, which
``tests/reference`` compares with R's ``cmprsk::cuminc``)."""

from __future__ import annotations

import numpy as np
import pytest

from imnm_cohort.analysis.competing import COMPETING, EVENT, cumulative_incidence
from imnm_cohort.analysis.course_plotdata import course_figures
from imnm_cohort.analysis.course_time import incidence_by_group

# Ten patients of one group: times (months) 1..10; events at 1, 3, 5; a death at 7.
MONTHS = np.arange(1.0, 11.0)
EVENTS = np.array([EVENT, 0, EVENT, 0, EVENT, 0, COMPETING, 0, 0, 0])
GROUP = np.array(["hmgcr"] * 10, dtype=object)
AT = (2.0, 6.0, 7.0, 9.5, 10.0, 12.0)


def test_an_estimate_is_shown_only_with_the_minimum_count_at_risk():
    curves, _ = incidence_by_group(MONTHS, EVENTS, GROUP, ("hmgcr",), AT, min_count=4)
    # at risk (time at or after the month): 9, 5, 4, 1, 1, 0
    curve = curves["hmgcr"]
    expected, _ = cumulative_incidence(MONTHS, EVENTS).at(np.array(AT))
    shown = [True, True, True, False, False, False]
    for estimate, ci, value, ok in zip(curve.estimate, curve.ci, expected, shown, strict=True):
        if ok:
            assert estimate == pytest.approx(value, abs=1e-15) and ci is not None
        else:
            assert estimate is None and ci is None
    # the counts of the group stay published: patients, events, deaths
    assert (curve.n, curve.events, curve.competing) == (10, 3, 1)


def test_without_a_minimum_the_curve_stops_at_the_last_time_only():
    """No minimum (None, or 0 or 1): every month with a patient at risk, as R reports."""
    curves, _ = incidence_by_group(MONTHS, EVENTS, GROUP, ("hmgcr",), AT)
    assert [e is not None for e in curves["hmgcr"].estimate] == [True] * 5 + [False]
    for least in (0, 1):
        same, _ = incidence_by_group(MONTHS, EVENTS, GROUP, ("hmgcr",), AT, min_count=least)
        assert same == curves


def test_the_figure_draws_only_what_the_summary_shows():
    curves, test = incidence_by_group(MONTHS, EVENTS, GROUP, ("hmgcr",), AT, min_count=4)
    summary = {
        "ck_course": {
            "normalisation": {
                "groups": {"hmgcr": curves["hmgcr"].to_dict()},
                "test": test.to_dict(),
            }
        }
    }
    (figure,) = (f for f in course_figures(summary, 4) if f.name == "ck_normalisation")
    (line,) = figure.panels[0].lines
    assert line.x == (2.0, 6.0, 7.0)
