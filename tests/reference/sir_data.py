"""Deterministic synthetic cohort and reference rates for the SIR/SMR check against R.

``python -m tests.reference.sir_data`` writes ``r/sir_cohort.csv`` and ``r/sir_rates.csv``,
which ``r/sir_popepi.R`` reads; its output, ``r/sir_popepi.csv``, is kept beside it.
The test checks that the files kept are what this module makes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent / "r"
CODES = ("C50.9", "C18.7", "C34.1", "C61", "C91.0", "C50.1")


def sir_cohort(n: int = 240, seed: int = 20261124) -> pd.DataFrame:
    """Patients with birth, onset, end of observation, death and cancer dates."""
    rng = np.random.default_rng(seed)
    day = np.timedelta64(1, "D")
    birth = np.datetime64("1925-01-01") + (rng.uniform(0, 45 * 365.25, n)).astype(int) * day
    onset = np.datetime64("1995-01-01") + (rng.uniform(0, 25 * 365.25, n)).astype(int) * day
    years = np.minimum(rng.exponential(6.0, n), 30)
    end = np.minimum(onset + (1 + (years * 365.25).astype(int)) * day, np.datetime64("2025-12-31"))
    died = rng.uniform(size=n) < 0.3
    has_cancer = rng.uniform(size=n) < 0.4
    offset = rng.uniform(-3, 10, n)
    offset_days = (offset * 365.25).astype(int)
    # No follow-up of length 0 (popEpi drops those; the toolkit keeps them).
    cancer = onset + np.where(offset_days == 0, 1, offset_days) * day
    sex = rng.choice(["female", "male", "other"], n, p=[0.6, 0.37, 0.03])
    frame = pd.DataFrame(
        {
            "patient_id": [f"R{i:04d}" for i in range(n)],
            "group": rng.choice(["hmgcr", "srp"], n, p=[0.7, 0.3]),
            "sex": sex,
            "birth_date": pd.to_datetime(birth).strftime("%Y-%m-%d"),
            "onset_date": pd.to_datetime(onset).strftime("%Y-%m-%d"),
            "end_date": pd.to_datetime(end).strftime("%Y-%m-%d"),
            "died": died,
            "cancer_date": pd.Series(pd.to_datetime(cancer).strftime("%Y-%m-%d")).where(has_cancer),
            "cancer_icd10": pd.Series(rng.choice(CODES, n)).where(has_cancer),
        }
    )
    return frame


def sir_rates() -> pd.DataFrame:
    """Rates by sex, age band, calendar period and site (made up for the check)."""
    ages = [(0, 49), (50, 59), (60, 69), (70, 79), (80, None)]
    periods = [(1990, 2004), (2005, 2014), (2015, 2029)]
    base = {"all_malignant": 300.0, "C50": 60.0, "all_causes": 900.0}
    rows = []
    for site, level in base.items():
        for sex, s in (("female", 1.0), ("male", 1.3)):
            for k, (a, b) in enumerate(ages):
                for j, (c, d) in enumerate(periods):
                    rate = round(level * s * (1 + 0.8 * k) * (1 + 0.1 * j), 1)
                    rows.append((sex, a, b, c, d, site, rate, "check rates (invented)"))
    columns = ["sex", "age_from", "age_to", "calendar_from", "calendar_to", "site"]
    frame = pd.DataFrame(rows, columns=[*columns, "rate_per_100000", "source"])
    return frame.astype({"age_to": "Int64"})


def as_extract_rows(cohort: pd.DataFrame) -> list[dict[str, object]]:
    """The cohort as extract rows (anti-HMGCR or anti-SRP IMNM) for ``valid_patients``."""
    rows = []
    for r in cohort.to_dict("records"):
        srp = r["group"] == "srp"
        rows.append(
            {
                "patient_id": r["patient_id"],
                "sex": r["sex"],
                "birth_date": r["birth_date"],
                "onset_date": r["onset_date"],
                "diagnosis_date": r["onset_date"],
                "last_followup_date": r["end_date"],
                "death_date": r["end_date"] if r["died"] else None,
                "anti_hmgcr": "negative" if srp else "positive",
                "anti_srp": "positive" if srp else "negative",
                "statin_exposed": "false",
                "statin_name": None,
                "statin_start_date": None,
                "statin_stop_date": None,
                "cancer_date": r["cancer_date"] if isinstance(r["cancer_date"], str) else None,
                "cancer_icd10": r["cancer_icd10"] if isinstance(r["cancer_icd10"], str) else None,
            }
        )
    return rows


if __name__ == "__main__":  # pragma: no cover
    sir_cohort().to_csv(HERE / "sir_cohort.csv", index=False)
    sir_rates().to_csv(HERE / "sir_rates.csv", index=False)
