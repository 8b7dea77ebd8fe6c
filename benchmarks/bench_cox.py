"""Benchmark: the cause-specific Cox model and its proportional-hazards check.

Compares, on the same model data, the ways of fitting a Cox model with Efron ties and
checking proportional hazards: the toolkit's tie-aggregated Newton-Raphson with the
``cox.zph`` score test; lifelines' ``CoxPHFitter`` (default, and tuned: started at the
solution with a full step) with its Schoenfeld-residual check; statsmodels' ``PHReg``.
Target on the 2-core reference machine: toolkit Cox + PH check on 1,000,000 patients <= 20 s.

Run: ``.venv/bin/python benchmarks/bench_cox.py [N] [N_LIBRARIES]`` (default 1,000,000 for the
toolkit; the libraries at 100,000 unless given, as lifelines' PH check grows faster than
linearly).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
from _common import peak_memory_gb, timed

from imnm_cohort import classify, synthesize, validate_extract
from imnm_cohort.analysis import MalignancyOptions, cause_specific_cox
from imnm_cohort.analysis.coxph import fit_cox, zph_test
from imnm_cohort.analysis.malignancy import time_to_cancer

IMNM = ["hmgcr", "srp", "seronegative"]


def model_data(classified: pd.DataFrame) -> pd.DataFrame:
    """The model's rows and columns, as ``cause_specific_cox`` builds them."""
    tte = time_to_cancer(classified, MalignancyOptions())
    group = classified["imnm_group"].astype(str)
    keep = group.isin(IMNM) & tte["at_risk"] & (tte["time_years"] > 0)
    return pd.DataFrame(
        {
            "time": tte["time_years"][keep].to_numpy(float),
            "cancer": (tte["event"][keep] == 1).to_numpy(int),
            "onset_age": classified["age_at_onset_years"][keep].to_numpy(float),
            "male": (classified["sex"][keep] == "male").to_numpy(dtype=bool, na_value=False),
            "group_srp": (group[keep] == "srp").to_numpy(int),
            "group_seronegative": (group[keep] == "seronegative").to_numpy(int),
        }
    ).astype(float)


def libraries(data: pd.DataFrame) -> None:
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test
    from statsmodels.duration.hazard_regression import PHReg

    n = len(data)
    x = data.drop(columns=["time", "cancer"])
    fit, _ = timed(
        f"lifelines CoxPHFitter, default ({n:,})",
        lambda: CoxPHFitter().fit(data, "time", "cancer"),
    )
    timed(
        f"lifelines CoxPHFitter, tuned: initial point, step 1 ({n:,})",
        lambda: CoxPHFitter().fit(
            data,
            "time",
            "cancer",
            initial_point=fit.params_.to_numpy().copy(),  # lifelines updates it in place
            fit_options={"step_size": 1.0},
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        timed(
            f"lifelines proportional_hazard_test, rank ({n:,})",
            lambda: proportional_hazard_test(fit, data, time_transform="rank"),
        )
    timed(
        f"statsmodels PHReg, Efron ({n:,})",
        lambda: PHReg(data["time"], x, status=data["cancer"], ties="efron").fit(),
    )
    own = fit_cox(data["time"].to_numpy(), data["cancer"].to_numpy(bool), x.to_numpy())
    diff = np.max(np.abs(own.coef - fit.params_.to_numpy()) / own.se)
    print(f"toolkit against lifelines (default tolerances): max difference {diff:.1e} SE")


def main(n: int, n_libraries: int) -> None:
    classified = classify(validate_extract(synthesize(n, seed=5)).valid)
    data = model_data(classified)
    print(f"model rows: {len(data):,}, cancers: {int(data['cancer'].sum()):,}")
    t, d = data["time"].to_numpy(), data["cancer"].to_numpy(bool)
    x = data.drop(columns=["time", "cancer"]).to_numpy()
    fit, _ = timed(f"toolkit fit_cox ({n:,})", lambda: fit_cox(t, d, x))
    timed(f"toolkit zph_test ({n:,})", lambda: zph_test(t, d, x, fit))
    timed(
        f"toolkit cause_specific_cox (model + PH check, {n:,})",
        lambda: cause_specific_cox(classified, IMNM),
    )
    print(f"peak memory {peak_memory_gb():.2f} GB")
    libraries(data.iloc[:n_libraries] if n_libraries < n else data)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 100_000,
    )
