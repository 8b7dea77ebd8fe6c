"""The disclosure self-check: an attacker's pass over a run's aggregate outputs.

Disclosure control (:mod:`imnm_cohort.pipeline.disclosure`) withholds what each result
declares. Before a run is published, this module reads the outputs as a reader would and
tries to get every withheld count back; a run where it succeeds fails closed
(:class:`DisclosureLeakError`: exit code 1, nothing published, the offending output and
path named in one line). It looks for:

* **counts given back by the linear margins** (:func:`check_counts`): every published
  integer and every withheld marker of an output, with the relations a reader knows among
  them (the declared margins and copies of the same count, and what the outputs' shapes
  say whether declared or not: Table 1's cells add up to their denominators and to the
  overall column, a denominator and its missing values to the column's size, the models'
  patients, events and competing events to the malignancy table's groups), form a small
  integer system; :func:`imnm_cohort.pipeline.inference.solve` finds every withheld count
  it pins to one value. ``<k`` bounds a count to 1..k-1, ``<=k`` to 1..k, ``[withheld]``
  to 0 or more, a rounded count to the values that round to it.
* **exact-test statistics** (:func:`check_statistics`): a contingency test's statistic
  (the table probability of the Fisher-Freeman-Halton test, Pearson's chi-square)
  published beside withheld cells is held against every table that fits the published
  cells and margins; a statistic that only the true table gives is a leak. A full-precision
  statistic whose candidate tables are too many to enumerate counts as a leak too (fail
  closed).
* **model terms of a withheld group** (:func:`check_models`): a group term's estimate,
  standard error or interval, where that group's (or the reference group's) cancers are
  withheld (for a binary term, SE^2 - 1/events_ref is about 1/events).
* **notes that narrow a marker** (:func:`check_notes`): "fewer than 2 values in: srp"
  beside ``n = "<5"`` says the group has one value.
* **figure values** (:func:`check_figures`): a curve drawn for a group whose events the
  summary withholds, a curve going on at a whole year where fewer than ``k`` remain at
  risk, or a curve value equal to an estimate the summary withholds.

When the run's values before disclosure control are given (``truth``), each relation is
kept only if they satisfy it: a relation that does not hold on some data (a model that
leaves patients out) never makes the check claim a leak that is not there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imnm_cohort.errors import ImnmCohortError
from imnm_cohort.pipeline.declarations import Declaration, Path, dotted
from imnm_cohort.pipeline.disclosure import WITHHELD, Policy, _get, leaves
from imnm_cohort.pipeline.inference import (
    INF,
    Relation,
    Solution,
    System,
    enumerate_solutions,
    solve,
)

if TYPE_CHECKING:
    from imnm_cohort.analysis.plotdata import FigureData

__all__ = [
    "DisclosureLeakError", "Finding", "SelfCheck", "added_patient_group", "check_counts",
    "check_figures", "check_models", "check_notes", "check_run", "check_statistics",
]  # fmt: skip

#: Candidate tables enumerated per exact-test statistic before giving up.
MAX_TABLES = 20_000
#: Significant digits from which a published statistic counts as full precision.
FULL_PRECISION = 10
_MODELS = ("cause_specific_cox", "fine_gray")
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
_CONTINGENCY = {"fisher_freeman_halton", "permutation_chi2", "chi2"}


class DisclosureLeakError(ImnmCohortError):
    """The self-check got a withheld value back from the outputs (exit code 1; nothing
    is published)."""


@dataclass(frozen=True)
class Finding:
    """One withheld value that the outputs give back.

    Attributes
    ----------
    output : str
        The file (``summary.json``, ``figures/survival.svg``).
    path : str
        Where in it (a dotted path, or a figure's curve).
    reason : str
        How it comes back.
    """

    output: str
    path: str
    reason: str

    def line(self) -> str:
        """The finding in one line."""
        return f"{self.output}: {self.path}: {self.reason}"


@dataclass(frozen=True)
class SelfCheck:
    """The outcome of the self-check.

    Attributes
    ----------
    findings : tuple of Finding
    variables, relations, solves : int
        The size of the integer system and the integer programs it took.
    """

    findings: tuple[Finding, ...]
    variables: int = 0
    relations: int = 0
    solves: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing withheld came back."""
        return not self.findings

    def raise_if_leaks(self) -> None:
        """Raise :class:`DisclosureLeakError` naming the first finding.

        Raises
        ------
        DisclosureLeakError
        """
        if self.findings:
            more = len(self.findings) - 1
            extra = f" (and {more} more)" if more else ""
            raise DisclosureLeakError(
                f"disclosure self-check: {self.findings[0].line()}{extra}; nothing was published"
            )


# --------------------------------------------------------------------------- counts


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
    return system


def check_counts(
    outputs: Iterable[tuple[str, dict[str, Any], Declaration, dict[str, Any] | None]],
    policy: Policy,
) -> SelfCheck:
    """Withheld counts that the published counts and margins pin to one value.

    Parameters
    ----------
    outputs : iterable of (name, data, declaration, truth)
        Each aggregate JSON output as published, its declaration, and optionally its
        values before disclosure control (to keep only the relations that hold).
    policy : Policy

    Returns
    -------
    SelfCheck
    """
    return _pinned(*_solved(outputs, policy))


def _solved(
    outputs: Iterable[tuple[str, dict[str, Any], Declaration, dict[str, Any] | None]],
    policy: Policy,
) -> tuple[System, Solution]:
    system = _system(outputs, policy)
    return system, solve(system)


def _pinned(system: System, solution: Solution) -> SelfCheck:
    findings = []
    for v in solution.pinned:
        output, _, where = system.names[v].partition(": ")
        value = int(solution.lo[v])
        findings.append(
            Finding(output, where, f"withheld, but the published margins give it back ({value})")
        )
    return SelfCheck(tuple(findings), len(system.names), len(system.relations), solution.solves)


# --------------------------------------------------------------------------- statistics


def _significant_digits(value: float) -> int:
    mantissa = repr(float(value)).lower().split("e")[0].replace("-", "").replace(".", "")
    return len(mantissa.lstrip("0")) or 1


def _tolerance(value: float) -> float:
    """How far a true statistic may be from the published one: half a unit of its last
    digit, or a relative 1e-9 for a full-precision value."""
    digits = _significant_digits(value)
    if digits >= FULL_PRECISION or value == 0:
        return 1e-9 * max(abs(value), 1e-300)
    exponent = math.floor(math.log10(abs(value)))
    return 0.5 * 10.0 ** (exponent - digits + 1) * (1 + 1e-9)


def _statistic(test: str, table: list[list[int]]) -> float | None:
    """The test's statistic of a table (groups x levels), empty rows and columns left out."""
    import numpy as np
    from scipy.special import gammaln

    m = np.asarray(table, dtype=float)
    m = m[m.sum(axis=1) > 0][:, m.sum(axis=0) > 0]
    if m.size == 0:
        return None
    if test == "fisher_freeman_halton":
        log_p = (
            gammaln(m.sum(axis=1) + 1).sum()
            + gammaln(m.sum(axis=0) + 1).sum()
            - gammaln(m.sum() + 1)
            - gammaln(m + 1).sum()
        )
        return float(np.exp(log_p))
    from imnm_cohort.analysis.contingency import pearson_chi2

    return float(pearson_chi2(m))


def check_statistics(
    summary: dict[str, Any],
    declaration: Declaration,
    policy: Policy,
    truth: Any = None,
    solved: tuple[System, Solution] | None = None,
) -> SelfCheck:
    """Contingency-test statistics of Table 1 that single out the true table among those
    fitting the published cells and margins (see the module); ``solved`` is the system
    of the summary's counts, already solved, when the caller has it."""
    table = summary.get("table_one")
    if not isinstance(table, dict):
        return SelfCheck(())
    if solved is None:
        system = _system([("summary.json", summary, declaration, truth)], policy)
        solved = system, solve(system)
    system, solution = solved
    if not solution.consistent:
        return SelfCheck(())
    touching: dict[int, list[Relation]] = {}
    for rel in system.relations:
        for v, _ in rel.terms:
            touching.setdefault(v, []).append(rel)
    findings = []
    groups = list(table.get("groups", []))
    for i, row in enumerate(table.get("rows", [])):
        test = row.get("test") or {}
        if test.get("test") not in _CONTINGENCY or not _is_number(test.get("statistic")):
            continue
        statistic = float(test["statistic"])
        levels = [lv for lv in row.get("levels", []) if lv != "missing"]
        at: Path = ("table_one", "rows", i, "cells")
        cells = [[system.index(f"summary.json: {dotted((*at, g, 'counts', lv))}") for lv in levels]
                 for g in groups]  # fmt: skip
        flat = [v for r in cells for v in r]
        if any(v is None for v in flat) or not any(system.withheld[v] for v in flat if v):
            continue
        index = [v for v in flat if v is not None]
        candidates = _candidates(system, solution.lo, solution.hi, index, touching)
        where = dotted(("table_one", "rows", i, "test", "statistic"))
        if candidates is None:
            if _significant_digits(statistic) >= FULL_PRECISION:
                findings.append(
                    Finding(
                        "summary.json",
                        where,
                        f"an exact statistic at full precision beside withheld cells; more "
                        f"than {MAX_TABLES} tables fit the margins, so it could not be ruled out",
                    )
                )
            continue
        tolerance = _tolerance(statistic)
        width = len(levels)
        matches = 0
        for values in candidates:
            grid = [list(values[r * width : (r + 1) * width]) for r in range(len(groups))]
            s = _statistic(str(test["test"]), grid)
            if s is not None and abs(s - statistic) <= tolerance:
                matches += 1
        if matches == 1 and len(candidates) > 1:
            findings.append(
                Finding(
                    "summary.json",
                    where,
                    f"only one of the {len(candidates)} tables that fit the published cells "
                    f"and margins gives this statistic: it gives back the withheld cells of "
                    f"{dotted(at)}",
                )
            )
    return SelfCheck(tuple(findings), len(system.names), len(system.relations), solution.solves)


def _candidates(
    system: System,
    lo: tuple[float, ...],
    hi: tuple[float, ...],
    variables: list[int],
    touching: dict[int, list[Relation]],
) -> list[tuple[int, ...]] | None:
    """The assignments of ``variables`` the relations among the row's counts allow."""
    inside = set(variables)
    # The relations that touch the row, with the other variables they name.
    near = list({id(r): r for v in variables for r in touching.get(v, [])}.values())
    for r in near:
        inside |= {v for v, _ in r.terms}
    sub = System()
    for v in sorted(inside):
        sub.variable(system.names[v], lo[v], hi[v], system.withheld[v])
    local = {v: sub.index(system.names[v]) for v in inside}
    for r in near:
        sub.relate([(local[v] or 0, c) for v, c in r.terms], r.rhs, equal=r.equal)
    wanted = [local[v] for v in variables]
    return enumerate_solutions(
        sub, [w for w in wanted if w is not None], sub.lo, sub.hi, MAX_TABLES
    )


# --------------------------------------------------------------------------- models


def _withheld(value: Any) -> bool:
    return isinstance(value, str)


def check_models(summary: dict[str, Any]) -> SelfCheck:
    """Group terms of the cancer models shown while the cancers of that group, or of the
    reference group, are withheld."""
    groups = _get(summary, ("comparisons", "malignancy", "groups"))
    if not isinstance(groups, dict):
        return SelfCheck(())
    hidden = {
        g for g, row in groups.items() if isinstance(row, dict) and _withheld(row.get("events"))
    }
    findings = []
    for model in _MODELS:
        result = summary.get(model)
        if not isinstance(result, dict):
            continue
        reference = result.get("reference_group")
        for j, term in enumerate(result.get("terms") or []):
            name = str(term.get("term", ""))
            if not name.startswith("group_"):
                continue
            group = name.removeprefix("group_")
            if group not in hidden and reference not in hidden:
                continue
            whose = group if group in hidden else reference
            for key, value in term.items():
                shown = _is_number(value) or (
                    isinstance(value, list) and any(_is_number(x) for x in value)
                )
                if shown and key not in ("term",):
                    findings.append(
                        Finding(
                            "summary.json",
                            dotted((model, "terms", j, key)),
                            f"shown while the cancers of {whose} are withheld (a group term's "
                            "standard error gives them back)",
                        )
                    )
                    break
    return SelfCheck(tuple(findings))


# --------------------------------------------------------------------------- notes

_FEWER = re.compile(r"fewer than (\d+) values in: ([\w, ]+)")


def check_notes(summary: dict[str, Any], policy: Policy) -> SelfCheck:
    """Explanatory notes that narrow a marker: "fewer than 2 values in: srp" beside a
    ``<5`` tells that the group has one value (a note may say "too few values")."""
    findings = []
    for p, value in leaves(summary):
        match = _FEWER.search(value) if isinstance(value, str) else None
        if not match or not 0 < int(match.group(1)) < policy.min_count:
            continue
        # The result the note belongs to (a Table 1 row, a comparison): a count of a
        # named group withheld there is what the note narrows.
        scope = p[:3] if p[:1] == ("table_one",) else p[:2]
        named = {g.strip() for g in match.group(2).split(",")}
        if any(
            q[-1] == "n" and named & set(map(str, q)) and _withheld(v)
            for q, v in leaves(_get(summary, scope), scope)
        ):
            findings.append(
                Finding(
                    "summary.json",
                    dotted(p),
                    f"says fewer than {match.group(1)} values for {match.group(2)}, "
                    f"narrower than the marker {policy.marker}",
                )
            )
    return SelfCheck(tuple(findings))


# --------------------------------------------------------------------------- figures


def check_figures(
    figures: FigureData, summary: dict[str, Any], truth: dict[str, Any] | None = None
) -> SelfCheck:
    """Curves that show what the summary withholds (see the module)."""
    k = figures.min_count
    findings: list[Finding] = []
    plots = (
        ("figures/survival.svg", figures.survival, ("survival", "groups"), "deaths",
         ("survival_at_horizon",), 1.0),
        ("figures/cancer_incidence.svg", figures.incidence,
         ("comparisons", "malignancy", "groups"), "events", ("cumulative_incidence",), 0.0),
    )  # fmt: skip
    for output, curves, at, events, estimates, start in plots:
        for curve in curves:
            if not curve.value:
                continue
            where = f"curve {curve.label}"
            if _withheld(_get(summary, (*at, curve.label, events))):
                findings.append(
                    Finding(
                        output,
                        where,
                        f"drawn while summary.json withholds {dotted((*at, curve.label, events))}",
                    )
                )
                continue
            if k:
                for year, n in zip(figures.years, curve.at_risk, strict=False):
                    small = (isinstance(n, int) and n < k) or str(n).startswith("<")
                    late = [t for t in curve.time if t >= year]
                    if small and late:
                        findings.append(
                            Finding(
                                output,
                                where,
                                f"goes on at {late[0]:g} years with fewer than {k} at risk "
                                f"from year {year}",
                            )
                        )
                        break
            # The curve's value at the horizon, where it is drawn that far: the estimate
            # the summary reports there (a flat curve at its start shows no event only).
            horizon = _get(summary, (*at[:-1], "horizon_years"))
            if truth is None or not _is_number(horizon) or max(curve.time) < horizon:
                continue
            before = [v for t, v in zip(curve.time, curve.value, strict=True) if t <= horizon]
            if not before or before[-1] == start:
                continue
            for name in estimates:
                p = (*at, curve.label, name)
                hidden = _get(truth, p)
                withheld = _withheld(_get(summary, p)) and _is_number(hidden)
                if withheld and abs(before[-1] - hidden) <= 1e-9:
                    findings.append(Finding(output, where, f"shows the withheld {dotted(p)}"))
    return SelfCheck(tuple(findings))


# --------------------------------------------------------------------------- the run


def check_run(
    summary: dict[str, Any],
    declaration: Declaration,
    policy: Policy,
    *,
    figures: FigureData | None = None,
    truth: dict[str, Any] | None = None,
    others: Iterable[tuple[str, dict[str, Any], Declaration]] = (),
) -> SelfCheck:
    """Every check of this module over a run's aggregate outputs.

    Parameters
    ----------
    summary : dict
        ``summary.json`` as published.
    declaration : Declaration
        Its disclosure declaration.
    policy : Policy
    figures : FigureData, optional
        The aggregates the figures are drawn from.
    truth : dict, optional
        ``summary.json`` before disclosure control.
    others : iterable of (name, data, declaration)
        Other aggregate JSON outputs (``changes.json``).

    Returns
    -------
    SelfCheck
    """
    if not policy.active:
        return SelfCheck(())
    outputs = [("summary.json", summary, declaration, truth)]
    outputs += [(name, data, d, None) for name, data, d in others]
    solved = _solved(outputs, policy)
    counts = _pinned(*solved)
    if not solved[1].consistent:
        # The values before control satisfy every relation kept: this is the check's own
        # failure, and it cannot vouch for the outputs (fail closed).
        counts = SelfCheck(
            (Finding("summary.json", "counts", "the self-check could not solve its margins"),)
        )
    parts = [
        counts,
        check_statistics(summary, declaration, policy, truth, solved),
        check_models(summary),
        check_notes(summary, policy),
        *([check_figures(figures, summary, truth)] if figures is not None else []),
    ]
    return SelfCheck(
        tuple(f for part in parts for f in part.findings),
        counts.variables,
        counts.relations,
        sum(part.solves for part in parts),
    )


# --------------------------------------------------------------------------- two runs


def added_patient_group(
    before: tuple[dict[str, Any], Declaration, dict[str, Any] | None],
    after: tuple[dict[str, Any], Declaration, dict[str, Any] | None],
    policy: Policy,
) -> str | None:
    """The group of the one patient added between two runs, when the two summaries
    together give it away (differencing; see ``docs/reports.md``, "Self-check").

    Each run is ``(summary, declaration, truth)``. The group sizes of the two runs are
    joined by ``after = before + added`` with exactly one group gaining one patient; the
    group is given away when only one group can have gained.
    """
    system = System()
    sizes = {}
    for name, (data, declaration, truth) in (("before", before), ("after", after)):
        builder = _Builder(system, name, data, truth, policy)
        builder.declared(declaration)
        builder.summary_shapes(data)
        sizes[name] = {g: builder.var(("groups", g)) for g in data.get("groups", {})}
    added = {}
    for g in sizes["after"]:
        a, b = sizes["before"].get(g), sizes["after"][g]
        if a is None or b is None:
            return None
        added[g] = system.variable(f"added: {g}", 0, 1, True)
        system.relate([(b, 1), (a, -1), (added[g], -1)])
    system.relate([(v, 1) for v in added.values()], 1)
    solution = solve(system)
    gained = [g for g, v in added.items() if v in solution.pinned and solution.lo[v] == 1]
    return gained[0] if gained else None
