"""What a reader can work out from published counts: a small integer system and its solver.

The disclosure self-check (:mod:`imnm_cohort.pipeline.selfcheck`) states what a reader of
the aggregate outputs knows as a :class:`System`: one integer variable per count it talks
about (a published count is a variable with one value, or the interval its rounding
allows; a withheld count is a variable with the bounds its marker states), and linear
relations among them (a margin: cells that add up to a total; an inequality: deaths never
exceed a group's size). :func:`pinned` then finds every withheld variable that can take a
single value only: a count the reader gets back exactly.

The method is exact and its cost follows the number of published cells:

1. **Bounds propagation** (interval arithmetic over each relation, to a fixed point): each
   relation bounds each of its variables by the others' intervals, rounded inwards to
   integers. Its cost is a few passes over the relations, which are as many as the
   published margins and about as long as a table's row. It settles every count that
   differencing alone gives back (a total minus the shown cells).
2. **Integer programs on what is left** (HiGHS through :func:`scipy.optimize.milp`): the
   variables still not fixed are split into components (variables joined by a relation in
   which both are unknown; published counts are constants, so a component is the withheld
   cells of one table and the withheld totals it shares). For each variable of a component
   the smallest and largest feasible integer are found, unless two feasible solutions
   already found give it two different values (then it cannot be pinned): each solve
   witnesses a value for every variable of the component, so a handful of solves settle a
   component. A variable whose minimum equals its maximum is pinned. A withheld count
   open above (``[withheld]``: 0 or more) may have no largest value: before its maximum
   is asked for, one program looks for an integer direction that raises it without end
   while keeping every relation and bound (checked here in integers); with the solution
   its minimum gave, such a direction shows it unbounded (HiGHS, asked to maximise such
   a count, can answer "infeasible or unbounded" even without presolve).

Propagation alone is exact for a lone unknown (every relation it is in bounds it alone);
the integer programs make the answer exact for every larger component, whatever the
propagation left.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

INF = math.inf

#: The largest entry of a direction :func:`_ray` looks for.
_RAY_BOUND = 1_000_000.0


@dataclass(frozen=True)
class Relation:
    """``sum(coef * x) == rhs`` (``equal``) or ``<= rhs``, over variables by index.

    Attributes
    ----------
    terms : tuple of (int, int)
        (variable, coefficient) pairs.
    rhs : int
    equal : bool
    source : str
        Where the relation comes from (for messages).
    """

    terms: tuple[tuple[int, int], ...]
    rhs: int = 0
    equal: bool = True
    source: str = ""


@dataclass
class System:
    """Integer variables with bounds, and linear relations among them.

    Attributes
    ----------
    names : list of str
        A name per variable (an output path).
    lo, hi : list of float
        Bounds (``hi`` may be infinite).
    withheld : list of bool
        Whether the variable is a withheld value (only those can leak).
    relations : list of Relation
    """

    names: list[str] = field(default_factory=list)
    lo: list[float] = field(default_factory=list)
    hi: list[float] = field(default_factory=list)
    withheld: list[bool] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)

    def variable(self, name: str, lo: float, hi: float, withheld: bool) -> int:
        """The variable called ``name``, added with these bounds the first time."""
        if name in self._index:
            return self._index[name]
        self._index[name] = len(self.names)
        self.names.append(name)
        self.lo.append(lo)
        self.hi.append(hi)
        self.withheld.append(withheld)
        return self._index[name]

    def index(self, name: str) -> int | None:
        """The variable called ``name``, if there is one."""
        return self._index.get(name)

    def relate(
        self, terms: list[tuple[int, int]], rhs: int = 0, *, equal: bool = True, source: str = ""
    ) -> None:
        """Add ``sum(coef * x) == rhs`` (or ``<= rhs``); a variable named twice adds up."""
        merged: dict[int, int] = {}
        for v, c in terms:
            merged[v] = merged.get(v, 0) + c
        kept = tuple((v, c) for v, c in merged.items() if c)
        if kept:
            self.relations.append(Relation(kept, rhs, equal, source))


@dataclass(frozen=True)
class Solution:
    """What the reader can work out.

    Attributes
    ----------
    lo, hi : tuple of float
        Each variable's bounds after propagation (pinned variables: exact).
    pinned : tuple of int
        Withheld variables that can take a single value only.
    consistent : bool
        False when no integer assignment satisfies the relations (the relations do not
        describe the outputs; nothing can then be concluded).
    solves : int
        Integer programs solved.
    """

    lo: tuple[float, ...]
    hi: tuple[float, ...]
    pinned: tuple[int, ...]
    consistent: bool = True
    solves: int = 0


class _Infeasible(Exception):
    pass


def propagate(system: System, lo: list[float], hi: list[float]) -> None:
    """Tighten ``lo`` and ``hi`` in place to a fixed point of every relation.

    Raises ``_Infeasible`` when a variable's interval becomes empty. Each relation is
    visited again only when one of its variables changed, with a cap on the visits (a
    cap only leaves bounds looser, never wrong).
    """
    touching: dict[int, list[int]] = {}
    for r, rel in enumerate(system.relations):
        for v, _ in rel.terms:
            touching.setdefault(v, []).append(r)
    queue = list(range(len(system.relations)))
    queued = set(queue)
    budget = 50 * max(len(system.relations), 1)
    while queue and budget:
        budget -= 1
        r = queue.pop()
        queued.discard(r)
        rel = system.relations[r]
        # Each term's smallest and largest contribution.
        low = [c * (lo[v] if c > 0 else hi[v]) for v, c in rel.terms]
        high = [c * (hi[v] if c > 0 else lo[v]) for v, c in rel.terms]
        low_sum, high_sum = _sum(low), _sum(high)
        for k, (v, c) in enumerate(rel.terms):
            others_low = _minus(low_sum, low[k], low)
            others_high = _minus(high_sum, high[k], high)
            # c * x <= rhs - others_low; and, for an equality, c * x >= rhs - others_high.
            upper = rel.rhs - others_low
            lower = rel.rhs - others_high if rel.equal else -INF
            if c < 0:
                upper, lower = lower, upper
            new_lo = max(lo[v], math.ceil(lower / c - 1e-9) if math.isfinite(lower) else -INF)
            new_hi = min(hi[v], math.floor(upper / c + 1e-9) if math.isfinite(upper) else INF)
            if new_lo > new_hi:
                raise _Infeasible(rel.source)
            if new_lo != lo[v] or new_hi != hi[v]:
                lo[v], hi[v] = new_lo, new_hi
                for other in touching[v]:
                    if other != r and other not in queued:
                        queue.append(other)
                        queued.add(other)


def _sum(values: list[float]) -> float:
    if any(v == INF for v in values) and any(v == -INF for v in values):
        return math.nan
    return math.fsum(values)


def _minus(total: float, part: float, parts: list[float]) -> float:
    """The sum of ``parts`` without ``part`` (recomputed when infinities are involved)."""
    if math.isfinite(total) and math.isfinite(part):
        return total - part
    rest = list(parts)
    rest.remove(part)
    return _sum(rest) if not any(math.isnan(x) for x in rest) else math.nan


def components(system: System, lo: list[float], hi: list[float]) -> Iterator[list[int]]:
    """Groups of variables not yet fixed that share a relation (union-find)."""
    parent = list(range(len(system.names)))

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for rel in system.relations:
        free = [v for v, _ in rel.terms if lo[v] != hi[v]]
        for v in free[1:]:
            parent[find(v)] = find(free[0])
    groups: dict[int, list[int]] = {}
    for v in range(len(system.names)):
        if lo[v] != hi[v]:
            groups.setdefault(find(v), []).append(v)
    yield from groups.values()


def solve(system: System) -> Solution:
    """Every withheld variable that the relations pin to one value (see the module)."""
    lo, hi = list(system.lo), list(system.hi)
    try:
        propagate(system, lo, hi)
    except _Infeasible:
        return Solution(tuple(system.lo), tuple(system.hi), (), consistent=False)
    solves = 0
    pinned: set[int] = set()
    groups = list(components(system, lo, hi))
    # Each relation goes to the component of its unknowns (one pass over the relations).
    home = {v: i for i, component in enumerate(groups) for v in component}
    relations: list[list[Relation]] = [[] for _ in groups]
    for rel in system.relations:
        owner = next((home[v] for v, _ in rel.terms if v in home), None)
        if owner is not None:
            relations[owner].append(rel)
    for component, rels in zip(groups, relations, strict=True):
        # A lone unknown: each relation bounds it alone, so propagation was exact.
        if len(component) < 2 or not rels or not any(system.withheld[v] for v in component):
            continue
        found, count = _component(system, component, rels, lo, hi)
        solves += count
        if found is None:
            return Solution(tuple(lo), tuple(hi), (), consistent=False, solves=solves)
        pinned |= found
    for v in range(len(system.names)):
        if system.withheld[v] and lo[v] == hi[v]:
            pinned.add(v)
    return Solution(tuple(lo), tuple(hi), tuple(sorted(pinned)), solves=solves)


def _component(
    system: System, comp: list[int], rels: list[Relation], lo: list[float], hi: list[float]
) -> tuple[set[int] | None, int]:
    """The pinned variables of one component by integer programs; None if infeasible.

    Pinned variables get their value written into ``lo`` and ``hi``.
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    where = {v: i for i, v in enumerate(comp)}
    rows, lower, upper = [], [], []
    for rel in rels:
        row = np.zeros(len(comp))
        rhs = float(rel.rhs)
        for v, c in rel.terms:
            if v in where:
                row[where[v]] += c
            else:
                rhs -= c * lo[v]  # fixed: lo == hi
        rows.append(row)
        lower.append(rhs if rel.equal else -np.inf)
        upper.append(rhs)
    matrix = np.array(rows)
    constraints = LinearConstraint(matrix, np.array(lower), np.array(upper))
    bounds = Bounds(np.array([lo[v] for v in comp]), np.array([hi[v] for v in comp]))
    ones = np.ones(len(comp))
    seen: list[set[int]] = [set() for _ in comp]
    solves = 0

    def extreme(i: int, sign: float) -> float | None:
        """The smallest (sign 1) or largest (sign -1) value of variable i; inf if none."""
        nonlocal solves
        c = np.zeros(len(comp))
        c[i] = sign
        solves += 1
        res = milp(c, integrality=ones, bounds=bounds, constraints=constraints)
        if res.x is None and res.status != 3:
            # HiGHS's presolve can call a feasible system infeasible or fail on it (seen
            # on 60-patient runs whose true counts satisfy every relation): only the
            # solve without presolve decides.
            res = milp(
                c,
                integrality=ones,
                bounds=bounds,
                constraints=constraints,
                options={"presolve": False},
            )
        if res.status == 3:  # unbounded
            return INF
        if res.x is None:
            return None
        for j, x in enumerate(np.rint(res.x).astype(int)):
            seen[j].add(int(x))
        return float(round(res.x[i]))

    found: set[int] = set()
    up: set[int] = set()  # shown to have no largest value (a direction raises them)
    for i, v in enumerate(comp):
        if not system.withheld[v] or len(seen[i]) > 1 or i in up:
            continue
        smallest = extreme(i, 1.0)
        if smallest is None:
            return None, solves
        if len(seen[i]) > 1:
            continue
        if math.isinf(hi[v]):
            # A count open above (``[withheld]``): HiGHS can answer "infeasible or
            # unbounded" for its largest value, with presolve or without (seen on
            # 150-patient runs whose group sizes were all withheld). A direction that
            # raises it (and the counts it raises alongside), with the solution just
            # found, shows it unbounded without asking HiGHS to maximise.
            solves += 1
            direction = _ray(matrix, lower, upper, bounds, i, -1.0)
            if direction is not None:
                up.update(int(j) for j in np.flatnonzero(direction > 0))
                continue
        largest = extreme(i, -1.0)
        if largest is None:
            return None, solves
        if largest == smallest:
            found.add(v)
            lo[v] = hi[v] = smallest
    return found, solves


