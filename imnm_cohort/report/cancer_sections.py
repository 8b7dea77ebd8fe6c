"""Report sections for cancer after onset: time since onset, Fine-Gray, SIR and SMR.

Each section turns its part of the disclosure-controlled summary into text (HTML and
Markdown share it) and registers itself with :data:`imnm_cohort.report.render.SECTIONS`.
"""

from __future__ import annotations

from typing import Any

from imnm_cohort.analysis.rates import ALL_CAUSES, ALL_MALIGNANT
from imnm_cohort.io.escape import md_text
from imnm_cohort.report.render import (
    SECTIONS,
    ReportSection,
    _table,
    label,
    model_view,
    num,
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


def fine_gray_view(summary: dict[str, Any]) -> dict[str, Any]:
    """Subdistribution hazard ratios of the Fine-Gray model."""
    fg = summary["fine_gray"]
    return {
        **model_view(fg, "subdistribution_hazard_ratio"),
        "competing": num(fg["competing"]),
    }


def fine_gray_markdown(v: dict[str, Any]) -> list[str]:
    """The section in Markdown."""
    out = ["### Fine-Gray model for cancer (death competing)", ""]
    if not v["rows"]:
        return [*out, f"Not fitted: {v['reason']}.", ""]
    out += _table(
        ["term", "subdistribution hazard ratio (95% CI)", "p"],
        [[r["term"], r["ratio"], r["p"]] for r in v["rows"]],
    )
    return [
        *out,
        f"Reference group: {v['reference']}; {v['events']} cancers and {v['competing']} "
        f"competing deaths among {v['n']} patients at risk.",
        "",
    ]


def _ratio_cells(r: dict[str, Any]) -> dict[str, str]:
    return {
        "observed": num(r["observed"]),
        "expected": num(r["expected"], 1),
        "ratio": with_ci(r["ratio"], r["ratio_ci"], 2),
    }


def population_view(summary: dict[str, Any]) -> dict[str, Any]:
    """SIR and SMR by group and by band of time since time zero (or why there are none)."""
    p = summary.get("population_rates")
    if p is None:
        return {"given": False}
    ratios = []
    for ratio in p["ratios"]:
        rows = []
        for g, r in ratio["groups"].items():
            rows.append({"label": label(g), "band": "all", **_ratio_cells(r)})
            rows += [
                {"label": "", "band": band, **_ratio_cells(b)}
                for band, b in r["by_follow_up"].items()
            ]
        ratios.append(
            {
                "title": f"{ratio['measure']}: {SITE_NAMES.get(ratio['site'], ratio['site'])}",
                "measure": ratio["measure"],
                "rows": rows,
                "uncovered": f"{num(ratio['person_years_without_rate'], 0)} "
                f"({num(ratio['patients_without_rate'])} patients)",
            }
        )
    return {
        "given": True,
        "file": p["rates_file"],
        "sources": p["sources"],
        "time_zero": p["time_zero"],
        "ratios": ratios,
    }


def population_markdown(v: dict[str, Any]) -> list[str]:
    """The section in Markdown."""
    out = ["### Against population rates (SIR, SMR)", ""]
    if not v["given"]:
        return [
            *out,
            "No reference-rate file was given, so no SIR or SMR was computed "
            "(`[analysis] reference_rates`; see docs/reference-rates.md).",
            "",
        ]
    sources = "; ".join(md_text(x) for x in v["sources"])
    out += [f"Rates: {md_text(v['file'])}; source: {sources}.", ""]
    for r in v["ratios"]:
        out += [f"#### {r['title']}", ""]
        out += _table(
            [
                "group",
                f"years since {v['time_zero']}",
                "observed",
                "expected",
                f"{r['measure']} (95% CI)",
            ],
            [[x["label"], x["band"], x["observed"], x["expected"], x["ratio"]] for x in r["rows"]],
        )
        out += [f"Person-years without a population rate (left out): {r['uncovered']}.", ""]
    return out


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
            fine_gray_view,
            fine_gray_markdown,
            "fine_gray.html.j2",
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
            population_view,
            population_markdown,
            "population_rates.html.j2",
            (
                "Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II: The "
                "Design and Analysis of Cohort Studies. IARC Scientific Publications 82, 1987.",
            ),
        ),
    ]
)
