"""Classification in the database: the decision procedure compiled by ibis to one CASE
expression.

The rules (:data:`~imnm_cohort.classify.rules.RULES`), the criteria sets' predicates and the
derived columns are written once over :class:`~imnm_cohort.classify.columns.Columns`.
:class:`IbisColumns` answers them with ibis expressions, so :func:`classify_expr` builds from
those same definitions a query that runs where the data is (DuckDB, PostgreSQL, or any
other ibis backend):

1. the facts (:class:`~imnm_cohort.classify.rules.Facts`) are computed once per row, as
   columns of an inner query;
2. ``imnm_group`` is one searched CASE over every rule's outcomes in the procedure's order:
   the first outcome that holds belongs to the first rule that applies, and gives its group;
3. ``classification_reasons`` is one searched CASE over the rules: the first rule that
   applies gives the codes of its outcomes that hold, joined by ``;`` in the rule's order
   (``CONCAT_WS`` skips the codes that do not hold);
4. ``criteria`` is the set's name, and the derived columns are computed on day numbers.

The scored classifiers (``eular_acr_2017_*``) are not compiled: they run in memory on the
rows that leave the database.

ibis is imported when this module is; :mod:`imnm_cohort.classify` does not import it.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from imnm_cohort.classify.columns import Mask
from imnm_cohort.classify.criteria import DEFAULT_CRITERIA, CriteriaSet, get_criteria
from imnm_cohort.classify.derived import DERIVED_COLUMNS, derived_over
from imnm_cohort.classify.rules import RULES, Facts
from imnm_cohort.sources.files import carried_names, is_reserved
from imnm_cohort.vocabulary import GROUP_COLUMN, GROUPS

__all__ = ["IbisColumns", "classified_frame", "classify_expr"]

#: Prefix of the inner query's fact columns (dropped from the result; lengthened with
#: underscores while an input column starts with it).
_FACT = "_imnm_fact_"


@dataclass(frozen=True)
class IbisColumns:
    """:class:`~imnm_cohort.classify.columns.Columns` over an ibis table: every column and
    mask is an ibis expression, and an empty value (SQL NULL) reads as it does in memory."""

    table: ir.Table

    def __getitem__(self, name: str) -> ir.Column:
        """The column ``name``."""
        return self.table[name]

    def holds(self, condition: ir.BooleanValue) -> ir.BooleanValue:
        """Where ``condition`` is true; NULL (unknown) is false."""
        return condition.fill_null(False)

    def known(self, name: str) -> ir.BooleanValue:
        """Where the column ``name`` is not NULL."""
        return self.table[name].notnull()

    def filled(self, name: str, value: float) -> ir.Value:
        """The column ``name`` with NULL replaced by ``value``."""
        return self.table[name].fill_null(value)

    def choose(self, cases: Sequence[tuple[Mask, str]], default: str) -> ir.StringValue:
        """A searched CASE: the text of the first case whose mask holds, else ``default``."""
        return ibis.cases(*((mask, str(text)) for mask, text in cases), else_=str(default))

    def days(self, later: ir.Value, earlier: ir.Value) -> ir.FloatingValue:
        """Whole days between the two dates, as a double (NULL where either is)."""
        return later.cast("date").delta(earlier.cast("date"), unit="day").cast("float64")

    def first_known(self, first: str, second: str) -> ir.Value:
        """``COALESCE(first, second)``."""
        return ibis.coalesce(self.table[first], self.table[second])

    def where(self, mask: Mask, values: ir.Value) -> ir.FloatingValue:
        """``values`` where ``mask`` holds, NULL elsewhere."""
        return ibis.ifelse(mask, values, ibis.null("float64"))


def classify_expr(table: ir.Table, criteria: str | CriteriaSet = DEFAULT_CRITERIA) -> ir.Table:
    """Classify validated patients in the database, as :func:`~imnm_cohort.classify` does
    in memory (without the scored classifiers).

    Parameters
    ----------
    table : ibis.Table
        Valid patients with the contract's columns and types (dates as dates or timestamps,
        booleans, numbers, text), on any ibis backend.
    criteria : str or CriteriaSet
        ``"tma2025"`` (default) or ``"enmc2017"``.

    Returns
    -------
    ibis.Table
        An expression, nothing run yet: the input columns (one named like an output column
        is carried as ``extract.<name>``), then ``imnm_group``, ``criteria``,
        ``classification_reasons``, ``age_at_onset_years``, ``statin_latency_months`` and
        ``followup_years``, with the same values as in memory.

    Raises
    ------
    UnknownCriteriaError
        For an unknown criteria set.
    """
    criteria_set = get_criteria(criteria)
    table = _carry_reserved(table)
    inputs = table.columns
    names = [field.name for field in dataclasses.fields(Facts)]
    facts = Facts.over(IbisColumns(table), criteria_set)
    prefix = _FACT
    while any(c.startswith(prefix) for c in inputs):  # never shadow an input column
        prefix = "_" + prefix
    with_facts = table.mutate(**{prefix + n: getattr(facts, n) for n in names})
    f = Facts(**{n: with_facts[prefix + n] for n in names})
    group, reasons = _decision(f)
    derived = derived_over(IbisColumns(with_facts))
    added = {
        GROUP_COLUMN: group,
        "criteria": ibis.literal(criteria_set.name, type="string"),
        "classification_reasons": reasons,
        **{name: derived[name] for name in DERIVED_COLUMNS},
    }
    return with_facts.select(*inputs, **added)


def _decision(facts: Facts) -> tuple[ir.StringValue, ir.StringValue]:
    """``imnm_group`` and ``classification_reasons`` as two searched CASE expressions over
    the rules' outcomes (the first rule that applies decides)."""
    outcomes = [rule.outcomes(facts) for rule in RULES]
    group = ibis.cases(*((mask, code.group) for held in outcomes for code, mask in held))
    reasons = ibis.cases(
        *((reduce(operator.or_, [mask for _, mask in held]), _joined(held)) for held in outcomes)
    )
    return group, reasons


def _joined(held: list[tuple[Any, Mask]]) -> ir.StringValue:
    """The codes of the outcomes that hold, ``;``-separated in the rule's order."""
    if len(held) == 1:
        return ibis.literal(held[0][0].value, type="string")
    return ibis.literal(";").join(
        [ibis.ifelse(mask, code.value, ibis.null("string")) for code, mask in held]
    )


def _carry_reserved(table: ir.Table) -> ir.Table:
    """``table`` with the columns named like an output column renamed ``extract.<name>``,
    as the in-memory classifier and the extract reader carry them."""
    if not any(is_reserved(c) for c in table.columns):
        return table
    names = carried_names(list(table.columns))
    return table.rename(
        {new: old for old, new in zip(table.columns, names, strict=True) if old != new}
    )


def classified_frame(expr: ir.Table) -> pd.DataFrame:
    """Run a :func:`classify_expr` query and type its result as the in-memory classifier
    does (``imnm_group`` categorical over the seven groups, derived columns as floats)."""
    frame = expr.to_pandas()
    frame[GROUP_COLUMN] = pd.Categorical(frame[GROUP_COLUMN], categories=list(GROUPS))
    for name in DERIVED_COLUMNS:
        frame[name] = frame[name].astype(float)
    return frame
