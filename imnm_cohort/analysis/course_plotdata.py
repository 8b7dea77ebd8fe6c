"""The figures of the course of the disease, from the published summary alone.

Every point is a number the disclosure-controlled ``summary.json`` publishes: a group's
cumulative incidence of a normal CK at the reported months, a group's median
log10(CK / ULN) per time bin, a group's mean MMT percentage per time bin, the share of a
group's patients on each drug class per time bin, the share of a group's assessed patients
in each 2016 ACR/EULAR response category at each landmark, a group's mean cumulative
function of relapses at the reported months, and a group's median anti-HMGCR level at
diagnosis with its interquartile range, each with its interval where the summary gives
one. A value the summary withholds (or does not have: a bin with fewer than the minimum
count of patients) is not drawn; where the summary publishes the count of patients behind
a point (the patients assessed at a landmark, under observation at a month of the mean
cumulative function, with a level at diagnosis, contributing to a bin of the CK series), a
point whose count is not a number of at least the minimum count is not drawn either.
Nothing is read from the patients or their visits, so no individual trajectory or value
can appear.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imnm_cohort.analysis.response import CATEGORIES
from imnm_cohort.analysis.treatments import DRUG_CLASSES
from imnm_cohort.disclosure.figures import CourseFigure, Panel, Points
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT

#: The response categories' words, as the panels of the response figure say them.
CATEGORY_WORDS = {
    "none": "no improvement",
    "minimal": "minimal",
    "moderate": "moderate",
    "major": "major",
}


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


def _enough(count: Any, min_count: int) -> bool:
    """Whether a published count of patients is a number of at least the minimum count
    (and at least 1): a withheld or absent count is not."""
    number = _number(count)
    return number is not None and number >= max(min_count, 1)


def _middle(label: str) -> float:
    """The middle of a bin named ``a-b`` (months)."""
    a, _, b = label.partition("-")
    return (float(a) + float(b)) / 2


def _lines(
    groups: dict[str, Any], x: Callable[[str], float], count: str | None, min_count: int
) -> tuple[Points, ...]:
    """One line per group of its published points (``{key: {"estimate", "ci", count}}``,
    ``x`` placing a key on the time axis); with ``count``, a point only where that published
    count of patients reaches the minimum count."""
    lines = []
    for g, points in groups.items():
        cells = [
            (x(k), c.get("estimate"), c.get("ci"))
            for k, c in points.items()
            if isinstance(c, dict) and (count is None or _enough(c.get(count), min_count))
        ]
        if (p := _points(g, cells)) is not None:
            lines.append(p)
    return tuple(lines)


def _member(groups: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """Each group's ``key`` member of a published result (empty where it has none)."""
    return {g: (r.get(key) or {}) if isinstance(r, dict) else {} for g, r in (groups or {}).items()}


def _ck_normalisation(ck: dict[str, Any]) -> CourseFigure:
    at_months = _member(ck["normalisation"]["groups"], "at_months")
    return CourseFigure(
        "ck_normalisation",
        "Cumulative incidence of a normal CK (death competing)",
        "cumulative incidence",
        (Panel("", _lines(at_months, float, None, 0)),),
    )


def _ck_series(ck: dict[str, Any], min_count: int) -> CourseFigure:
    """The median (or mean) log10(CK / ULN) per time bin, by group: a bin is drawn where
    the summary shows its value and at least the minimum count of its patients."""
    series = ck["series"]
    return CourseFigure(
        "ck_series",
        f"CK by group ({series['statistic']} log10(CK / ULN) per time bin, 95% CI)",
        "log10(CK / ULN); 0 = upper limit of normal",
        (Panel("", _lines(series["groups"], _middle, "patients", min_count)),),
    )


def _strength(strength: dict[str, Any]) -> CourseFigure:
    series = strength["series"]
    return CourseFigure(
        "strength",
        f"MMT by group ({series['statistic']} per time bin, 95% CI)",
        "MMT, % of scale maximum",
        (Panel("", _lines(series["groups"], _middle, None, 0)),),
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
        lines="classes",
    )


