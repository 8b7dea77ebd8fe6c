"""Anti-HMGCR titres at diagnosis: hand-worked patients, the Spearman p-value by hand,
options, disclosure and row order."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.titres import TitreOptions, spearman_test, titres
from imnm_cohort.disclosure.suppression import suppress
from imnm_cohort.errors import ConfigError, ExtractError

T0 = pd.Timestamp("2020-01-01")


def day(d: int) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=d)


def patients(groups: list[str], diagnosis: list[bool] | None = None) -> pd.DataFrame:
    """Patients P1.. diagnosed on 2020-01-01 (onset 2019-12-01: time zero without a
    diagnosis date), followed to 2022."""
    n = len(groups)
    diagnosis = diagnosis or [True] * n
    return pd.DataFrame(
        {
            "patient_id": [f"P{i + 1}" for i in range(n)],
            "imnm_group": groups,
            "onset_date": [pd.Timestamp("2019-12-01")] * n,
            "diagnosis_date": [T0 if d else pd.NaT for d in diagnosis],
            "last_followup_date": [pd.Timestamp("2022-01-01")] * n,
            "death_date": [pd.NaT] * n,
        }
    )


def assay(pid, d, value, cutoff=20.0, unit="CU", method="elisa", antigen="hmgcr"):
    return {"patient_id": pid, "test_date": day(d), "antigen": antigen, "method": method,
            "value": value, "unit": unit, "cutoff": cutoff}  # fmt: skip


def visit(pid, d, ck=None, uln=200.0, mmt=None, mmt_max=80.0):
    return {"patient_id": pid, "visit_date": day(d), "ck": ck, "ck_uln": uln, "mmt": mmt,
            "mmt_max": mmt_max}  # fmt: skip


NO_VISITS = pd.DataFrame([visit("P1", 500, ck=100.0)]).iloc[:0]


def test_the_level_is_the_quantitative_assay_nearest_time_zero_in_the_window():
    # P1: -100 days (outside 90), -10 and +10 (equally near: the earlier), +30; a line blot,
    # an anti-SRP ELISA and an ELISA without a value nearer still are not titres.
    # P2: only an assay 95 days after: no level. P3: no diagnosis date, time zero = onset
    # (2019-12-01 = day -31): its assay at day -31 is at time zero.
    rows = [
        assay("P1", -100, 900.0), assay("P1", -10, 100.0), assay("P1", 10, 300.0),
        assay("P1", 30, 50.0), assay("P1", 0, 7.0, method="line_blot"),
        assay("P1", 1, 9.0, antigen="srp"), assay("P1", 2, None),
        assay("P2", 95, 80.0), assay("P3", -31, 40.0, cutoff=None),
    ]  # fmt: skip
    r = titres(patients(["hmgcr"] * 3, [True, True, False]), pd.DataFrame(rows), NO_VISITS)
    g = r.groups["hmgcr"]
    assert (g.n, g.with_level, g.with_cutoff) == (3, 2, 1)
    # values 100 (P1, the earlier of -10 and +10) and 40 (P3): median 70, type-7 quartiles
    assert g.value == {"median": 70.0, "q1": 55.0, "q3": 85.0} and g.unit == "cu"
    assert g.times_cutoff == {"median": 5.0, "q1": 5.0, "q3": 5.0}  # 100 / 20
    assert r.assays == 6  # quantitative anti-HMGCR rows with a value (4 + 1 + 1): rows
    assert r.time_zero_onset == 1
    # no visits: every correlation has no patient
    assert r.correlations["ck"]["overall"].n == 0
    assert r.correlations["ck"]["overall"].rho is None


def test_a_wider_window_reaches_the_late_assay():
    rows = [assay("P1", 95, 80.0)]
    narrow = titres(patients(["hmgcr"]), pd.DataFrame(rows), NO_VISITS)
    wide = titres(patients(["hmgcr"]), pd.DataFrame(rows), NO_VISITS, options=TitreOptions(100))
    assert narrow.groups["hmgcr"].with_level == 0
    assert wide.groups["hmgcr"].value["median"] == 80.0


def test_mixed_units_are_compared_only_as_multiples_of_the_cutoff():
    rows = [assay("P1", 0, 100.0, 20.0, "CU"), assay("P2", 0, 90.0, 30.0, "U/mL")]
    r = titres(patients(["hmgcr", "hmgcr"]), pd.DataFrame(rows), NO_VISITS)
    g = r.groups["hmgcr"]
    assert g.unit is None and g.value["median"] is None
    assert g.times_cutoff["median"] == pytest.approx(4.0)  # (5 + 3) / 2


def five_patients(scale_units: tuple[str, ...] = ("CU",) * 5) -> tuple[pd.DataFrame, ...]:
    """Five anti-HMGCR patients: levels 1 to 5 times the cut-off; CK/ULN 2, 4, 6, 8, 10 at
    the nearest visit (a farther visit with a higher CK is not used); MMT 80, 70, 60, 50, 40
    of 80 (a visit nearer without an MMT is not used for strength)."""
    pts = patients(["hmgcr"] * 5)
    a = [assay(f"P{i}", 0, 20.0 * i, 20.0, scale_units[i - 1]) for i in range(1, 6)]
    v = []
    for i in range(1, 6):
        v.append(visit(f"P{i}", 5, ck=400.0 * i))
        v.append(visit(f"P{i}", 60, ck=99_000.0 / i, mmt=90.0 - 10 * i))
        v.append(visit(f"P{i}", 200, mmt=80.0))  # outside the window
    return pts, pd.DataFrame(a), pd.DataFrame(v)


def test_correlations_by_hand_with_the_exact_p_value():
    r = titres(*five_patients())
    ck, strength = r.correlations["ck"]["hmgcr"], r.correlations["strength"]["hmgcr"]
    # Ranks agree exactly: rho = 1, S = 0; of the 5! = 120 orderings only this one has
    # S <= 0, so the one-sided p is 1/120 and the two-sided 2/120 (R: 0.01667).
    assert (ck.n, ck.p_method, ck.ties) == (5, "exact", False)
    assert ck.rho == pytest.approx(1.0, abs=1e-15)
    assert ck.p_value == pytest.approx(2 / 120, abs=1e-15)
    # Strength falls as the level rises: rho = -1, the same p.
    assert strength.rho == pytest.approx(-1.0) and strength.p_value == pytest.approx(2 / 120)
    assert r.correlations["ck"]["overall"].rho == pytest.approx(1.0)
    assert r.correlations["ck"]["srp"].n == 0


def test_fewer_patients_than_the_minimum_count_show_no_correlation():
    r = titres(*five_patients(), options=TitreOptions(min_count=6))
    c = r.correlations["ck"]["hmgcr"]
    assert (c.n, c.rho, c.p_value, c.reason) == (5, None, None, "fewer than 6 patients")


def test_on_the_value_scale_mixed_units_give_no_correlation():
    pts, a, v = five_patients(("CU", "CU", "CU", "CU", "U/mL"))
    by_value = titres(pts, a, v, options=TitreOptions(scale="value"))
    assert by_value.correlations["ck"]["hmgcr"].reason == "the values are in different units"
    assert titres(pts, a, v).correlations["ck"]["hmgcr"].rho == pytest.approx(1.0)  # comparable
    same = titres(*five_patients(), options=TitreOptions(scale="value"))
    assert same.correlations["ck"]["hmgcr"].rho == pytest.approx(1.0)


def test_ties_use_the_t_approximation_as_r_does():
    # x = 1 2 2 4 5, y = 1 3 2 5 4: mid-ranks 1 2.5 2.5 4 5; rho = 0.87208 (R cor.test:
    # S = 2.5585, p = 0.05385, "Cannot compute exact p-value with ties"). By hand:
    # rho = 0.8720816, t = rho * sqrt(3 / (1 - rho^2)), p = 2 P(T_3 > t).
    test = spearman_test(np.array([1, 2, 2, 4, 5.0]), np.array([1, 3, 2, 5, 4.0]))
    rho = 8.5 / math.sqrt(9.5 * 10)  # centred mid-rank products over their norms
    assert test.rho == pytest.approx(rho, abs=1e-12)
    assert test.p_value == pytest.approx(0.05385421772754213, abs=1e-12)
    assert (test.method, test.ties) == ("asymptotic", True)


def test_options_are_checked():
    for bad in ({"window_days": -1}, {"scale": "log"}, {"methods": ("line_blot",)},
                {"methods": ()}, {"min_count": -1}):  # fmt: skip
        with pytest.raises(ConfigError):
            TitreOptions(**bad)


def test_a_missing_column_is_one_line_of_bad_data():
    pts, a, v = five_patients()
    with pytest.raises(ExtractError, match="antibody_tests table: no column 'value'"):
        titres(pts, a.drop(columns="value"), v)
    with pytest.raises(ExtractError, match="visits table: no column 'visit_date'"):
        titres(pts, a, v.drop(columns="visit_date"))


def test_every_count_is_declared_and_small_ones_withhold_what_they_describe():
    pts, a, v = five_patients()
    pts.loc[4, "imnm_group"] = "srp"  # a group of one
    r = titres(pts, a, v, options=TitreOptions(min_count=3))
    out = suppress(r.to_dict(), r.disclosure(), 5)
    assert out.undeclared == ()
    srp = out.data["groups"]["srp"]
    assert srp["with_level"] == "<5" and srp["unit"] == "[withheld]"
    assert srp["times_cutoff"]["median"] == "[withheld]"
    assert out.data["correlations"]["ck"]["hmgcr"]["rho"] == "[withheld]"  # n = 4
    text = json.dumps(r.to_dict())
    assert "P1" not in text and not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_shuffling_rows_changes_no_number():
    pts, a, v = five_patients()
    a = pd.concat([a, a.assign(test_date=a["test_date"] + pd.Timedelta(days=7), value=1.0)])
    before = titres(pts, a, v).to_dict()
    rng = np.random.default_rng(1)
    after = titres(
        pts.iloc[rng.permutation(len(pts))],
        a.iloc[rng.permutation(len(a))],
        v.iloc[rng.permutation(len(v))],
    ).to_dict()
    assert after == before


def test_of_two_assays_on_the_same_day_the_higher_value_is_taken():
    rows = [assay("P1", 3, 40.0, method="cia"), assay("P1", 3, 60.0), assay("P1", -3, 5.0)]
    for order in ([0, 1, 2], [2, 1, 0]):
        r = titres(patients(["hmgcr"]), pd.DataFrame([rows[i] for i in order]), NO_VISITS)
        assert r.groups["hmgcr"].value["median"] == 5.0  # -3 days: as near, earlier
    r = titres(patients(["hmgcr"]), pd.DataFrame(rows[:2]), NO_VISITS)
    assert r.groups["hmgcr"].value["median"] == 60.0


def test_a_small_group_s_patients_cannot_be_had_by_subtraction_from_the_overall():
    # six anti-HMGCR patients and one anti-SRP: overall n = 7 beside hmgcr's 6 would give
    # the anti-SRP patient away
    pts = patients(["hmgcr"] * 6 + ["srp"])
    a = pd.DataFrame([assay(f"P{i}", 0, 10.0 * i) for i in range(1, 8)])
    v = pd.DataFrame([visit(f"P{i}", 2, ck=300.0 * i, mmt=80.0 - i) for i in range(1, 8)])
    r = titres(pts, a, v)
    assert (r.correlations["ck"]["overall"].n, r.correlations["ck"]["hmgcr"].n) == (7, 6)
    ck = suppress(r.to_dict(), r.disclosure(), 5).data["correlations"]["ck"]
    assert ck["srp"]["n"] == "<5"
    assert isinstance(ck["overall"]["n"], str) or isinstance(ck["hmgcr"]["n"], str)
