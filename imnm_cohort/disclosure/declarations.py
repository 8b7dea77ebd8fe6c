"""What a result's numbers are, for disclosure control: the declaration protocol.

Each analysis result declares its counts and what they give away in a :class:`Declaration`
(paths relative to its own ``to_dict()``); :mod:`imnm_cohort.disclosure.suppression` applies
the governance to the declarations. See ``docs/reports.md`` ("Declaring a result's counts").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]


#: The marker of a value withheld so that a small count cannot be worked out.
WITHHELD = "[withheld]"


def path(*parts: str | int) -> Path:
    """A path into a JSON-ready result: dict keys and list positions, outermost first."""
    return tuple(parts)


def dotted(p: Path) -> str:
    """A path as text (``a.b[0].c``), for manifests and messages."""
    text = ""
    for part in p:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


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
    dependents : tuple of Path
        Statistics computed from this count together with others (a test's statistic and
        p-value, a model term's ratio, SE, interval and p-value, an SMD): with the
        published margins they can determine the count, so they are withheld with it,
        an undefined (null) one too, so that being undefined does not tell the count.
    coarsened : tuple of Path
        p-values that, while the count is withheld, are published only as journals print
        them (two significant figures, ``<0.001``) instead of being withheld.
    notes : tuple of (Path, str)
        Explanatory texts (a test's or a term's ``reason``) replaced, while the count is
        withheld, by a note that never narrows the marker: ``not shown (fewer than 5
        <noun>)`` for a small count, a neutral note for one withheld beside it.
    """

    path: Path
    key: str | None = None
    describes: tuple[Path, ...] = ()
    reveals: tuple[Path, ...] = ()
    few: tuple[Path, ...] = ()
    dependents: tuple[Path, ...] = ()
    coarsened: tuple[Path, ...] = ()
    notes: tuple[tuple[Path, str], ...] = ()


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
    prefer : Path, optional
        The member withheld first when the margin needs one more withheld (a model's
        total rather than a group's count); otherwise one chosen by
        :func:`~imnm_cohort.disclosure.suppression.suppress`.
    """

    cells: tuple[Path, ...]
    total: Path | str | None = None
    rest: int = 0
    prefer: Path | None = None


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
    rounded : tuple of Path
        p-values of exact tests: always published as journals print them while control
        is on (at full precision, with the margins, they single out the table).
    """

    counts: tuple[Count, ...] = ()
    margins: tuple[Margin, ...] = ()
    shares: tuple[Share, ...] = ()
    individual: tuple[Path, ...] = ()
    cleared: tuple[Path, ...] = ()
    rounded: tuple[Path, ...] = ()

    def __add__(self, other: Declaration) -> Declaration:
        return Declaration(
            self.counts + other.counts,
            self.margins + other.margins,
            self.shares + other.shares,
            self.individual + other.individual,
            self.cleared + other.cleared,
            self.rounded + other.rounded,
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
                    tuple(map(p, c.dependents)),
                    tuple(map(p, c.coarsened)),
                    tuple((p(q), noun) for q, noun in c.notes),
                )
                for c in self.counts
            ),
            tuple(
                Margin(
                    tuple(map(p, m.cells)),
                    total(m.total),
                    m.rest,
                    p(m.prefer) if m.prefer is not None else None,
                )
                for m in self.margins
            ),
            tuple(Share(p(s.path), p(s.count), p(s.denominator), s.scale) for s in self.shares),
            tuple(map(p, self.individual)),
            tuple(map(p, self.cleared)),
            tuple(map(p, self.rounded)),
        )


def combine(parts: Iterable[Declaration]) -> Declaration:
    """The sum of several declarations."""
    out = Declaration()
    for part in parts:
        out = out + part
    return out


def covers(declaration: Declaration, p: Path) -> bool:
    """Whether a declaration says what the number at ``p`` is."""
    if any(c.path == p for c in declaration.counts) or p in declaration.individual:
        return True
    return any(p[: len(q)] == q for q in declaration.cleared)


def get(data: Any, p: Path) -> Any:
    """The value at ``p`` in a JSON-ready value, None where there is none."""
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