def _response_categories(response: dict[str, Any], min_count: int) -> CourseFigure:
    groups = response.get("groups") or {}
    panels = []
    for category in CATEGORIES:
        lines = []
        for g, r in groups.items():
            at = r.get("landmarks_months", {}) if isinstance(r, dict) else {}
            cells = []
            for m, landmark in at.items():
                if not isinstance(landmark, dict) or not _enough(
                    landmark.get("assessed"), min_count
                ):
                    continue
                shown = (landmark.get("categories") or {}).get(category) or {}
                cells.append((float(m), shown.get("percent"), shown.get("ci")))
            if (p := _points(g, cells)) is not None:
                lines.append(p)
        panels.append(Panel(CATEGORY_WORDS[category], tuple(lines)))
    return CourseFigure(
        "response_categories",
        "2016 ACR/EULAR response category at each landmark, by group (95% CI)",
        "% of patients assessed",
        tuple(panels),
        percent=True,
    )


def _relapse_mcf(relapse: dict[str, Any], min_count: int) -> CourseFigure:
    mcf = _member(relapse.get("groups"), "mcf")
    return CourseFigure(
        "relapse_mcf",
        "Mean cumulative number of relapses per patient (death terminal), 95% CI",
        "relapses per patient",
        (Panel("", _lines(mcf, float, "at_risk", min_count)),),
        kind="steps",
    )


def _titre_cells(
    groups: dict[str, Any], key: str, count: str, min_count: int
) -> list[tuple[str, float, Any, Any]]:
    """(group, place, median, [q1, q3]) of the groups whose ``key`` summary has at least
    the minimum count of patients behind it."""
    cells = []
    for i, (g, r) in enumerate(groups.items()):
        if not isinstance(r, dict) or not _enough(r.get(count), min_count):
            continue
        shown = r.get(key) or {}
        cells.append((g, float(i), shown.get("median"), [shown.get("q1"), shown.get("q3")]))
    return cells


def _titres(titres: dict[str, Any], min_count: int) -> CourseFigure:
    groups = titres.get("groups") or {}
    cells = _titre_cells(groups, "times_cutoff", "with_cutoff", min_count)
    ylabel = "multiple of the lab's cut-off"
    if not any(_number(median) is not None for _, _, median, _ in cells):
        # No lab gave its cut-off: the values themselves, where the groups share a unit.
        cells = _titre_cells(groups, "value", "with_level", min_count)
        units = {groups[g].get("unit") for g, _, median, _ in cells if _number(median) is not None}
        unit = next(iter(units)) if len(units) == 1 else None
        if not isinstance(unit, str):
            cells = []
        ylabel = f"level ({unit})" if unit else "level"
    lines = [p for g, x, v, ci in cells if (p := _points(g, [(x, v, ci)])) is not None]
    drawn = [v for p in lines for v in (*p.y, *p.lower, *p.upper) if v is not None]
    return CourseFigure(
        "hmgcr_titre",
        "Anti-HMGCR level at diagnosis by group\n(median and interquartile range)",
        ylabel,
        (Panel("", tuple(lines)),),
        kind="groups",
        log=bool(drawn) and min(drawn) > 0,
    )


def course_figures(
    published: dict[str, Any], min_count: int = DEFAULT_MIN_COUNT
) -> tuple[CourseFigure, ...]:
    """The course figures of a disclosure-controlled summary: one for each course analysis
    it holds (CK normalisation and CK over time, strength, drug classes over time, response
    categories, relapses' mean cumulative function, anti-HMGCR level); none without them.

    ``min_count`` is the run's minimum count of patients (``[disclosure] min_cell_count``):
    a point whose published count of patients (assessed, under observation, with a level)
    is below it is not drawn.
    """
    out = []
    if isinstance(published.get("ck_course"), dict):
        out.append(_ck_normalisation(published["ck_course"]))
        if isinstance(published["ck_course"].get("series"), dict):
            out.append(_ck_series(published["ck_course"], min_count))
    if isinstance(published.get("strength"), dict):
        out.append(_strength(published["strength"]))
    if isinstance(published.get("treatments"), dict):
        out.append(_drug_classes(published["treatments"]))
    if isinstance(published.get("response"), dict):
        out.append(_response_categories(published["response"], min_count))
    if isinstance(published.get("relapse"), dict):
        out.append(_relapse_mcf(published["relapse"], min_count))
    if isinstance(published.get("titres"), dict):
        out.append(_titres(published["titres"], min_count))
    return tuple(out)
