"""Exact-test statistics that single out the true table among those that fit the published
cells and margins (see the package)."""

from __future__ import annotations

import math
from typing import Any

from imnm_cohort.disclosure.declarations import Declaration, Path, dotted
from imnm_cohort.disclosure.inference import Relation, Solution, System, enumerate_solutions, solve
from imnm_cohort.disclosure.suppression import Policy
from imnm_cohort.pipeline.selfcheck.counts import _is_number, _system
from imnm_cohort.pipeline.selfcheck.findings import Finding, SelfCheck

#: Candidate tables enumerated per exact-test statistic before giving up.
MAX_TABLES = 20_000
#: Significant digits from which a published statistic counts as full precision.
FULL_PRECISION = 10
_CONTINGENCY = {"fisher_freeman_halton", "permutation_chi2", "chi2"}


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
