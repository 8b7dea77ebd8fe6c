"""Disclosure control for aggregate outputs, driven by what each result declares.

Every analysis result says which of its numbers are counts of patients and what each count
gives away (:class:`Declaration`); this module applies the governance the pipeline asks for
to those declarations. It never guesses from key names, and it fails closed: an integer that
no declaration covers is withheld (and listed as undeclared; a test keeps that list empty).

Two policies (:class:`Policy`):

* **threshold** (default, ``min_cell_count = 5``): a count from 1 to ``min_count - 1`` is
  withheld and shown as ``<5``; every other count is shown exactly.
* **rounding** (``rounding = 5``, OpenSAFELY style): a count from 1 to ``min_count`` is
  withheld (``<=5``), every other count is rounded to the nearest multiple of ``rounding``.

With a count withheld, the values declared with it are withheld too (``[withheld]``): the
statistics of the patients it counts (``describes``) and the values that give it back
exactly (``reveals``: a percentage, a rate, a survival estimate). Under rounding, a declared
:class:`Share` is recomputed from the rounded counts and the other ``reveals`` are withheld.

Statistics near a withheld count: each count declares the statistics computed from it
together with other counts (``dependents``: a test's statistic and p-value, a model term, an
SMD), which are withheld with it, undefined ones too; p-values it ``coarsens`` are printed
as journals do instead (:func:`journal_p`); reasons it ``notes`` become a note that never
narrows the marker (:func:`note`). An exact test's p-value is always printed as journals do
(:attr:`Declaration.rounded`).

Complementary suppression (threshold policy): counts that add up to a total a reader knows
(:class:`Margin`: a table's row or column, the overall column, a model's total, changes and
transitions) never have exactly one unknown member: another member is withheld as well (the
margin's ``prefer``, else a cell chosen so that few other equations are left with one
unknown). The same count shown in several places (:attr:`Count.key`, e.g. a group's size) is
withheld everywhere at once. Both rules are applied until nothing changes.

Markers: ``<5`` (or ``<=5``) is a small count; ``[withheld]`` is any other value withheld so
that a small count cannot be worked out. A marker never states something false.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from imnm_cohort.disclosure.declarations import (
    WITHHELD,
    Count,
    Declaration,
    Margin,
    Path,
    Share,
    combine,
    covers,
    dotted,
    path,
)
from imnm_cohort.disclosure.declarations import get as _get
from imnm_cohort.disclosure.inference import solve
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT, Policy, _is_int
from imnm_cohort.disclosure.reading import read

__all__ = [
    "DEFAULT_MIN_COUNT", "WITHHELD", "Count", "Declaration", "Margin", "Path", "Policy", "Share",
    "Suppressed", "combine", "covers", "dotted", "journal_p", "leaves", "note", "path",
    "suppress",
]  # fmt: skip

# --------------------------------------------------------------------------- applying


@dataclass(frozen=True)
class Suppressed:
    """An aggregate output after disclosure control.

    Attributes
    ----------
    data : dict
        The output with withheld values replaced by a marker.
    withheld : tuple of str
        Dotted paths of every withheld value.
    undeclared : tuple of str
        Integers no declaration covered (withheld: disclosure fails closed).
    policy : Policy
    coarsened : tuple of str
        Dotted paths of the p-values published at journal precision (:func:`journal_p`)
        rather than in full.
    """

    data: dict[str, Any]
    withheld: tuple[str, ...]
    undeclared: tuple[str, ...]
    policy: Policy = field(default_factory=Policy)
    coarsened: tuple[str, ...] = ()

    @property
    def marker(self) -> str:
        """The text shown for a small count."""
        return self.policy.marker


def _set(data: Any, p: Path, value: Any) -> None:
    parent = _get(data, p[:-1])
    if isinstance(parent, dict | list):
        parent[p[-1]] = value  # type: ignore[index]


def leaves(data: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every number (and every other scalar) of a JSON-ready value with its path."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from leaves(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from leaves(v, (*prefix, i))
    else:
        yield prefix, data


def _numbers_under(
    data: Any, p: Path, undefined: bool = False, text: bool = False
) -> Iterator[Path]:
    """The values to withhold under ``p``: numbers, and intervals (lists of numbers) whole;
    an interval with undefined bounds too, as their being undefined tells the estimate.
    With ``undefined``, nulls as well (a statistic that could not be computed); with
    ``text``, text too (how a p-value was computed: exact only for small groups)."""
    node = _get(data, p)
    if isinstance(node, list) and all(_is_number(v) or v is None for v in node):
        if node:
            yield p
    elif isinstance(node, dict | list):
        for k in node if isinstance(node, dict) else range(len(node)):
            yield from _numbers_under(data, (*p, k), undefined, text)
    elif _is_number(node) or (
        _present(data, p) and ((undefined and node is None) or (text and isinstance(node, str)))
    ):
        yield p


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def journal_p(value: float) -> float | str:
    """A p-value as journals print it: ``<0.001`` below 0.001, else two significant
    figures (0.21, 0.046, 0.0012). Coarse enough that it no longer singles out one table
    among those with the published margins, fine enough to read."""
    if value < 0.001:
        return "<0.001"
    return float(f"{value:.2g}")


def note(policy: Policy, small: bool, noun: str) -> str:
    """The text that replaces an explanation beside a withheld count: it says no more
    than the marker (``<5`` is 1 to 4, whatever the reason said)."""
    if not small:
        return "not shown (withheld so that a small count cannot be worked out)"
    if policy.rounding:
        return f"not shown ({policy.min_count} or fewer {noun})"
    return f"not shown (fewer than {policy.min_count} {noun})"


#: Rounds of one more withheld count per leak before a persisting leak takes every shown
#: count of its nearest relations at once (see :func:`suppress`).
WIDE_AFTER_ROUNDS = 3


def suppress(
    data: dict[str, Any], declaration: Declaration, policy: Policy | int = DEFAULT_MIN_COUNT
) -> Suppressed:
    """Apply disclosure control to an aggregate output.

    Parameters
    ----------
    data : dict
        A JSON-ready aggregate output. Not modified.
    declaration : Declaration
        What its numbers are (paths into ``data``).
    policy : Policy or int
        The governance; an int is a minimum cell count with no rounding.

    Returns
    -------
    Suppressed
    """
    if isinstance(policy, int):
        policy = Policy(policy)
    out = copy.deepcopy(data)
    counts = [c for c in declaration.counts if _is_int(_get(out, c.path))]
    undeclared = [p for p, v in leaves(out) if _is_int(v) and not covers(declaration, p)]
    if not policy.active:
        return Suppressed(out, (), tuple(dotted(p) for p in undeclared), policy)

    value = {c.path: _get(out, c.path) for c in counts}
    small = {p for p, v in value.items() if policy.is_small(v)}
    hidden = set(small) | set(undeclared)
    if not policy.rounding:
        hidden = _complete(hidden, counts, declaration.margins, value, policy)
    marked = set(small)  # small counts shown as '<k' (a blurred one shows '[withheld]')
    result = _publish(data, hidden, marked, value, counts, undeclared, declaration, policy)
    if not policy.rounding:
        # Withhold more until a reader's system of the published counts pins none of
        # the withheld ones (each round withholds at least one more count, so it ends).
        for round_ in range(len(counts) + 1):
            # After a few rounds of one count per leak, a leak that persists takes every
            # shown count of its nearest relations at once (a wider, sure step).
            wide = round_ >= WIDE_AFTER_ROUNDS
            more, blur = _more_to_withhold(
                result.data, data, declaration, policy, value, hidden, wide=wide
            )
            blur &= marked
            if not more and not blur:
                break
            marked -= blur
            hidden = _complete(hidden | more, counts, declaration.margins, value, policy)
            result = _publish(data, hidden, marked, value, counts, undeclared, declaration, policy)
    return result


def _publish(
    data: dict[str, Any],
    hidden: set[Path],
    small: set[Path],
    value: dict[Path, Any],
    counts: list[Count],
    undeclared: list[Path],
    declaration: Declaration,
    policy: Policy,
) -> Suppressed:
    """``data`` with the ``hidden`` counts withheld and every value declared with them."""
    out = copy.deepcopy(data)
    withheld: dict[Path, str] = {}
    for p in sorted(hidden, key=dotted):
        withheld[p] = policy.marker if p in small else WITHHELD
    texts: dict[Path, str] = {}
    coarse: set[Path] = set(declaration.rounded)
    for c in counts:
        if c.path in withheld:
            # A statistic of a withheld count is withheld even where it is undefined:
            # ``sd: null`` beside ``<5`` would say the group has one patient.
            for q in c.describes:
                for r in _numbers_under(out, q, undefined=True):
                    withheld.setdefault(r, WITHHELD)
            for q in c.dependents:
                for r in _numbers_under(out, q, undefined=True, text=True):
                    withheld.setdefault(r, WITHHELD)
            for q in c.reveals:
                for r in _numbers_under(out, q):
                    withheld.setdefault(r, WITHHELD)
            coarse.update(c.coarsened)
            for q, noun in c.notes:
                if isinstance(_get(out, q), str) or _get(out, q) is None:
                    # A small count says "fewer than 5"; one withheld beside it, neutrally.
                    text = note(policy, c.path in small, noun)
                    texts[q] = min(texts.get(q, text), text, key=lambda t: "fewer" not in t)
    for c in counts:
        if 0 < value[c.path] < 2 * policy.min_count:
            for q in c.few:
                for r in _numbers_under(out, q):
                    withheld.setdefault(r, WITHHELD)
    if policy.rounding:
        # Every shown count is rounded: a test's statistic over the exact counts would
        # narrow them back, so a test (a statistic whose p-value can be coarsened) is
        # shown as its rounded p-value alone.
        for c in counts:
            if c.coarsened:
                coarse.update(c.coarsened)
                for q in c.dependents:
                    for r in _numbers_under(out, q):
                        withheld.setdefault(r, WITHHELD)
        recomputed = _round(out, counts, declaration.shares, withheld, policy)
        for c in counts:
            for q in c.reveals:
                for r in _numbers_under(out, q):
                    if r not in recomputed and c.path not in withheld:
                        withheld.setdefault(r, WITHHELD)
    for p in declaration.individual:
        if _get(out, p) is not None:
            withheld.setdefault(p, WITHHELD)
    # A declared count is withheld by the rules above alone, never as a number that a
    # withheld count describes: a group's size stays shown beside its withheld patients
    # at risk (it is shown elsewhere anyway, and a copy withheld here would be a leak that
    # takes every copy with it).
    for p in [p for p in withheld if p in value and p not in hidden]:
        del withheld[p]
    coarsened = []
    for p in sorted(coarse - set(withheld), key=dotted):
        v = _get(out, p)
        if _is_number(v) and math.isfinite(v):
            _set(out, p, journal_p(v))
            coarsened.append(dotted(p))
    for p, marker in withheld.items():
        _set(out, p, marker)
    for p, text in texts.items():
        _set(out, p, text)
    listed = tuple(dotted(p) for p in withheld if _present(data, p))
    return Suppressed(out, listed, tuple(dotted(p) for p in undeclared), policy, tuple(coarsened))


def _present(data: Any, p: Path) -> bool:
    """Whether ``p`` names a value of ``data`` (a null one too)."""
    parent = _get(data, p[:-1])
    if isinstance(parent, dict):
        return p[-1] in parent
    return isinstance(parent, list) and isinstance(p[-1], int) and 0 <= p[-1] < len(parent)


def _complete(
    hidden: set[Path],
    counts: list[Count],
    margins: tuple[Margin, ...],
    value: dict[Path, Any],
    policy: Policy,
) -> set[Path]:
    """Withhold more counts until none can be worked out from totals or copies.

    A margin is a linear equation over its members (and a ``rest`` the output does not
    show, counted as withheld when small). A withheld member is given back when it is the
    only unknown of its equation; then one more member is withheld: the margin's ``prefer`` when
    given, else a cell rather than the total, a non-zero one (a zero is often guessable),
    one shown only there rather than a count shown in several places (a group's size),
    the one that leaves the fewest other equations with a single unknown (one that also
    completes another equation costs nothing), then the smallest.
    """
    keys: dict[str, list[Path]] = {}
    for c in counts:
        if c.key:
            keys.setdefault(c.key, []).append(c.path)
    copies = {p: same for same in keys.values() for p in same}

    def total(t: Path | str | None) -> Path | None:
        if isinstance(t, str):
            return keys[t][0] if t in keys else None
        return t

    members = [
        [p for p in dict.fromkeys((*m.cells, total(m.total))) if p is not None and p in value]
        for m in margins
    ]
    of: dict[Path, list[int]] = {}
    for i, ms in enumerate(members):
        for p in ms:
            of.setdefault(p, []).append(i)

    def unknown(i: int) -> int:
        # A small rest is a withheld member. A larger one is shown nowhere, so its margin
        # bounds its cells (each is at most the total) and pins none of them: it asks for
        # nothing here, and the reader's system checks the published whole afterwards.
        rest = abs(margins[i].rest)
        if rest and not policy.is_small(rest):
            return len(members[i]) + 1
        return sum(p in hidden for p in members[i]) + policy.is_small(rest)

    def cost(p: Path, m: Margin) -> tuple[bool, bool, bool, int, Any, str]:
        # A count shown in several places (a group's size) goes last, by size alone.
        keyed = p in copies
        new = 0 if keyed else sum(unknown(i) == 0 for i in of.get(p, ()))
        return (p == total(m.total), value[p] == 0, keyed, new, value[p], dotted(p))

    # Equations of a small count first: their complements then settle the others.
    primary = set(hidden)
    order = sorted(range(len(margins)), key=lambda i: not primary.intersection(members[i]))
    changed = True
    while changed:
        changed = False
        for same in keys.values():
            if any(p in hidden for p in same) and not all(p in hidden for p in same):
                hidden |= set(same)
                changed = True
        for i in order:
            m = margins[i]
            if unknown(i) != 1:
                continue
            shown = [p for p in members[i] if p not in hidden]
            if not shown:
                continue
            prefer = total(m.prefer) if m.prefer is not None else None
            pick = prefer if prefer in shown else min(shown, key=lambda p: cost(p, m))
            hidden |= set(copies.get(pick, [pick]))
            changed = True
    return hidden


def _more_to_withhold(
    published: dict[str, Any],
    data: dict[str, Any],
    declaration: Declaration,
    policy: Policy,
    value: dict[Path, Any],
    hidden: set[Path],
    *,
    wide: bool = False,
) -> tuple[set[Path], set[Path]]:
    """The counts to withhold next so that fewer withheld counts can be worked out.

    The published output is read as the self-check reads it
    (:func:`imnm_cohort.disclosure.reading.read`, solved by
    :func:`imnm_cohort.disclosure.inference.solve`): every withheld count that the published
    counts, markers and relations pin to one value is a leak. For each leak, one shown
    count is chosen among the relations that contain it (when none of them shows a count,
    the relations of their other withheld members, and so on outwards): a cell rather than
    a total, a non-zero one, one shown only there rather than a count shown in several
    places (a group's size), then the smallest. A leak whose relations already lost a count
    in this round waits for the next one. Empty when nothing leaks (or nothing shown is
    left to withhold: the self-check then fails the run closed). With ``wide``, every shown
    count of those relations is taken at once, not one. The second set: where no shown count
    is left to withhold, the leak is pinned by the markers alone (four '<5' cells that add
    up to a '<5' total must each be 1), so the small counts of its relations are blurred:
    shown as '[withheld]', which bounds nothing, instead of '<k'.
    """
    system = read(published, declaration, data, policy)
    solution = solve(system)
    if not solution.consistent or not solution.pinned:
        return set(), set()
    by_name = {dotted(p): p for p in value}
    keys: dict[str, int] = {}
    for c in declaration.counts:
        if c.key:
            keys[c.key] = keys.get(c.key, 0) + 1
    keyed = {c.path for c in declaration.counts if c.key and keys[c.key] > 1}
    touching: dict[int, list[int]] = {}
    for r, rel in enumerate(system.relations):
        for v, _ in rel.terms:
            touching.setdefault(v, []).append(r)

    def count(v: int) -> Path | None:
        return by_name.get(system.names[v].partition(": ")[2])

    def shown(v: int) -> bool:
        p = count(v)
        return p is not None and p not in hidden and _is_int(_get(published, p))

    more: set[Path] = set()
    blur: set[Path] = set()
    lost: set[int] = set()
    for leak in solution.pinned:
        frontier, seen_vars, seen_rels = {leak}, {leak}, set()
        first = True
        while frontier:
            rels = {r for v in frontier for r in touching.get(v, ()) if r not in seen_rels}
            seen_rels |= rels
            if rels & lost:
                break
            options = [
                (c < 0, value[p] == 0, p in keyed, value[p], dotted(p), r)
                for r in rels
                for v, c in system.relations[r].terms
                if shown(v) and (p := count(v)) is not None and p not in more
            ]
            if first and not options:
                # Pinned by the markers of its own relations: blur them.
                near = {v for r in rels for v, _ in system.relations[r].terms}
                blur.update(p for v in near if (p := count(v)) is not None)
            first = False
            if options and wide:
                more.update(by_name[o[4]] for o in options)
                break
            if options:
                pick = min(options)
                more.add(by_name[pick[4]])
                lost.add(pick[5])
                break
            frontier = {v for r in rels for v, _ in system.relations[r].terms if v not in seen_vars}
            seen_vars |= frontier
    return more, blur


def _round(
    out: dict[str, Any],
    counts: list[Count],
    shares: tuple[Share, ...],
    withheld: dict[Path, str],
    policy: Policy,
) -> set[Path]:
    """Round every shown count and recompute the shares from the rounded counts."""
    exact = {c.path: _get(out, c.path) for c in counts}
    for c in counts:
        if c.path not in withheld:
            _set(out, c.path, policy.shown(exact[c.path]))
    done = set()
    for s in shares:
        count, denominator = _get(out, s.count), _get(out, s.denominator)
        if s.count in withheld or not _is_int(count) or _get(out, s.path) is None:
            continue
        if not isinstance(denominator, int | float) or isinstance(denominator, bool):
            continue
        if denominator == 0:
            continue
        _set(out, s.path, s.scale * count / denominator)
        done.add(s.path)
    return done
