"""The descriptive table by group (a paper's Table 1), with the variables the user chooses.

The rows come from :class:`~imnm_cohort.analysis.table_spec.TableOneOptions` (a pipeline's
``[table_one]`` section, or the defaults). The result describes itself: each row carries its
label, kind, summary, per-group cells with their counts, test and standardized mean
differences, so a renderer draws it without knowing the variables in advance.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from imnm_cohort.analysis.compare import (
    EXACT_TESTS,
    MIN_FOR_TEST,
    VALUES,
    Summary,
    compare_categorical,
    compare_continuous,
)
from imnm_cohort.analysis.smd import categorical_smd, continuous_smd
from imnm_cohort.analysis.table_spec import (
    COLLAPSE_BELOW,
    COMPUTED,
    DEFAULT_VARIABLES,
    MIN_LEVEL_PATIENTS,
    NEIGHBOURS,
    RARE_LEVEL,
    TableOneOptions,
    TableOneVariable,
    pools_rare_values,
    refuse_dates_and_identifiers,
)
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Path, Share, combine
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import GROUP_COLUMN, IMNM_GROUPS, IN_DATABASE

OVERALL = "overall"
MISSING = "missing"


@dataclass(frozen=True)
class CategoryCounts:
    """Counts of each value of a categorical variable in one column of the table.

    Attributes
    ----------
    counts : dict
        Level -> patients, with ``missing`` as a level when any value is missing.
    denominator : int
        Patients the percentages are of: all patients of the column (missing as a row), or
        those with a known value (missing left out).
    missing_in_denominator : bool
        Whether missing values count in the denominator.
    """

    counts: dict[str, int]
    denominator: int
    missing_in_denominator: bool = True

    def percent(self, value: str) -> float | None:
        """Percentage of the denominator with that value (None for ``missing`` when missing
        values are left out of the denominator, or for an empty column)."""
        if not self.denominator or (value == MISSING and not self.missing_in_denominator):
            return None
        return 100.0 * self.counts[value] / self.denominator

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "denominator": self.denominator,
            "counts": self.counts,
            "percent": {v: self.percent(v) for v in self.counts},
        }


@dataclass(frozen=True)
class RowTest:
    """The test of one row across the groups (``name`` None when not tested)."""

    name: str | None
    statistic: float | None
    p_value: float | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "test": self.name,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class TableOneRow:
    """One variable of Table 1.

    Attributes
    ----------
    variable : TableOneVariable
        Column, label, kind, summary and test asked for.
    levels : tuple of str
        The categories, in order (``missing`` last when present); empty for continuous.
    cells : dict
        Column of the table -> :class:`~imnm_cohort.analysis.compare.Summary` (continuous)
        or :class:`CategoryCounts` (categorical).
    test : RowTest
    smd : dict
        ``(a, b)`` -> standardized mean difference between groups a and b (None when it
        cannot be computed); empty when SMDs were not asked for.
    """

    variable: TableOneVariable
    levels: tuple[str, ...]
    cells: dict[str, Summary | CategoryCounts]
    test: RowTest
    smd: dict[tuple[str, str], float | None]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        v = self.variable
        return {
            "variable": v.column,
            "label": v.label,
            "kind": v.kind,
            "summary": v.summary if v.kind == "continuous" else None,
            "levels": list(self.levels),
            "cells": {g: c.to_dict() for g, c in self.cells.items()},
            "test": self.test.to_dict(),
            "smd": [{"a": a, "b": b, "smd": value} for (a, b), value in self.smd.items()],
        }


@dataclass(frozen=True)
class TableOne:
    """Descriptive statistics by group, with tests and standardized mean differences.

    Attributes
    ----------
    groups : tuple of str
        The groups compared.
    columns : tuple of str
        The table's columns: the groups, then ``overall`` when asked for.
    n : dict
        Patients per column.
    rows : tuple of TableOneRow
    options : TableOneOptions
    notes : tuple of str
        What the table could not show and why (a default row whose column the cohort
        lacks); shown after the footnotes.
    """

    groups: tuple[str, ...]
    columns: tuple[str, ...]
    n: dict[str, int]
    rows: tuple[TableOneRow, ...]
    options: TableOneOptions
    notes: tuple[str, ...] = ()

    def row(self, column: str) -> TableOneRow:
        """The row of a column (``KeyError`` when it is not in the table)."""
        for row in self.rows:
            if row.variable.column == column:
                return row
        raise KeyError(column)

    def footnotes(self) -> list[str]:
        """The table's footnotes: the missing-value convention, summaries, tests, SMD."""
        notes = [
            (
                "Percentages are of all patients in the column; missing values are shown "
                "as a row of their own."
                if self.options.missing == "row"
                else "Percentages are of the patients with a known value; missing values are "
                "left out of the denominator (their number is shown without a percentage)."
            ),
            "Continuous variables: median [Q1, Q3] or mean (SD) as labelled, missing values "
            "excluded; p-values from the Kruskal-Wallis test or one-way ANOVA (continuous) "
            "and the chi-square test, or Fisher's exact or a permutation test where expected "
            "counts are below 5 (categorical), as named in each row.",
        ]
        if self.options.smd:
            notes.append(
                "SMD: standardized mean difference between two groups, |difference in means| "
                "over the pooled SD (Austin, Stat Med 2009), for categorical variables the "
                "multinomial form of Yang and Dalton (SAS Global Forum 2012), known values "
                "only; with more than two groups the largest pairwise SMD is shown and every "
                "pair is in summary.json."
            )
        return [*notes, *self.notes]

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict`."""
        texts = {"type": "array", "items": {"type": "string"}}
        return {
            "type": "object",
            "description": (
                "Table 1 by IMNM group and overall: one self-describing row per variable "
                "(its label, kind, summary, levels, cells by column, test and SMDs)."
            ),
            "required": ["groups", "columns", "n", "rows", "footnotes"],
            "properties": {
                "groups": texts,
                "columns": texts,
                "n": {"type": "object", "additionalProperties": {"$ref": "#/$defs/count"}},
                "missing_values": {"type": "string"},
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["variable", "label", "kind", "levels", "cells", "test"],
                        "properties": {
                            "variable": {"type": "string"},
                            "label": {"type": "string"},
                            "kind": {"enum": ["continuous", "categorical"]},
                            "levels": texts,
                            "cells": {"type": "object"},
                            "test": {
                                "type": "object",
                                "properties": {"p_value": {"$ref": "#/$defs/pValue"}},
                            },
                        },
                    },
                },
                "footnotes": texts,
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON: counts per column in ``n``, per cell in ``cells``."""
        return {
            "groups": list(self.groups),
            "columns": list(self.columns),
            "n": self.n,
            "missing_values": self.options.missing,
            "rows": [row.to_dict() for row in self.rows],
            "footnotes": self.footnotes(),
        }

    def method(self) -> str:
        """The method in one or two sentences."""
        return " ".join(["Table 1 describes the groups.", *self.footnotes()])

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`.

        Column sizes are keyed ``group:<name>`` (the same numbers as ``summary.json``'s
        ``groups``) and the groups add up to the overall column. In each row, a cell's
        counts add up to its column's size, and each count adds up across the groups to the
        overall column. A row's SMDs are computed from its cells, so they are withheld with
        any of its counts; where missing values are left out of a denominator, the
        denominator and the missing count add up to the column's size, so withholding one
        withholds the other (and the percentages with it).
        """
        groups = list(self.groups)
        overall = OVERALL in self.columns
        key = {g: f"group:{g}" for g in groups} | {OVERALL: "overall:" + ",".join(groups)}
        parts = [
            Declaration(
                counts=tuple(Count(("n", c), key[c]) for c in self.columns),
                margins=(
                    (Margin(tuple(("n", g) for g in groups), ("n", OVERALL)),) if overall else ()
                ),
            )
        ]

        def across(at: Path, cells: list[Path]) -> Declaration:
            """Each of the cells' counts adds up over the groups to the overall column."""
            if not overall:
                return Declaration()
            return Declaration(
                margins=tuple(
                    Margin(tuple((*at, g, *c) for g in groups), (*at, OVERALL, *c)) for c in cells
                )
            )

        for i, row in enumerate(self.rows):
            at: Path = ("rows", i, "cells")
            smd: Path = ("rows", i, "smd")
            test: Path = ("rows", i, "test")
            if row.test.name in EXACT_TESTS:
                # An exact test's p-value, to full precision, singles out the table.
                parts.append(Declaration(rounded=((*test, "p_value"),)))
            if row.variable.kind == "continuous":
                for c in self.columns:
                    parts.append(Summary.disclosure(None, key[c]).under(*at, c))
                    # The row's SMDs and test are computed from its cells; the test is
                    # withheld whole (a null p-value or a reason would tell the count).
                    parts.append(
                        Declaration(
                            counts=(
                                Count(
                                    (*at, c, "n"),
                                    reveals=(smd,),
                                    dependents=((*test, "statistic"), (*test, "p_value")),
                                    notes=(((*test, "reason"), VALUES),),
                                ),
                            )
                        )
                    )
                parts.append(across(at, [("n",), ("missing",)]))
                continue
            for c in self.columns:
                cell = row.cells[c]
                assert isinstance(cell, CategoryCounts)
                here = (*at, c)
                denominator = (*here, "denominator")
                levels = list(cell.counts)
                margins = [Margin(tuple((*here, "counts", lv) for lv in levels), key[c])]
                if not cell.missing_in_denominator and MISSING in levels:
                    known = tuple((*here, "counts", lv) for lv in levels if lv != MISSING)
                    margins += [
                        Margin(known, (*here, "denominator")),
                        Margin(((*here, "denominator"), (*here, "counts", MISSING)), key[c]),
                    ]
                # With no missing value, the denominator is the column's size whichever
                # convention is used: it is the same count.
                same = cell.missing_in_denominator or MISSING not in levels
                # A test's statistic with the margins gives the table back; its p-value is
                # rounded as journals print it while a cell is withheld.
                parts.append(
                    Declaration(
                        counts=(
                            # The percentages give the denominator back from any count.
                            Count(
                                (*here, "denominator"),
                                key[c] if same else None,
                                reveals=((*here, "percent"),),
                            ),
                            *(
                                Count(
                                    (*here, "counts", lv),
                                    reveals=((*here, "percent", lv), smd),
                                    dependents=((*test, "statistic"),),
                                    coarsened=((*test, "p_value"),),
                                )
                                for lv in levels
                            ),
                        ),
                        margins=tuple(margins),
                        shares=tuple(
                            Share((*here, "percent", lv), (*here, "counts", lv), denominator)
                            for lv in levels
                        ),
                    )
                )
            parts.append(across(at, [("counts", lv) for lv in row.levels]))
            if self.options.missing != "row":
                parts.append(across(at, [("denominator",)]))
        return combine(parts)


