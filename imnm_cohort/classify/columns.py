"""A small column API over which the rules, the criteria sets and the derived columns are
written once, and run both in memory and in a database.

The facts the decision procedure reads (:class:`~imnm_cohort.classify.rules.Facts`), what a
criteria set calls a high CK and a necrotizing biopsy, and the derived columns are written
against :class:`Columns`. :class:`FrameColumns` answers with pandas series and numpy arrays
(the in-memory path); :class:`~imnm_cohort.classify.sql.IbisColumns` answers with ibis column
expressions, so the same definitions compile to SQL.

A *column* is what ``columns[name]`` gives (a pandas series or an ibis column): comparisons,
``isin``, ``&``, ``|`` and ``~`` work on both. A *mask* is a boolean column with no empty
value: :meth:`Columns.holds` turns a condition into one, an empty value counting as false.
That is the one place where the two paths could differ on empty values, and both read an
empty value the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from imnm_cohort.vocabulary import days_between

__all__ = ["Columns", "FrameColumns", "Mask"]

#: A boolean column without empty values: a numpy array, or an ibis boolean expression.
Mask = Any


class Columns(Protocol):
    """Whole columns of patients, as the rules read them."""

    def __getitem__(self, name: str) -> Any:
        """The column ``name`` (empty values stay empty)."""
        ...

    def holds(self, condition: Any) -> Mask:
        """Where ``condition`` is true; an empty value (unknown) is false."""
        ...

    def known(self, name: str) -> Mask:
        """Where the column ``name`` is not empty."""
        ...

    def filled(self, name: str, value: float) -> Any:
        """The column ``name`` with its empty values replaced by ``value``."""
        ...

    def choose(self, cases: Sequence[tuple[Mask, str]], default: str) -> Any:
        """For each row, the text of the first case whose mask holds, else ``default``."""
        ...

    def days(self, later: Any, earlier: Any) -> Any:
        """Whole days from the dates ``earlier`` to ``later`` as floats (empty where either is)."""
        ...

    def first_known(self, first: str, second: str) -> Any:
        """The column ``first``, with ``second`` where ``first`` is empty."""
        ...

    def where(self, mask: Mask, values: Any) -> Any:
        """``values`` where ``mask`` holds, empty elsewhere (floats)."""
        ...


@dataclass(frozen=True)
class FrameColumns:
    """:class:`Columns` over a pandas frame (numpy masks, pandas series for values)."""

    frame: pd.DataFrame

    def __getitem__(self, name: str) -> pd.Series:
        """The column ``name``."""
        return self.frame[name]

    def holds(self, condition: Any) -> np.ndarray:
        """Where ``condition`` is true; an empty value is false."""
        if isinstance(condition, pd.Series):
            return condition.to_numpy(dtype=bool, na_value=False)
        return np.asarray(condition, dtype=bool)

    def known(self, name: str) -> np.ndarray:
        """Where the column ``name`` is not empty."""
        return self.frame[name].notna().to_numpy(dtype=bool)

    def filled(self, name: str, value: float) -> pd.Series:
        """The column ``name`` with its empty values replaced by ``value``."""
        return self.frame[name].fillna(value)

    def choose(self, cases: Sequence[tuple[Mask, str]], default: str) -> np.ndarray:
        """For each row, the text of the first case whose mask holds, else ``default``."""
        conditions = [np.asarray(mask, dtype=bool) for mask, _ in cases]
        chosen = np.select(conditions, [str(text) for _, text in cases], default=str(default))
        return chosen.astype(object)

    def days(self, later: pd.Series, earlier: pd.Series) -> pd.Series:
        """Whole days from ``earlier`` to ``later`` (``vocabulary.days_between``)."""
        return days_between(later, earlier)

    def first_known(self, first: str, second: str) -> pd.Series:
        """The column ``first``, with ``second`` where ``first`` is empty."""
        return self.frame[first].fillna(self.frame[second])

    def where(self, mask: Mask, values: pd.Series) -> pd.Series:
        """``values`` where ``mask`` holds, empty elsewhere."""
        return values.where(np.asarray(mask, dtype=bool))
