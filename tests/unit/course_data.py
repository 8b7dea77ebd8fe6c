"""Small synthetic cohorts with visits and treatments for the course analyses' tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUPS = ("hmgcr", "srp", "seronegative")
DRUGS = ("prednisone", "methotrexate", "azathioprine", "mycophenolate", "ivig", "rituximab")


def cohort(seed: int = 0, n: int = 60) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Patients, visits and treatment courses drawn at random (no planted effect)."""
    rng = np.random.default_rng(seed)
    ids = [f"P{i:04d}" for i in range(n)]
    onset = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    delay = rng.integers(0, 120, n)
    diagnosis = pd.Series(onset + pd.to_timedelta(delay, unit="D"))
    diagnosis[rng.random(n) < 0.15] = pd.NaT
    follow = rng.integers(100, 1500, n)
    last = onset + pd.to_timedelta(delay + follow, unit="D")
    died = rng.random(n) < 0.2
    death = pd.Series(last).where(died, pd.NaT)
    group = rng.choice(GROUPS, n)
    statin = pd.array(rng.random(n) < 0.5, dtype="boolean")
    statin[rng.random(n) < 0.1] = pd.NA
    patients = pd.DataFrame(
        {
            "patient_id": ids,
            "imnm_group": group,
            "statin_exposed": statin,
            "onset_date": onset,
            "diagnosis_date": diagnosis,
            "last_followup_date": last,
            "death_date": death,
        }
    )
    t0 = diagnosis.fillna(pd.Series(onset))
    rows = []
    for i in range(n):
        k = rng.integers(1, 9)
        days = np.sort(rng.choice(np.arange(-20, follow[i] + 1), k, replace=False))
        for d in days:
            rows.append(
                {
                    "patient_id": ids[i],
                    "visit_date": t0[i] + pd.Timedelta(days=int(d)),
                    "ck": float(rng.choice([80.0, 150.0, 300.0, 900.0, 5000.0])),
                    "ck_uln": float(rng.choice([200.0, np.nan])),
                    "mmt": float(rng.integers(30, 81)),
                    "mmt_max": 80.0,
                    "physician_global": float(rng.integers(0, 11)),
                    "patient_global": float(rng.integers(0, 11)),
                    "haq": float(rng.integers(0, 13)) / 4,
                    "extramuscular_global": float(rng.integers(0, 11)),
                }
            )
    visits = pd.DataFrame(rows)
    visits.loc[rng.random(len(visits)) < 0.05, "haq"] = np.nan
    rows = []
    for i in range(n):
        for drug in rng.choice(DRUGS, rng.integers(0, 5), replace=False):
            start = int(rng.integers(-30, follow[i]))
            stop = start + int(rng.integers(10, 400))
            rows.append(
                {
                    "patient_id": ids[i],
                    "drug": drug,
                    "start_date": t0[i] + pd.Timedelta(days=start),
                    "stop_date": t0[i] + pd.Timedelta(days=stop) if stop < follow[i] else pd.NaT,
                    "dose_mg_per_day": float(rng.choice([5, 10, 20, 40, 60]))
                    if drug == "prednisone"
                    else np.nan,
                }
            )
    courses = pd.DataFrame(rows)
    return patients, visits, courses
