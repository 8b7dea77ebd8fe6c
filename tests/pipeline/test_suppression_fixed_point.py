"""Complementary suppression runs until the self-check's reading pins no withheld count.

Each cohort below is one whose run used to fail the self-check: the single-unknown rule
left the named count to be worked out (the group sizes minus the valid rows and Table 1's
overall n; the input rows minus the valid rows; a Table 1 row's overall column). Each now
passes, with that count withheld.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.disclosure.declarations import get, path
from imnm_cohort.disclosure.suppression import WITHHELD, Policy, suppress
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.pipeline.selfcheck import check_counts, check_run


@pytest.mark.parametrize(
    ("n", "seed", "dirty", "leaked"),
    [
        (60, 1, 0.0, ("groups", "statin_toxic")),
        (60, 9, 0.02, ("counts", "quarantined_rows")),
        (30, 4, 0.0, ("table_one", "rows", 8, "cells", "seronegative", "counts", "possible")),
    ],
)
@pytest.mark.slow
def test_a_small_cohort_that_leaked_passes_with_the_count_withheld(
    tmp_path: Path, n: int, seed: int, dirty: float, leaked: tuple
) -> None:
    extract = write_extract(synthesize(n, seed=seed, dirty=dirty), tmp_path / "x.csv")
    config = load_pipeline(None).with_overrides(extract, tmp_path / "runs")
    result = stages.validate(config, stages.read(config))
    _, classified = stages.classify(config, result)
    analysis = stages.analyse(config, classified)
    disclosed = stages.disclose(config, result, classified, analysis)
    truth = stages.build_summary(config, result, classified, analysis)
    summary = disclosed.summary.data
    assert isinstance(get(truth, leaked), int)
    assert get(summary, leaked) in (WITHHELD, disclosed.policy.marker)
    check = check_run(summary, disclosed.declaration, disclosed.policy, truth=truth)
    assert check.ok, [f.line() for f in check.findings]


def test_two_small_cells_pinned_by_their_total_get_a_third_withheld() -> None:
    # 1 + 1 + 10 = 12: the single-unknown rule withholds the two small cells only, and
    # their total 2 with each at least 1 gives both back; a shown cell goes too.
    from imnm_cohort.disclosure.declarations import Count, Declaration, Margin

    data = {"a": 1, "b": 1, "c": 10, "d": 7, "n": 19}
    cells = tuple(path(k) for k in "abcd")
    declaration = Declaration(
        counts=(*(Count(c) for c in cells), Count(path("n"))),
        margins=(Margin(cells, path("n")),),
    )
    out = suppress(data, declaration, Policy(5))
    assert out.data["a"] == out.data["b"] == "<5"
    assert [out.data[k] for k in "cd"].count(WITHHELD) == 1
    assert out.data["d"] == WITHHELD  # the smallest shown non-zero cell, not the total
    assert check_counts([("x.json", out.data, declaration, data)], Policy(5)).ok


def test_small_deaths_and_withheld_patients_at_risk_leave_the_group_sizes_shown(
    tmp_path: Path,
) -> None:
    """400 patients (seed 5): 36 anti-SRP patients with 3 deaths and 0 cancers. The deaths'
    margin (deaths + survivors = n) has a rest of 33 that no output shows, so it pins
    nothing, and the anti-SRP patients at risk, withheld, do not withhold the group's size
    beside them: every IMNM group's size, and the comparisons, stay shown (they were all
    withheld), and the self-check still finds nothing to work out."""
    extract = write_extract(synthesize(400, seed=5), tmp_path / "x.csv")
    config = load_pipeline(None).with_overrides(extract, tmp_path / "runs")
    result = stages.validate(config, stages.read(config))
    _, classified = stages.classify(config, result)
    analysis = stages.analyse(config, classified)
    disclosed = stages.disclose(config, result, classified, analysis)
    published = disclosed.summary.data
    truth = stages.build_summary(config, result, classified, analysis)
    assert truth["survival"]["groups"]["srp"]["deaths"] == 3  # the case: small deaths
    for g in ("hmgcr", "srp", "seronegative"):
        assert published["groups"][g] == truth["groups"][g] >= 30
        for variable in ("onset_age", "ck_peak"):
            assert published["comparisons"][variable]["groups"][g]["n"] == truth["groups"][g]
        assert published["survival"]["groups"][g]["n"] == truth["groups"][g]
    assert published["survival"]["groups"]["srp"]["deaths"] == "<5"
    assert published["comparisons"]["malignancy"]["groups"]["srp"]["at_risk"] == WITHHELD
    assert published["comparisons"]["malignancy"]["groups"]["srp"]["n"] == 36
    check = check_run(published, disclosed.declaration, disclosed.policy, truth=truth)
    assert check.ok, [f.line() for f in check.findings]
