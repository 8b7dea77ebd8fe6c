"""Withheld counts that the published counts and margins give back (see the package).

The relations a reader can state among an output's counts: the declared margins and copies
of the same count, and what the shapes of ``summary.json`` say whether declared or not.
Also the reading of two runs together (differencing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from imnm_cohort.disclosure.declarations import Declaration
from imnm_cohort.disclosure.inference import Solution, System, solve
from imnm_cohort.disclosure.reading import _Builder, _is_number, _system
from imnm_cohort.disclosure.suppression import Policy
from imnm_cohort.pipeline.selfcheck.findings import Finding, SelfCheck

__all__ = ["_is_number", "_system", "added_patient_group", "check_counts"]


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
