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

Complementary suppression (threshold policy): counts that add up to a total a reader knows
(:class:`Margin`: a table's row or column, the overall column, changes and transitions) never
have exactly one unknown member: the smallest other member is withheld as well. The same
count shown in several places (:attr:`Count.key`, e.g. a group's size) is withheld
everywhere at once. Both rules are applied until nothing changes.

Markers: ``<5`` (or ``<=5``) is a small count; ``[withheld]`` is any other value withheld so
that a small count cannot be worked out. A marker never states something false.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MIN_COUNT = 5
WITHHELD = "[withheld]"

Path = tuple[str | int, ...]


def path(*parts: str | int) -> Path:
    """A path into a JSON-ready result: dict keys and list positions, outermost first."""
    return tuple(parts)


def dotted(p: Path) -> str:
    """A path as text (``a.b[0].c``), for manifests and messages."""
    text = ""
    for part in p:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Count:
    """A count of patients (or rows) at ``path``.

    Attributes
    ----------
    path : Path
    key : str, optional
        Counts with the same key are the same number shown in several places (a group's
        size): withholding one withholds them all.
    describes : tuple of Path
        Statistics of the patients counted (a group's median, a model's terms): withheld
        with the count. A path to a mapping or list covers every number under it.
    reveals : tuple of Path
        Values that give the count back exactly (a percentage, a rate, an estimate from a
        few patients): withheld with it, and under rounding withheld unless a :class:`Share`
        recomputes them.
    few : tuple of Path
        Summaries that, from a few values, pin individual values (a mean and SD beside
        the median and quartiles): withheld while the count is below twice the minimum.
    """

    path: Path
    key: str | None = None
    describes: tuple[Path, ...] = ()
    reveals: tuple[Path, ...] = ()
    few: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Margin:
    """Counts that add up to a total a reader knows.

    Attributes
    ----------
    cells : tuple of Path
        The counts that add up.
    total : Path or str, optional
        Where the total is shown, or the :attr:`Count.key` of a count shown elsewhere in
        the output; None when it is known some other way (e.g. a difference of two
        published totals).
    rest : int
        What the shown cells leave out of the total (``total - sum(cells)``), when the
        output does not show it: a small ``rest`` counts as a withheld member.
    """

    cells: tuple[Path, ...]
    total: Path | str | None = None
    rest: int = 0


@dataclass(frozen=True)
class Share:
    """``path`` = ``scale * count / denominator``: recomputed from rounded counts."""

    path: Path
    count: Path
    denominator: Path
    scale: float = 100.0


@dataclass(frozen=True)
class Declaration:
    """What a result's numbers are, for disclosure control.

    Paths are relative to the result's ``to_dict()``; :meth:`under` places them in a larger
    output. Declarations add up with ``+``.

    Attributes
    ----------
    counts, margins, shares
        See :class:`Count`, :class:`Margin`, :class:`Share`.
    individual : tuple of Path
        Single patients' values (a minimum, a maximum): withheld whenever control is on.
    cleared : tuple of Path
        Numbers that need no control: settings (a seed, a threshold) or values that
        disclosure control already released elsewhere. A path to a mapping clears all
        under it.
    """

    counts: tuple[Count, ...] = ()
    margins: tuple[Margin, ...] = ()
    shares: tuple[Share, ...] = ()
    individual: tuple[Path, ...] = ()
    cleared: tuple[Path, ...] = ()

    def __add__(self, other: Declaration) -> Declaration:
        return Declaration(
            self.counts + other.counts,
            self.margins + other.margins,
            self.shares + other.shares,
            self.individual + other.individual,
            self.cleared + other.cleared,
        )

    def under(self, *prefix: str | int) -> Declaration:
        """The same declaration for a result placed at ``prefix`` in a larger output."""
        pre = tuple(prefix)

        def p(x: Path) -> Path:
            return pre + x

        def total(t: Path | str | None) -> Path | str | None:
            return p(t) if isinstance(t, tuple) else t

        return Declaration(
            tuple(
                Count(
                    p(c.path),
                    c.key,
                    tuple(map(p, c.describes)),
                    tuple(map(p, c.reveals)),
                    tuple(map(p, c.few)),
                )
                for c in self.counts
            ),
            tuple(Margin(tuple(map(p, m.cells)), total(m.total), m.rest) for m in self.margins),
            tuple(Share(p(s.path), p(s.count), p(s.denominator), s.scale) for s in self.shares),
            tuple(map(p, self.individual)),
            tuple(map(p, self.cleared)),
        )


def combine(parts: Iterable[Declaration]) -> Declaration:
    """The sum of several declarations."""
    out = Declaration()
    for part in parts:
        out = out + part
    return out


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class Policy:
    """The governance applied: a minimum cell count, optionally with rounding.

    Attributes
    ----------
    min_count : int
        0 turns disclosure control off.
    rounding : int
        0 (threshold policy) or the base counts are rounded to (rounding policy).
    """

    min_count: int = DEFAULT_MIN_COUNT
    rounding: int = 0

    def __post_init__(self) -> None:
        if self.min_count < 0 or self.rounding < 0:
            raise ValueError("min_count and rounding must be 0 or more")

    @property
    def active(self) -> bool:
        """Whether any value is ever withheld."""
        return self.min_count > 0 or self.rounding > 0

    @property
    def marker(self) -> str:
        """The text shown for a small count."""
        if self.rounding:
            return f"<={self.min_count}"
        return f"<{self.min_count}"

    def is_small(self, value: Any) -> bool:
        """Whether a count is withheld for being small."""
        if not _is_int(value) or value <= 0:
            return False
        return value <= self.min_count if self.rounding else value < self.min_count

    def shown(self, value: int) -> int | str:
        """A count as published: the marker, the rounded count or the count."""
        if self.is_small(value):
            return self.marker
        if self.rounding:
            return int(self.rounding * math.floor(value / self.rounding + 0.5))
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
    """

    data: dict[str, Any]
    withheld: tuple[str, ...]
    undeclared: tuple[str, ...]
    policy: Policy = field(default_factory=Policy)

    @property
    def marker(self) -> str:
        """The text shown for a small count."""
        return self.policy.marker


def _get(data: Any, p: Path) -> Any:
    node = data
    for part in p:
        if isinstance(node, dict):
            if part not in node:
                return None
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


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


def _numbers_under(data: Any, p: Path) -> Iterator[Path]:
    """The values to withhold under ``p``: numbers, and intervals (lists of numbers) whole."""
    node = _get(data, p)
    if isinstance(node, list) and all(_is_number(v) or v is None for v in node):
        if any(_is_number(v) for v in node):
            yield p
    elif isinstance(node, dict | list):
        for k in node if isinstance(node, dict) else range(len(node)):
            yield from _numbers_under(data, (*p, k))
    elif _is_number(node):
        yield p


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
    withheld: dict[Path, str] = {}
    for p in sorted(hidden, key=dotted):
        withheld[p] = policy.marker if p in small else WITHHELD
    for c in counts:
        if c.path in withheld:
            for q in (*c.describes, *c.reveals):
                for r in _numbers_under(out, q):
                    withheld.setdefault(r, WITHHELD)
    for c in counts:
        if 0 < value[c.path] < 2 * policy.min_count:
            for q in c.few:
                for r in _numbers_under(out, q):
                    withheld.setdefault(r, WITHHELD)
    if policy.rounding:
        recomputed = _round(out, counts, declaration.shares, withheld, policy)
        for c in counts:
            for q in c.reveals:
                for r in _numbers_under(out, q):
                    if r not in recomputed and c.path not in withheld:
                        withheld.setdefault(r, WITHHELD)
    for p in declaration.individual:
        if _get(out, p) is not None:
            withheld.setdefault(p, WITHHELD)
    for p, marker in withheld.items():
        if _get(out, p) is not None:
            _set(out, p, marker)
    listed = tuple(dotted(p) for p in withheld if _get(data, p) is not None)
    return Suppressed(out, listed, tuple(dotted(p) for p in undeclared), policy)


def covers(declaration: Declaration, p: Path) -> bool:
    """Whether a declaration says what the number at ``p`` is."""
    if any(c.path == p for c in declaration.counts) or p in declaration.individual:
        return True
    return any(p[: len(q)] == q for q in declaration.cleared)


def _complete(
    hidden: set[Path],
    counts: list[Count],
    margins: tuple[Margin, ...],
    value: dict[Path, Any],
    policy: Policy,
) -> set[Path]:
    """Withhold more counts until none can be worked out from totals or copies."""
    keys: dict[str, list[Path]] = {}
    for c in counts:
        if c.key:
            keys.setdefault(c.key, []).append(c.path)

    def total(t: Path | str | None) -> Path | None:
        if isinstance(t, str):
            return keys[t][0] if t in keys else None
        return t

    changed = True
    while changed:
        changed = False
        for same in keys.values():
            if any(p in hidden for p in same) and not all(p in hidden for p in same):
                hidden |= set(same)
                changed = True
        for m in margins:
            members = [p for p in (*m.cells, total(m.total)) if p is not None and p in value]
            unknown = sum(p in hidden for p in members) + policy.is_small(m.rest)
            if unknown != 1:
                continue
            shown = [p for p in members if p not in hidden]
            if not shown:
                continue
            # The smallest other member, a non-zero one first: a zero is often guessable.
            hidden.add(min(shown, key=lambda p: (value[p] == 0, value[p], dotted(p))))
            changed = True
    return hidden


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
