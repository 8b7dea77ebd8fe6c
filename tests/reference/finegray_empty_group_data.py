"""Data for the Fine-Gray check of a group without events against R.

``python -m tests.reference.finegray_empty_group_data`` writes
``r/finegray_empty_group.csv``, which ``r/finegray_empty_group.R`` reads; its output is
``r/finegray_empty_group_fit.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.reference.finegray_data import finegray_synthetic
from tests.reference.sir_data import HERE


def empty_group_data(n: int = 400, seed: int = 20261124) -> pd.DataFrame:
    """The synthetic Fine-Gray set with a group ``grp``: a third of the patients without the
    event of interest, drawn at random, so that the group has no event of interest."""
    d = finegray_synthetic(n, seed)
    draw = np.random.default_rng(seed + 1).uniform(size=n)
    return d.assign(grp=((d["event"] != 1) & (draw < 1 / 3)).astype(int))


if __name__ == "__main__":
    empty_group_data().to_csv(HERE / "finegray_empty_group.csv", index=False)
