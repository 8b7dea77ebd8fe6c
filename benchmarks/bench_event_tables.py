"""Benchmark: validate the event tables of contract section 6 and derive the patient table.

The issue's scale: 100,000 patients with 2,000,000 visits, 300,000 treatment courses and
400,000 antibody tests (and 100,000 cancers), as text cells in memory (what the file reader
gives). Times the patient table's validation, each event table's validation against it,
and the derive stage; prints the peak memory.

Run: ``.venv/bin/python benchmarks/bench_event_tables.py [N_PATIENTS]``
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from _common import peak_memory_gb, timed

from imnm_cohort import synthesize
from imnm_cohort.validation.derive import derive_patients
from imnm_cohort.validation.events import validate_events
from imnm_cohort.validation.validate import validate_extract

TEXT = pd.StringDtype("pyarrow")


def _text(columns: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v).astype(TEXT) for k, v in columns.items()})


def event_tables(patients: pd.DataFrame, seed: int = 1) -> dict[str, pd.DataFrame]:
    """Visits (20 per patient), treatments (3), antibody tests (4), cancers (1) of the
    patients, dated from onset within their follow-up."""
    rng = np.random.default_rng(seed)
    ids = patients["patient_id"].to_numpy(dtype=object)
    onset = pd.to_datetime(patients["onset_date"]).to_numpy()
    end = pd.to_datetime(patients["last_followup_date"]).to_numpy()
    span = np.maximum((end - onset).astype("timedelta64[D]").astype(np.int64), 0)

    def rows(per: int) -> tuple[np.ndarray, np.ndarray]:
        at = np.repeat(np.arange(len(ids)), per)
        days = (rng.random(len(at)) * (span[at] + 1)).astype(np.int64)
        dates = (onset[at] + days.astype("timedelta64[D]")).astype("datetime64[D]")
        return ids[at], np.datetime_as_string(dates, unit="D")

    who, when = rows(20)
    visits = _text({"patient_id": who, "visit_date": when,
                    "ck": rng.integers(20, 20_000, len(who)).astype(str),
                    "ck_uln": np.full(len(who), "200"),
                    "mmt": rng.integers(40, 81, len(who)).astype(str)})  # fmt: skip
    who, when = rows(3)
    drugs = np.array(["prednisone", "methotrexate", "ivig", "rituximab", "azathioprine"])
    treatments = _text({"patient_id": who, "start_date": when,
                        "drug": drugs[rng.integers(0, len(drugs), len(who))]})  # fmt: skip
    who, when = rows(4)
    methods = np.array(["elisa", "line_blot", "cia"])
    tests = _text({"patient_id": who, "test_date": when,
                   "antigen": np.array(["hmgcr", "srp"])[rng.integers(0, 2, len(who))],
                   "method": methods[rng.integers(0, 3, len(who))],
                   "value": (rng.random(len(who)) * 100).round(1).astype(str),
                   "cutoff": np.full(len(who), "20")})  # fmt: skip
    who, when = rows(1)
    codes = np.array(["C50.9", "C18", "D05.1"])[rng.integers(0, 3, len(who))]
    cancers = _text({"patient_id": who, "cancer_date": when, "icd10": codes})
    return {"visits": visits, "treatments": treatments, "antibody_tests": tests, "cancers": cancers}


def main(n: int) -> None:
    raw = synthesize(n, seed=1)
    tables = event_tables(raw)
    print(", ".join(f"{name}: {len(frame):,} rows" for name, frame in tables.items()))
    patients, _ = timed(f"validate the patient table ({n:,})", lambda: validate_extract(raw))
    found, _ = timed("validate the four event tables", lambda: validate_events(tables, patients))
    timed("derive the patient table's values", lambda: derive_patients(patients, found))
    for name in found:
        print(f"  {name}: {found[name].counts.to_dict()}")
    print(f"peak memory {peak_memory_gb():.2f} GB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