def _ray(
    rows: Any, lower: list[float], upper: list[float], bounds: Any, i: int, sign: float
) -> Any:
    """An integer direction that moves variable ``i`` without end (down for ``sign`` 1,
    up for -1) and keeps every relation and bound, or None.

    ``d`` with ``rows @ d`` zero on an equality and at most zero on an inequality, each
    ``d[j]`` of a sign its open bounds allow (0 where both bounds are finite), ``d[i]`` at
    least 1 the way asked. Added any number of times to an integer solution it gives
    another one, so with a solution the extreme is unbounded; a program with a solution
    and no such direction has a finite extreme (the coefficients are integers). Entries
    are kept within ``_RAY_BOUND`` (a direction scales, so this only keeps the numbers
    exact), and the direction HiGHS finds is checked here in integers before it is
    believed.
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    a = np.asarray(rows, dtype=float)
    n = a.shape[1]
    low = np.where(np.isfinite(bounds.lb), 0.0, -_RAY_BOUND)
    high = np.where(np.isfinite(bounds.ub), 0.0, _RAY_BOUND)
    if sign < 0:
        low[i] = max(low[i], 1.0)
    else:
        high[i] = min(high[i], -1.0)
    if low[i] > high[i]:
        return None
    row_low = np.where(np.isfinite(np.asarray(lower, dtype=float)), 0.0, -np.inf)
    row_high = np.where(np.isfinite(np.asarray(upper, dtype=float)), 0.0, np.inf)
    res = milp(
        np.zeros(n),
        integrality=np.ones(n),
        bounds=Bounds(low, high),
        constraints=LinearConstraint(a, row_low, row_high),
    )
    if res.x is None:
        return None
    d = np.rint(res.x).astype(np.int64)
    moved = a.astype(np.int64) @ d
    kept = (moved == 0) | ((moved < 0) & (row_low < 0)) | ((moved > 0) & (row_high > 0))
    return d if bool(np.all(kept) and np.all((d >= low) & (d <= high))) else None


def enumerate_solutions(
    system: System, variables: list[int], lo: list[float], hi: list[float], limit: int
) -> list[tuple[int, ...]] | None:
    """Every integer assignment of ``variables`` that the relations allow (depth first, with
    propagation after each choice); None when there are more than ``limit`` or a variable
    is unbounded."""
    out: list[tuple[int, ...]] = []

    def walk(lo: list[float], hi: list[float]) -> bool:
        free = [v for v in variables if lo[v] != hi[v]]
        if not free:
            out.append(tuple(int(lo[v]) for v in variables))
            return len(out) <= limit
        v = min(free, key=lambda u: hi[u] - lo[u])
        if not math.isfinite(hi[v] - lo[v]):
            return False
        for value in range(int(lo[v]), int(hi[v]) + 1):
            lo2, hi2 = list(lo), list(hi)
            lo2[v] = hi2[v] = value
            try:
                propagate(system, lo2, hi2)
            except _Infeasible:
                continue
            if not walk(lo2, hi2):
                return False
        return True

    return out if walk(list(lo), list(hi)) else None
