"""Report sections for cancer after onset: time since onset, Fine-Gray, SIR and SMR.

Each section registers itself with :data:`imnm_cohort.report.render.SECTIONS`. Time since
onset turns its part of the disclosure-controlled summary into text (HTML and Markdown share
it); the Fine-Gray and population-rate sections show their manuscript tables, as Word and
Excel do.
"""

from __future__ import annotations

from typing import Any

from imnm_cohort.analysis.rates import ALL_CAUSES, ALL_MALIGNANT
from imnm_cohort.report.render import (
    SECTIONS,
    TABLE_TEMPLATE,
    ReportSection,
    _table,
    label,
    num,
    table_markdown,
    table_view,
    with_ci,
)

SITE_NAMES = {ALL_MALIGNANT: "all counted cancers", ALL_CAUSES: "deaths from any cause"}


def time_since_onset_view(summary: dict[str, Any]) -> dict[str, Any]:
    """Cancers, person-years and rates by band of time since time zero."""
    t = summary["time_since_onset"]
    rows = [
        {
            "label": label(g),
            "band": band,
            "events": num(r["events"]),
            "py": num(r["person_years"], 0),
            "rate": with_ci(r["rate_per_1000py"], r["rate_ci"]),
        }
        for g, by in t["groups"].items()
        for band, r in by["by_follow_up"].items()
    ]
    return {"time_zero": t["time_zero"], "rows": rows}


def time_since_onset_markdown(v: dict[str, Any]) -> list[str]:
    """The section in Markdown."""
    out = ["### Cancer by time since " + v["time_zero"], ""]
    return out + _table(
        [
            "group",
            "years since " + v["time_zero"],
            "cancers",
            "person-years",
            "rate / 1,000 py (95% CI)",
        ],
        [[r["label"], r["band"], r["events"], r["py"], r["rate"]] for r in v["rows"]],
    )


SECTIONS.extend(
    [
        ReportSection(
            "time_since_onset",
            time_since_onset_view,
            time_since_onset_markdown,
            "time_since_onset.html.j2",
            (
                "Hill CL, Zhang Y, Sigurgeirsson B, et al. Frequency of specific cancer types "
                "in dermatomyositis and polymyositis: a population-based study. Lancet "
                "2001;357:96-100.",
            ),
        ),
        ReportSection(
            "fine_gray",
            table_view,
            table_markdown,
            TABLE_TEMPLATE,
            (
                "Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a "
                "competing risk. J Am Stat Assoc 1999;94:496-509.",
                "Geskus RB. Cause-specific cumulative incidence estimation and the Fine and "
                "Gray model under both left truncation and right censoring. Biometrics "
                "2011;67:39-49.",
            ),
        ),
        ReportSection(
            "population_rates",
            table_view,
            table_markdown,
            TABLE_TEMPLATE,
            (
                "Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II: The "
                "Design and Analysis of Cohort Studies. IARC Scientific Publications 82, 1987.",
            ),
        ),
    ]
)