def _values(frame: pd.DataFrame, v: TableOneVariable) -> pd.Series:
    """The variable's values: numbers (continuous) or text (categorical)."""
    if v.column in frame.columns:
        values = frame[v.column]
    elif v.column in COMPUTED:
        values = COMPUTED[v.column][1](frame)
    else:
        raise ConfigError(f"[table_one] variable '{v.column}': no such column in the extract")
    if pd.api.types.is_datetime64_any_dtype(values):
        raise ConfigError(f"[table_one] variable '{v.column}': a date cannot be summarised")
    refuse_dates_and_identifiers(v.column, values, v.kind)
    if v.kind == "categorical":
        return values
    if pd.api.types.is_bool_dtype(values.dtype):
        raise ConfigError(f"[table_one] variable '{v.column}' is yes/no: make it categorical")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype(float)
    numbers = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        example = values[bad].iloc[0]
        raise ConfigError(
            f"[table_one] variable '{v.column}' is continuous but holds text such as {example!r}"
        )
    return numbers.astype(float)


def _codes(
    values: pd.Series, pool: bool = False, held: Collection[str] = ()
) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a categorical variable (-1 where missing) and its levels as text:
    booleans as ``no`` / ``yes``, categories in their order, other values sorted (with
    ``pool``, those of fewer than :data:`MIN_LEVEL_PATIENTS` patients pooled). Levels no
    patient has are left out, unless ``held`` names them (levels that patients classified
    in a database, and not fetched, hold)."""
    codes: np.ndarray
    if pd.api.types.is_bool_dtype(values.dtype):
        flags = values.to_numpy(dtype="float64", na_value=np.nan)
        codes = np.where(np.isnan(flags), -1, flags).astype(np.int64)
        levels = ["no", "yes"]
    elif isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy(dtype=np.int64)
        levels = [str(c) for c in values.dtype.categories]
    elif pool:
        codes, levels = _pooled(values)
    else:
        raw, uniques = pd.factorize(values, sort=True)
        codes = np.asarray(raw, dtype=np.int64)
        levels = [str(u) for u in uniques]
        if set(held) - set(levels):  # levels only patients not fetched hold, in their place
            every = sorted({*levels, *held})
            at = np.array([every.index(level) for level in levels], dtype=np.int64)
            codes = np.where(codes >= 0, at[np.maximum(codes, 0)] if len(at) else -1, -1)
            levels = every
    seen = np.bincount(codes[codes >= 0], minlength=len(levels)) > 0
    if held:
        seen |= np.isin(np.asarray(levels, dtype=object), list(held))
    if seen.all():
        return codes, levels
    new_code = np.cumsum(seen) - 1
    codes = np.where(codes >= 0, new_code[np.maximum(codes, 0)], -1).astype(np.int64)
    return codes, [level for level, kept in zip(levels, seen, strict=True) if kept]


def _pooled(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and sorted levels of free values, with every value fewer than
    :data:`MIN_LEVEL_PATIENTS` patients hold pooled into :data:`RARE_LEVEL` (last)."""
    raw, uniques = pd.factorize(values, sort=True)
    codes = np.asarray(raw, dtype=np.int64)
    held = np.bincount(codes[codes >= 0], minlength=len(uniques))
    rare = held < MIN_LEVEL_PATIENTS
    if not rare.any():
        return codes, [str(u) for u in uniques]
    kept = [str(u) for u, r in zip(uniques, rare, strict=True) if not r]
    label = RARE_LEVEL if RARE_LEVEL not in kept else f"{RARE_LEVEL} (pooled)"
    new_code = np.where(rare, len(kept), np.cumsum(~rare) - 1)
    return np.where(codes >= 0, new_code[np.maximum(codes, 0)], -1), [*kept, label]


