"""What a reader can state among an output's published counts, as an integer system.

One home for the relations a reader knows (the declared margins and copies of the same
count, and what the shapes of ``summary.json`` say whether declared or not), shared by
disclosure control (:mod:`imnm_cohort.disclosure.suppression`, which withholds more until
nothing is given back) and the self-check (:mod:`imnm_cohort.pipeline.selfcheck`, which
fails a run closed when something is). The solver is :mod:`imnm_cohort.disclosure.inference`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from imnm_cohort.disclosure.declarations import WITHHELD, Declaration, Path, dotted, get
from imnm_cohort.disclosure.inference import INF, System

if TYPE_CHECKING:
    from imnm_cohort.disclosure.policy import Policy

_get = get

#: Declared margins whose difference (patients with a cancer before time zero, censored
#: patients) no output shows: a reader knows only that the cells add up to at most the
#: total, even where the difference happens to be 0.
_AT_MOST = {
    (("at_risk", "time_zero_after_end"), "n"),
    (("events", "deaths"), "at_risk"),
    (("deaths",), "n"),
    (("events", "competing"), "n"),
    (("n",), "exposed"),
}

Outputs = Iterable[tuple[str, dict[str, Any], Declaration, dict[str, Any] | None]]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounds(value: Any, policy: Policy) -> tuple[float, float, bool] | None:
    """What a published value says of the count behind it: (low, high, withheld)."""
    if _is_int(value):
        if not policy.rounding or value == 0:
            return value, value, False
        low, high = value - policy.rounding // 2, value + (policy.rounding - 1) // 2
        return max(low, policy.min_count + 1, 0), high, False
    if value == policy.marker and policy.active:
        return 1, (policy.min_count if policy.rounding else policy.min_count - 1), True
    if value == WITHHELD:
        return 0, INF, True
    return None


class _Builder:
    """Relations among the counts of one output, as a reader can state them."""

    def __init__(self, system: System, output: str, data: Any, truth: Any, policy: Policy) -> None:
        self.system, self.output, self.data, self.truth, self.policy = (
            system,
            output,
            data,
            truth,
            policy,
        )
        self.dropped = 0

    def var(self, p: Path) -> int | None:
        bounds = _bounds(_get(self.data, p), self.policy)
        if bounds is None:
            return None
        return self.system.variable(f"{self.output}: {dotted(p)}", *bounds)

    def relate(self, terms: Iterable[tuple[Path, int]], *, equal: bool = True) -> None:
        """``sum(coef * count) == 0`` (or ``<= 0``), if every count is there and, when
        the values before control are known, they satisfy it."""
        terms = list(terms)
        index = [self.var(p) for p, _ in terms]
        if any(i is None for i in index) or len(terms) < 2:
            return
        if self.truth is not None:
            values = [_get(self.truth, p) for p, _ in terms]
            if all(_is_int(v) for v in values):
                total = sum(c * v for (_, c), v in zip(terms, values, strict=True))
                if total != 0 if equal else total > 0:
                    self.dropped += 1
                    return
        pairs = [(i, c) for i, (_, c) in zip(index, terms, strict=True) if i is not None]
        self.system.relate(pairs, 0, equal=equal, source=self.output)

    def declared(self, declaration: Declaration) -> None:
        """Copies of the same count are equal; a margin's cells add up to its total
        (exactly, or at most when the declaration says some are left out)."""
        keyed: dict[str, list[Path]] = {}
        for c in declaration.counts:
            if c.key:
                keyed.setdefault(c.key, []).append(c.path)
        for paths in keyed.values():
            for p in paths[1:]:
                self.relate([(paths[0], 1), (p, -1)])
        for m in declaration.margins:
            total = keyed.get(m.total, [None])[0] if isinstance(m.total, str) else m.total
            if total is None:
                continue
            shape = (tuple(c[-1] for c in m.cells), total[-1])
            exact = m.rest == 0 and shape not in _AT_MOST
            self.relate([*((c, 1) for c in m.cells), (total, -1)], equal=exact)

    def summary_shapes(self, summary: dict[str, Any]) -> None:
        """What the shapes of ``summary.json`` tell a reader, declared or not."""
        table = summary.get("table_one")
        if isinstance(table, dict):
            self._table_one(table)
        groups = _get(summary, ("comparisons", "malignancy", "groups"))
        if not isinstance(groups, dict):
            return
        at = ("comparisons", "malignancy", "groups")
        for model, totals in (
            ("cause_specific_cox", (("n", "at_risk"), ("events", "events"))),
            ("fine_gray", (("n", "at_risk"), ("events", "events"), ("competing", "deaths"))),
        ):
            for total, part in totals:
                cells = [((*at, g, part), 1) for g in groups]
                self.relate([*cells, ((model, total), -1)])

    def _table_one(self, table: dict[str, Any]) -> None:
        at: Path = ("table_one",)
        groups = list(table.get("groups", []))
        columns = list(table.get("columns", []))
        overall = "overall" in columns
        exclude = table.get("missing_values") == "exclude"
        if overall:
            self.relate([*(((*at, "n", g), 1) for g in groups), ((*at, "n", "overall"), -1)])
        for i, row in enumerate(table.get("rows", [])):
            cells: Path = (*at, "rows", i, "cells")
            for c in columns:
                size = (*at, "n", c)
                if row.get("kind") == "continuous":
                    self.relate([((*cells, c, "n"), 1), ((*cells, c, "missing"), 1), (size, -1)])
                    continue
                counts = _get(self.data, (*cells, c, "counts"))
                if not isinstance(counts, dict):
                    continue
                denominator = (*cells, c, "denominator")
                known = [lv for lv in counts if lv != "missing"]
                missing = [((*cells, c, "counts", "missing"), 1)] if "missing" in counts else []
                shown = known if exclude else list(counts)
                self.relate([*(((*cells, c, "counts", lv), 1) for lv in shown), (denominator, -1)])
                self.relate([(denominator, 1), *(missing if exclude else []), (size, -1)])
            if not overall:
                continue
            # Each count adds up over the groups to the overall column.
            if row.get("kind") == "categorical":
                parts = [("denominator",), *(("counts", lv) for lv in row.get("levels", []))]
            else:
                parts = [("n",), ("missing",)]
            for part in parts:
                self.relate(
                    [*(((*cells, g, *part), 1) for g in groups), ((*cells, "overall", *part), -1)]
                )


def _system(
    outputs: Iterable[tuple[str, dict[str, Any], Declaration, dict[str, Any] | None]],
    policy: Policy,
) -> System:
    system = System()
    for name, data, declaration, truth in outputs:
        builder = _Builder(system, name, data, truth, policy)
        builder.declared(declaration)
        if name == "summary.json":
            builder.summary_shapes(data)
    _parts_of_zero(system)
    return system


def _parts_of_zero(system: System) -> None:
    """Counts that add up to a published 0, or copies of a published 0, are 0 for every
    reader: not a leak to report (the overall column's 0 missing values says each group's
    is 0 too)."""

    def shown_zero(v: int) -> bool:
        return not system.withheld[v] and system.lo[v] == system.hi[v] == 0

    for rel in system.relations:
        if not rel.equal or rel.rhs:
            continue
        totals = [v for v, c in rel.terms if c == -1]
        parts = [v for v, c in rel.terms if c == 1]
        if len(totals) != 1 or len(parts) + 1 != len(rel.terms):
            continue
        if shown_zero(totals[0]):
            for v in parts:
                system.withheld[v] = False
        elif len(parts) == 1 and shown_zero(parts[0]):  # a copy
            system.withheld[totals[0]] = False


def read(
    data: dict[str, Any], declaration: Declaration, truth: dict[str, Any] | None, policy: Policy
) -> System:
    """The relations a reader can state among one published output's counts: its declared
    margins and copies, and what its shapes say (Table 1, the malignancy models) where it
    has them. Variables are named by the count's dotted path."""
    system = System()
    builder = _Builder(system, "", data, truth, policy)
    builder.declared(declaration)
    builder.summary_shapes(data)
    _parts_of_zero(system)
    return system
