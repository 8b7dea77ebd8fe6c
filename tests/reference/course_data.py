"""Seeded synthetic data for the course analyses' checks against R.

``python -m tests.reference.course_data`` writes, into ``tests/reference/r``:

- ``mixed_synthetic.csv``: one row per observation (``id``, ``group``, ``time``, ``y``) of a
  growth model with three groups, a correlated random intercept and slope per patient and
  ragged visit times; ``mixed_boundary.csv``: the same layout without any patient effect
  (a singular fit); ``mixed_lme4.R`` fits both (and lme4's ``sleepstudy``) with ``lmer``.
- ``course_patients.csv`` and ``course_visits.csv``: a small cohort with visits (CK, its
  ULN, MMT and its scale), deaths and onset dates standing in for missing diagnosis dates;
  ``course_cmprsk.R`` derives the time to CK normalisation from them and runs
  ``cmprsk::cuminc``, and fits the CK and strength models with ``lmer``.

Values are rounded so that the CSV files hold exactly what the tests use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.reference.sir_data import HERE

GROUPS = ("hmgcr", "srp", "seronegative")


def mixed_synthetic(n_per_group: int = 25, seed: int = 20261203) -> pd.DataFrame:
    """A growth model by group: intercepts 10, 12, 9 and slopes -2, -0.5, -1.2 per year."""
    rng = np.random.default_rng(seed)
    intercept = {"hmgcr": 10.0, "srp": 12.0, "seronegative": 9.0}
    slope = {"hmgcr": -2.0, "srp": -0.5, "seronegative": -1.2}
    g_cov = np.array([[4.0, -0.6], [-0.6, 0.5]])
    rows = []
    pid = 0
    for g in GROUPS:
        for _ in range(n_per_group):
            pid += 1
            b0, b1 = rng.multivariate_normal([0.0, 0.0], g_cov)
            n = int(rng.integers(2, 9))
            t = np.sort(np.round(rng.uniform(0, 2.5, n), 4))
            y = intercept[g] + b0 + (slope[g] + b1) * t + rng.normal(0, 1.0, n)
            rows += [
                {"id": f"S{pid:03d}", "group": g, "time": ti, "y": round(float(yi), 6)}
                for ti, yi in zip(t, y, strict=True)
            ]
    return pd.DataFrame(rows)


def mixed_boundary(n: int = 150, seed: int = 20261205) -> pd.DataFrame:
    """No patient effect at all (G = 0): REML's optimum is on the boundary, a singular fit."""
    rng = np.random.default_rng(seed)
    t = np.tile([0.0, 0.25, 0.55, 1.1], n)
    pid = np.repeat([f"B{i:03d}" for i in range(1, n + 1)], 4)
    group = np.repeat(np.array(GROUPS)[np.arange(n) % 3], 4)
    y = np.round(rng.normal(0.4, 0.6, len(t)), 6)
    return pd.DataFrame({"id": pid, "group": group, "time": t, "y": y})


def course_cohort(n_per_group: int = 40, seed: int = 20261204) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patients (with ``imnm_group``) and their visits.

    CK falls from a raised value at diagnosis at a group's own rate (slowest in ``hmgcr``);
    MMT recovers towards its maximum (least in ``hmgcr``); about one patient in ten dies;
    one in eight has no diagnosis date (the onset date is then time zero); CK is missing at
    one visit in ten and MMT at one in eight; about one lab in three reports a ULN of its
    own and one patient in four is scored on MMT-8 both sides (150).
    """
    rng = np.random.default_rng(seed)
    fall = {"hmgcr": 0.9, "srp": 1.8, "seronegative": 1.4}  # log10 CK/ULN per year
    gain = {"hmgcr": 14.0, "srp": 22.0, "seronegative": 18.0}  # MMT % per year
    start = pd.Timestamp("2015-01-01")
    patients, visits = [], []
    pid = 0
    for g in GROUPS:
        for _ in range(n_per_group):
            pid += 1
            onset = start + pd.Timedelta(days=int(rng.integers(0, 1500)))
            diagnosis = onset + pd.Timedelta(days=int(rng.integers(20, 200)))
            follow_days = int(rng.integers(200, 1400))
            died = rng.random() < 0.1
            end = diagnosis + pd.Timedelta(days=follow_days)
            uln = float(rng.choice([200.0, 170.0, 300.0], p=[0.6, 0.2, 0.2]))
            scale = 150 if rng.random() < 0.25 else 80
            level0 = rng.normal(1.2, 0.35)
            rate = max(fall[g] + rng.normal(0, 0.4), 0.05)
            mmt0 = rng.uniform(45, 80)
            mmt_rate = gain[g] + rng.normal(0, 5)
            no_diagnosis = rng.random() < 0.125
            t0 = onset if no_diagnosis else diagnosis
            days = np.unique(
                np.concatenate([[int(rng.integers(-20, 21))], rng.integers(30, follow_days + 1, 6)])
            )
            for d in days:
                years = max(d, 0) / 365.25
                log_ratio = level0 - rate * years + rng.normal(0, 0.12)
                ck = round(uln * 10 ** max(log_ratio, -0.8), 1)
                pct = min(mmt0 + mmt_rate * years + rng.normal(0, 3), 100.0)
                visits.append(
                    {
                        "patient_id": f"P{pid:03d}",
                        "visit_date": (diagnosis + pd.Timedelta(days=int(d))).date().isoformat(),
                        "ck": "" if rng.random() < 0.1 else ck,
                        "ck_uln": "" if uln == 200.0 else uln,
                        "mmt": "" if rng.random() < 0.125 else round(pct / 100 * scale),
                        "mmt_max": "" if scale == 80 else scale,
                    }
                )
            patients.append(
                {
                    "patient_id": f"P{pid:03d}",
                    "imnm_group": g,
                    "onset_date": onset.date().isoformat(),
                    "diagnosis_date": "" if no_diagnosis else t0.date().isoformat(),
                    "last_followup_date": end.date().isoformat(),
                    "death_date": (end + pd.Timedelta(days=10)).date().isoformat() if died else "",
                }
            )
    return pd.DataFrame(patients), pd.DataFrame(visits)


def typed(patients: pd.DataFrame, visits: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohort's text tables as the toolkit's typed tables hold them: dates as
    datetimes, numbers as floats, empty cells missing."""
    patients = patients.replace("", None)
    for column in ("onset_date", "diagnosis_date", "last_followup_date", "death_date"):
        patients[column] = pd.to_datetime(patients[column])
    visits = visits.replace("", None)
    visits["visit_date"] = pd.to_datetime(visits["visit_date"])
    for column in ("ck", "ck_uln", "mmt", "mmt_max"):
        visits[column] = pd.to_numeric(visits[column]).astype(float)
    return patients, visits


def read_course_cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cohort's stored files, :func:`typed`."""
    return typed(
        pd.read_csv(HERE / "course_patients.csv", dtype=str, keep_default_na=False),
        pd.read_csv(HERE / "course_visits.csv", dtype=str, keep_default_na=False),
    )


def main() -> None:
    mixed_synthetic().to_csv(HERE / "mixed_synthetic.csv", index=False)
    mixed_boundary().to_csv(HERE / "mixed_boundary.csv", index=False)
    patients, visits = course_cohort()
    patients.to_csv(HERE / "course_patients.csv", index=False)
    visits.to_csv(HERE / "course_visits.csv", index=False)


if __name__ == "__main__":
    main()
