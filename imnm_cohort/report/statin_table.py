"""The manuscript table "IMNM incidence among statin users" (an OMOP CDM input only).

Exposures are columns: before any statin (unexposed), any statin, then each ingredient;
rows are the persons and person-years, then each IMNM group's events, its rate per 100,000
person-years (exact Poisson 95% CI) and, for the exposed, the rate ratio to the unexposed
(exact, conditional on the events). The numbers are read from the disclosure-controlled
``summary.json`` with their paths, so a withheld count shows as withheld.
"""

from __future__ import annotations

from typing import Any

from imnm_cohort.report.labels import label
from imnm_cohort.report.render import (
    SECTIONS,
    TABLE_TEMPLATE,
    ReportSection,
    table_markdown,
    table_view,
)
from imnm_cohort.report.table_model import Builder, Row, Table, with_ci

KEY = "statin_population"
TITLE = "IMNM incidence among statin users"
_ALL = "imnm"
#: Said under the table when the cases are ehr2026's (an EHR phenotype).
_CAVEAT = (
    "The cases are the patients the ehr2026 EHR phenotype found in coded data, not a "
    "clinical diagnosis; its positive predictive value is unknown."
)


def statin_population(summary: dict[str, Any]) -> Table:
    """IMNM events, rates and rate ratios by statin exposure (columns) and group (rows)."""
    p = summary.get(KEY)
    title = f"Table 8. {TITLE}"
    if not isinstance(p, dict):
        return Table(KEY, title, (), (), ("Computed only for an OMOP CDM input.",))
    b = Builder(summary)
    exposed = list(p["exposed"])
    columns = [f"{KEY}.unexposed", *(f"{KEY}.exposed.{k}" for k in exposed)]
    headings = ("No statin yet", *(_heading(k) for k in exposed))
    groups = list(p["unexposed"]["groups"])
    rows: list[Row] = [
        b.row("Persons", columns, [("persons", "{g}.persons", "count")], "{}"),
        b.row("Person-years", columns, [("person-years", "{g}.person_years", "decimal", 0)], "{}"),
    ]
    for g in groups:
        name = "All IMNM" if g == _ALL else label(g)
        at = f"{{g}}.groups.{g}"
        rows.append(b.row(f"{name}: events", columns, [("events", f"{at}.events", "count")], "{}"))
        rows.append(
            b.row(
                f"{name}: rate per 100,000 person-years (95% CI)",
                columns,
                with_ci("rate", f"{at}.rate", f"{at}.rate_ci", digits=2),
                "{} ({} to {})",
            )
        )
        ratio = f"{{g}}.rate_ratios.{g}"
        rows.append(
            b.row(
                f"{name}: rate ratio to no statin (95% CI)",
                columns,
                with_ci("ratio", f"{ratio}.ratio", f"{ratio}.ci", digits=2),
                "{} ({} to {})",
            )
        )
    s = p["settings"]
    window = (
        "from the first statin on (onset during or after exposure)"
        if s["window"] == "ever"
        else "within exposure eras only"
    )
    notes: tuple[str, ...] = (
        f"Person-time in the OMOP CDM database's observation periods: exposed {window}, "
        "unexposed before any statin; stopped at IMNM onset. Statin eras from drug_exposure "
        f"(persistence gap {s['persistence_gap_days']} days).",
        "Rates per 100,000 person-years with exact Poisson 95% CIs; rate ratios exposed / "
        "unexposed with exact 95% CIs conditional on the events (Breslow and Day 1987).",
    )
    if summary.get("criteria") == "ehr2026":
        notes = (*notes, _CAVEAT)
    return Table(KEY, title, headings, tuple(rows), notes)


def _heading(key: str) -> str:
    return "Any statin" if key == "any_statin" else key.capitalize()


SECTIONS.append(
    ReportSection(
        KEY,
        table_view,
        table_markdown,
        TABLE_TEMPLATE,
        (
            "Ryan P. Drug eras: the OMOP CDM drug_era table, persistence window of 30 days. "
            "OHDSI, 2014.",
        ),
    )
)
