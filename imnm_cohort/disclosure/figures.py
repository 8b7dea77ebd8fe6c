"""What a figure may draw: the disclosure-controlled aggregates behind the report's figures.

The values are made by :func:`imnm_cohort.analysis.plotdata.figure_data` (box plots and
curves, with the rules of disclosure control for figures) and
:func:`imnm_cohort.analysis.course_plotdata.course_figures` (the course of the disease,
from the published summary alone), and drawn by :mod:`imnm_cohort.report.figures`. They are
plain frozen records of numbers and words, with no import beyond the standard library, so
that a process drawing the figures (:mod:`imnm_cohort.report.figure_process`) receives them
without importing the analyses.
"""

from __future__ import annotations

from dataclasses import dataclass

#: What a course figure's lines are: groups (coloured as the groups) or drug classes.
LINE_KINDS = ("groups", "classes")
#: How a course figure is drawn: points joined by lines, steps (held from each published
#: time to the next, the interval as a band), or one point per group with its interval.
FIGURE_KINDS = ("points", "steps", "groups")


@dataclass(frozen=True)
class BoxStats:
    """Percentiles of one group for a box plot.

    ``p5`` and ``p95`` (the whiskers' ends) are None where fewer than the minimum count of
    values lie beyond them: that whisker is not drawn.
    """

    label: str
    n: int | str
    p5: float | None
    q1: float
    median: float
    q3: float
    p95: float | None


@dataclass(frozen=True)
class Curve:
    """A step curve for one group, with numbers at risk at whole years.

    ``withheld`` is why the curve is not drawn (then ``time`` and ``value`` are empty), in
    words for the legend: ``"not shown: fewer than 5 deaths"``.
    """

    label: str
    time: tuple[float, ...]
    value: tuple[float, ...]
    at_risk: tuple[int | str, ...]
    withheld: str | None = None


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
    """A course figure: its file stem, titles and panels (one per group or one in all).

    ``lines`` says what its lines are (:data:`LINE_KINDS`), ``kind`` how it is drawn
    (:data:`FIGURE_KINDS`; for ``groups`` a line is one group's value at ``x`` = the
    group's place), ``log`` whether its value axis is logarithmic.
    """

    name: str
    title: str
    ylabel: str
    panels: tuple[Panel, ...]
    percent: bool = False
    lines: str = "groups"
    kind: str = "points"
    log: bool = False


@dataclass(frozen=True)
class FigureData:
    """Everything the figures draw."""

    onset_age: tuple[BoxStats, ...]
    ck_peak: tuple[BoxStats, ...]
    statin_latency: tuple[BoxStats, ...]
    incidence: tuple[Curve, ...]
    survival: tuple[Curve, ...]
    years: tuple[int, ...]
    min_count: int
    #: The course figures (published values only), when the run had event tables.
    course: tuple[CourseFigure, ...] = ()