def _collapse(column: str, levels: list[str], table: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Collapse before suppress: the levels of ``column`` merged by :data:`NEIGHBOURS`
    where one of them is held by 1 to ``COLLAPSE_BELOW - 1`` patients in a group or
    overall (``table``: groups x (missing, levels)).

    Returns
    -------
    tuple
        Each old level's new index, and the new levels (the old ones when nothing merged).
    """
    counts = np.vstack([table[:, 1:], table[:, 1:].sum(axis=0)])
    small = np.asarray(((counts > 0) & (counts < COLLAPSE_BELOW)).any(axis=0))
    label_of: dict[int, str] = {}
    for members, label in NEIGHBOURS.get(column, ()):
        present = [levels.index(m) for m in members if m in levels]
        if present and small[present].any():
            label_of.update(dict.fromkeys(present, label))
    new_levels: list[str] = []
    for i, level in enumerate(levels):
        if label_of.get(i, level) not in new_levels:
            new_levels.append(label_of.get(i, level))
    mapping = np.array([new_levels.index(label_of.get(i, lv)) for i, lv in enumerate(levels)])
    return mapping.astype(np.int64), new_levels


@dataclass(frozen=True)
class _Layout:
    """What every row shares: the table's columns (masks), groups, options, labels, seed."""

    masks: dict[str, np.ndarray]
    groups: tuple[str, ...]
    options: TableOneOptions
    labels: pd.Series  # categorical over the groups; other patients missing
    seed: int

    def pairs(self, smd: Callable[[Any, Any], float | None], by: dict[str, Any]) -> dict:
        """SMD of each pair of groups (empty when SMDs were not asked for)."""
        if not self.options.smd:
            return {}
        return {(a, b): smd(by[a], by[b]) for a, b in itertools.combinations(self.groups, 2)}

    def data(self, column: str, values: pd.Series) -> pd.DataFrame:
        """The group labels and one variable, as the comparison functions take them."""
        return pd.DataFrame({GROUP_COLUMN: self.labels, column: values}, index=values.index)


def _categorical_row(v: TableOneVariable, values: pd.Series, t: _Layout) -> TableOneRow:
    # Values from the export (extra columns, free codes) are not the toolkit's vocabulary:
    # rare ones are pooled so that no label points at a patient.
    held = values.attrs.get(IN_DATABASE, {}).get("levels", {}).get(v.column, ())
    codes, levels = _codes(values, pool=pools_rare_values(v.column), held=held)
    group = t.labels.cat.codes.to_numpy(dtype=np.int64)
    described = group >= 0
    width = len(levels) + 1  # column 0: missing
    table = np.bincount(
        group[described] * width + codes[described] + 1, minlength=len(t.groups) * width
    ).reshape(len(t.groups), width)
    mapping, merged = _collapse(v.column, levels, table)
    if len(merged) < len(levels):
        codes = np.where(codes >= 0, mapping[np.maximum(codes, 0)], -1)
        levels = merged
        width = len(levels) + 1
        table = np.bincount(
            group[described] * width + codes[described] + 1, minlength=len(t.groups) * width
        ).reshape(len(t.groups), width)
    by_column = {g: table[i] for i, g in enumerate(t.groups)}
    if OVERALL in t.masks:
        by_column[OVERALL] = table.sum(axis=0)
    has_missing = bool(table[:, 0].any())
    in_denominator = t.options.missing == "row"
    cells: dict[str, Summary | CategoryCounts] = {}
    for g, row in by_column.items():
        counts = {level: int(n) for level, n in zip(levels, row[1:], strict=True)}
        if has_missing:
            counts[MISSING] = int(row[0])
        total = int(row.sum())
        cells[g] = CategoryCounts(
            counts, total if in_denominator else total - int(row[0]), in_denominator
        )
    test = RowTest(None, None, None)
    if v.test == "chi2":
        dtype = pd.CategoricalDtype(levels)
        coded = pd.Series(pd.Categorical.from_codes(codes, dtype=dtype), index=values.index)
        result = compare_categorical(t.data(v.column, coded), v.column, t.groups, seed=t.seed)
        test = RowTest(result.test, result.statistic, result.p_value, result.reason)
    known_counts = {g: by_column[g][1:] for g in t.groups}
    smd = t.pairs(categorical_smd, known_counts)
    return TableOneRow(v, (*levels, MISSING) if has_missing else tuple(levels), cells, test, smd)


def _continuous_row(v: TableOneVariable, values: pd.Series, t: _Layout) -> TableOneRow:
    cells: dict[str, Summary | CategoryCounts] = {
        g: Summary.of(values[m]) for g, m in t.masks.items()
    }
    present = {g: values[t.masks[g]].dropna().to_numpy(dtype=float) for g in t.groups}
    test = RowTest(None, None, None)
    if v.test == "kruskal":
        data = t.data(v.column, values)
        result = compare_continuous(data, v.column, t.groups, seed=t.seed, pairwise=False)
        test = RowTest("kruskal", result.statistic, result.p_value, result.reason)
    elif v.test == "anova":
        test = _anova(present, t.groups)
    return TableOneRow(v, (), cells, test, t.pairs(continuous_smd, present))


def _anova(present: dict[str, np.ndarray], groups: tuple[str, ...]) -> RowTest:
    small = [g for g in groups if present[g].size < MIN_FOR_TEST]
    if small or len(groups) < 2:
        reason = f"fewer than {MIN_FOR_TEST} values in: {', '.join(small)}" if small else None
        return RowTest("anova", None, None, reason or "fewer than two groups")
    if np.unique(np.concatenate([present[g] for g in groups])).size < 2:
        return RowTest("anova", None, None, "all values are equal")
    result = stats.f_oneway(*(present[g] for g in groups))
    return RowTest("anova", float(result.statistic), float(result.pvalue))


def table_one(
    frame: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: TableOneOptions | None = None,
    *,
    overall: bool = True,
    seed: int = 0,
) -> TableOne:
    """Describe the groups: one row per chosen variable, with tests and SMDs.

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients. Not modified.
    groups : sequence of str
        Groups to describe (default the three IMNM groups; any of the seven may be given).
    options : TableOneOptions, optional
        Variables, missing-value convention and SMDs (default: the toolkit's rows, missing
        values as a row, SMDs on).
    overall : bool
        Add an ``overall`` column for the groups together.
    seed : int
        Seed of the permutation tests.

    Returns
    -------
    TableOne

    Raises
    ------
    ConfigError
        A variable given in ``options`` names a column the frame lacks, or a continuous
        variable holds text. A default row (:data:`DEFAULT_VARIABLES`) whose column the frame
        lacks is left out instead, and a note in :attr:`TableOne.notes` says so.
    """
    options = options or TableOneOptions()
    notes: tuple[str, ...] = ()
    if options.variables is DEFAULT_VARIABLES:  # the toolkit's rows, not the user's
        absent = [v for v in options.variables if not _can_make(frame, v.column)]
        if absent:
            kept = tuple(v for v in options.variables if v not in absent)
            options = dataclasses.replace(options, variables=kept)
            notes = (
                "Left out of Table 1, the cohort having no such column: "
                + ", ".join(f"{v.label} ('{v.column}')" for v in absent)
                + ".",
            )
    groups = tuple(groups)
    labels = pd.Series(
        pd.Categorical(frame[GROUP_COLUMN], categories=list(groups)), index=frame.index
    )
    group = labels.cat.codes.to_numpy()
    masks = {g: group == i for i, g in enumerate(groups)}
    if overall:
        masks[OVERALL] = group >= 0
    layout = _Layout(masks, groups, options, labels, seed)
    rows = []
    for v in options.variables:
        make = _continuous_row if v.kind == "continuous" else _categorical_row
        rows.append(make(v, _values(frame, v), layout))
    n = {g: int(m.sum()) for g, m in masks.items()}
    return TableOne(groups, tuple(masks), n, tuple(rows), options, notes)


def _can_make(frame: pd.DataFrame, column: str) -> bool:
    """Whether the frame holds the column or the columns it is computed from."""
    if column in frame.columns:
        return True
    if column not in COMPUTED:
        return False
    try:
        COMPUTED[column][1](frame.iloc[:0])
    except KeyError:
        return False
    return True
