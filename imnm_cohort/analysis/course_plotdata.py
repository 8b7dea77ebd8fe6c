"""The figures of the course of the disease, from the published summary alone.

Every point is a number the disclosure-controlled ``summary.json`` publishes: a group's
cumulative incidence of a normal CK at the reported months, a group's mean MMT percentage
per time bin, the share of a group's patients on each drug class per time bin, each with
its interval where the summary gives one. A value the summary withholds (or does not have:
a bin with fewer than the minimum count of patients) is not drawn. Nothing is read from the
patients or their visits, so no individual trajectory can appear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imnm_cohort.analysis.treatments import DRUG_CLASSES


@dataclass(frozen=True)
class Points:
    """One line of a course figure: published values at times (months since diagnosis).

    ``lower`` and ``upper`` are the interval's ends (None where the summary gives none).
    """

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]


@dataclass(frozen=True)
class Panel:
    """One panel: a title (empty for a figure of one panel) and its lines."""

    title: str
    lines: tuple[Points, ...]


@dataclass(frozen=True)
class CourseFigure:
    """A course figure: its file stem, titles and panels (one per group or one in all)."""

    name: str
    title: str
    ylabel: str
    panels: tuple[Panel, ...]
    percent: bool = False


def _number(value: Any) -> float | None:
    """A published number (a withheld marker, None or a flag is no number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _points(label: str, cells: list[tuple[float, Any, Any]]) -> Points | None:
    """The points of ``cells`` ((time, value, interval)) whose value is published."""
    kept = [(x, v, ci) for x, v, ci in cells if _number(v) is not None]
    if not kept:
        return None

    def end(ci: Any, i: int) -> float | None:
        return _number(ci[i]) if isinstance(ci, list) and len(ci) == 2 else None

    return Points(
        label,
        tuple(x for x, _, _ in kept),
        tuple(float(v) for _, v, _ in kept),
        tuple(end(ci, 0) for _, _, ci in kept),
        tuple(end(ci, 1) for _, _, ci in kept),
    )


def _middle(label: str) -> float:
    """The middle of a bin named ``a-b`` (months)."""
    a, _, b = label.partition("-")
    return (float(a) + float(b)) / 2


def _ck_normalisation(ck: dict[str, Any]) -> CourseFigure:
    lines = []
    for g, r in ck["normalisation"]["groups"].items():
        at = r.get("at_months", {}) if isinstance(r, dict) else {}
        cells = [(float(m), c.get("estimate"), c.get("ci")) for m, c in at.items()]
        if (p := _points(g, cells)) is not None:
            lines.append(p)
    return CourseFigure(
        "ck_normalisation",
        "Cumulative incidence of a normal CK (death competing)",
        "cumulative incidence",
        (Panel("", tuple(lines)),),
    )


def _strength(strength: dict[str, Any]) -> CourseFigure:
    series = strength["series"]
    lines = []
    for g, bins in series["groups"].items():
        cells = [(_middle(b), c.get("estimate"), c.get("ci")) for b, c in bins.items()]
        if (p := _points(g, cells)) is not None:
            lines.append(p)
    return CourseFigure(
        "strength",
        f"MMT by group ({series['statistic']} per time bin, 95% CI)",
        "MMT, % of scale maximum",
        (Panel("", tuple(lines)),),
        percent=True,
    )


def _drug_classes(treatments: dict[str, Any]) -> CourseFigure:
    over = treatments["classes_over_time"]
    middles = [(a + b) / 2 for a, b in over["bins_months"]]
    panels = []
    for g, shown in over["groups"].items():
        lines = []
        for c in DRUG_CLASSES:
            cells = [(middles[b["bin"]], b.get("percent", {}).get(c), None) for b in shown]
            p = _points(c, cells)
            if p is not None and any(y > 0 for y in p.y):
                lines.append(p)
        panels.append(Panel(g, tuple(lines)))
    return CourseFigure(
        "drug_classes",
        "Patients on each drug class over time, by group",
        "% of patients under observation",
        tuple(panels),
        percent=True,
    )


def course_figures(published: dict[str, Any]) -> tuple[CourseFigure, ...]:
    """The course figures of a disclosure-controlled summary: one for each course analysis
    it holds (CK normalisation, strength, drug classes over time); none without them."""
    out = []
    if isinstance(published.get("ck_course"), dict):
        out.append(_ck_normalisation(published["ck_course"]))
    if isinstance(published.get("strength"), dict):
        out.append(_strength(published["strength"]))
    if isinstance(published.get("treatments"), dict):
        out.append(_drug_classes(published["treatments"]))
    return tuple(out)
