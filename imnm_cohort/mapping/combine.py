"""Combine a patient's export rows into one value per contract column.

Each rule takes the row-level values of one column (``text``: the section-1 text, ``key``:
the typed value used for ordering and truth) and the patient of each row (``groups``, codes
0..P-1), and returns one text value per patient plus the patients whose rows conflict. All
rules are whole-column group-bys, never a loop over patients:

* ``same`` (default): all non-empty values equal, else ``conflicting_values``;
* ``max`` / ``min``: largest / smallest date or number;
* ``first`` / ``last``: first / last non-empty value in file order;
* ``any``: true if any row is true, false if every known row is false, else empty;
* ``all``: false if any row is false, true if every known row is true, else empty;
* ``at_min:COLUMN`` / ``at_max:COLUMN``: the value on the row where contract column
  ``COLUMN`` is smallest / largest (the code of the first cancer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT = pd.StringDtype("pyarrow")


@dataclass(frozen=True)
class Combined:
    """One column combined per patient.

    Attributes
    ----------
    values : pandas.Series
        Text per patient (index 0..P-1), empty where no value.
    conflicts : pandas.Series
        For patients whose rows disagree (rule ``same``): the distinct values joined by
        ``" | "``, indexed by patient.
    """

    values: pd.Series
    conflicts: pd.Series


def combine(
    rule: str,
    text: pd.Series,
    key: pd.Series,
    groups: np.ndarray,
    n_patients: int,
    keys: dict[str, pd.Series] | None = None,
) -> Combined:
    """Apply one combine rule.

    Parameters
    ----------
    rule : str
        A rule of :data:`~imnm_cohort.mapping.spec.COMBINE_RULES` or ``at_min:COLUMN`` /
        ``at_max:COLUMN``.
    text : pandas.Series
        Row-level text (index 0..n-1), missing where empty.
    key : pandas.Series
        Row-level typed values: dates, numbers, booleans or lower-case text.
    groups : numpy.ndarray
        The patient (0..P-1) of each row.
    n_patients : int
    keys : dict, optional
        Row-level typed values of other contract columns, for ``at_min``/``at_max``.
    """
    none = pd.Series([], dtype=TEXT)
    if rule == "same":
        return _same(text, key, groups, n_patients)
    if rule in ("max", "min"):
        return Combined(_at_extreme(text, key, groups, n_patients, rule), none)
    if rule.startswith(("at_min:", "at_max:")):
        other = (keys or {})[rule.split(":", 1)[1]]
        return Combined(_at_extreme(text, other, groups, n_patients, rule[3:6]), none)
    if rule in ("first", "last"):
        known = text.notna().to_numpy()
        picked = getattr(text[known].groupby(groups[known], sort=True), rule)()
        return Combined(_spread(picked, n_patients), none)
    if rule in ("any", "all"):
        return Combined(_truth(key, groups, n_patients, rule), none)
    raise ValueError(f"unknown combine rule {rule!r}")  # the mapping check rules this out


def _pick(text: pd.Series, rows: np.ndarray) -> pd.Series:
    """Per patient, the text on row ``rows[p]`` (empty where ``rows[p]`` is -1), by Arrow."""
    arrow = pa.chunked_array(text.array.__arrow_array__())
    taken = pc.take(arrow, pa.array(rows, mask=rows < 0))
    return pd.Series(pd.arrays.ArrowStringArray(taken))


def _spread(per_group: pd.Series, n_patients: int) -> pd.Series:
    """Values indexed by patient code -> a text Series over every patient."""
    out = np.full(n_patients, None, dtype=object)
    if len(per_group):
        out[per_group.index.to_numpy(dtype=np.int64)] = per_group.to_numpy(dtype=object)
    return pd.Series(out, dtype=TEXT)


def _same(text: pd.Series, key: pd.Series, groups: np.ndarray, n_patients: int) -> Combined:
    known = key.notna().to_numpy() & text.notna().to_numpy()
    rows = np.flatnonzero(known)
    g = groups[rows]
    codes = pd.factorize(key.iloc[rows])[0]
    lowest = np.full(n_patients, np.iinfo(np.int64).max)
    highest = np.full(n_patients, -1)
    np.minimum.at(lowest, g, codes)
    np.maximum.at(highest, g, codes)
    first_row = np.full(n_patients, len(text))
    np.minimum.at(first_row, g, rows)  # each patient's first known row
    first_row[first_row == len(text)] = -1
    clashing = np.flatnonzero((first_row >= 0) & (lowest != highest))
    first_row[clashing] = -1
    values = _pick(text, first_row)
    if len(clashing) == 0:
        return Combined(values, pd.Series([], dtype=TEXT))
    in_clash = np.isin(g, clashing)
    clash = pd.DataFrame(
        {"g": g[in_clash], "k": codes[in_clash], "t": text.iloc[rows[in_clash]].to_numpy()}
    )
    clash = clash.drop_duplicates(["g", "k"])
    conflicts = clash.groupby("g", sort=True)["t"].agg(lambda v: " | ".join(v.astype(str)))
    return Combined(values, conflicts.astype(TEXT))


def _at_extreme(
    text: pd.Series, key: pd.Series, groups: np.ndarray, n_patients: int, which: str
) -> pd.Series:
    """The text on the row where ``key`` is smallest (``min``) or largest (``max``).

    Ties go to the first row in file order.
    """
    chosen = np.full(n_patients, -1)
    known = key.notna().to_numpy()
    if known.any():
        rows = np.flatnonzero(known)
        g = groups[rows]
        values = key.to_numpy()[rows]
        # Sorted so that each patient's winner (ties: its first row) comes last in its run.
        if which == "max":
            order = np.lexsort((-rows, values, g))
        else:
            order = np.lexsort((-rows, -_ranks(values), g))
        sorted_groups = g[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = sorted_groups[1:] != sorted_groups[:-1]
        chosen[sorted_groups[last]] = rows[order][last]
    return _pick(text, chosen)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Dense ranks, so that dates and numbers can be ordered descending by negation."""
    return pd.factorize(values, sort=True)[0]


def _truth(key: pd.Series, groups: np.ndarray, n_patients: int, rule: str) -> pd.Series:
    values = key.astype("boolean")
    true = values.fillna(False).to_numpy(dtype=bool)
    false = (~values).fillna(False).to_numpy(dtype=bool)
    n_true = np.bincount(groups, weights=true, minlength=n_patients)
    n_false = np.bincount(groups, weights=false, minlength=n_patients)
    result = np.full(n_patients, None, dtype=object)
    first, second = ("true", "false") if rule == "any" else ("false", "true")
    decides = n_true > 0 if rule == "any" else n_false > 0
    otherwise = n_false > 0 if rule == "any" else n_true > 0
    result[otherwise] = second
    result[decides] = first
    return pd.Series(result, dtype=TEXT)
