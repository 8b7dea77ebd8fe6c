"""Render the run's aggregate results as HTML and Markdown.

Rendering reads only the disclosure-controlled summary (and the figures made from
disclosure-controlled aggregates): it computes no statistic and never sees a patient row.
HTML is autoescaped and every Markdown table cell is escaped (:func:`md_text`): a value
that comes from the data (a file, column, category or reason name) is shown, never run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jinja2

from imnm_cohort.analysis.plotdata import STEPWISE_FACTOR
from imnm_cohort.analysis.registry import ANALYSES, Analysis
from imnm_cohort.contracts.rule_codes import RuleCode
from imnm_cohort.disclosure.suppression import WITHHELD
from imnm_cohort.io.escape import md_text
from imnm_cohort.report.labels import (
    CAPTIONS,
    SUMMARY_WORDS,
    TEST_SHORT,
    label,
    reason_words,
    rule_words,
)
from imnm_cohort.report.numbers import num, p_text, pval, with_ci
from imnm_cohort.vocabulary import GROUPS, IMNM_GROUPS, VARIABLE_TITLES

if TYPE_CHECKING:
    from imnm_cohort.report.figures import Figures

REFERENCES = (
    "The Myositis Association. Immune-mediated necrotizing myopathy. Revised August 2025 "
    "(T. Liewluck, Mayo Clinic).",
    "Allenbach Y, Mammen AL, Benveniste O, Stenzel W. 224th ENMC International Workshop: "
    "clinico-sero-pathological classification of immune-mediated necrotizing myopathies. "
    "Neuromuscul Disord 2018;28:87-99.",
    "Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a "
    "competing risk. Ann Stat 1988;16:1141-54.",
    "Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat 1979;6:65-70.",
    "Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the "
    "case of the binomial. Biometrika 1934;26:404-13.",
    "Garwood F. Fiducial limits for the Poisson distribution. Biometrika 1936;28:437-42.",
    "Davidson-Pilon C. lifelines: survival analysis in Python. J Open Source Softw 2019;4:1317.",
)
CONTINUOUS_TITLES = {
    v: VARIABLE_TITLES[v] for v in ("age_at_onset_years", "ck_peak", "followup_years")
}


@dataclass(frozen=True)
class ReportSection:
    """A report section added by its own module: the next analysis needs no edit here.

    Attributes
    ----------
    name : str
        The key in ``summary.json`` of the analysis it shows
        (:attr:`~imnm_cohort.analysis.registry.Analysis.key`).
    view : callable
        ``view(summary) -> dict``: the section's text, from the disclosure-controlled summary.
    markdown : callable
        ``markdown(section_view) -> list of str``: the section's Markdown lines.
    template : str
        The HTML template (under ``templates/``) that renders ``section_view`` as ``s``.
    references : tuple of str
        Added to the report's references.
    """

    name: str
    view: Callable[[dict[str, Any]], dict[str, Any]]
    markdown: Callable[[dict[str, Any]], list[str]]
    template: str
    references: tuple[str, ...] = ()


#: Sections registered by their modules (see ``imnm_cohort/report/__init__.py``), in order.
SECTIONS: list[ReportSection] = []

#: The analyses the report's page lays out itself (Table 1, the group comparisons, the
#: malignancy table, the Cox model and survival, around the figures).
PAGE_ANALYSES = (
    "table_one",
    "onset_age",
    "ck_peak",
    "statin_latency",
    "malignancy",
    "cause_specific_cox",
    "survival",
)

#: The template of a section drawn from an analysis's results (:func:`analysis_section`).
ANALYSIS_TEMPLATE = "analysis.html.j2"


def analysis_section(analysis: Analysis) -> ReportSection:
    """The section of an analysis that has none of its own: its manuscript table
    (:func:`~imnm_cohort.report.manuscript.analysis_table`) as text."""

    def section_view(summary: dict[str, Any]) -> dict[str, Any]:
        from imnm_cohort.report.manuscript import analysis_table

        table = analysis_table(summary, analysis, 0)
        return {
            "key": analysis.key,
            "title": analysis.title,
            "columns": list(table.columns),
            "rows": [
                {
                    "label": "  " * row.indent + row.label,
                    "cells": [row.cell_text(i) for i in range(len(table.columns))],
                }
                for row in table.rows
            ],
            "notes": list(table.footnotes),
        }

    return ReportSection(analysis.key, section_view, analysis_markdown, ANALYSIS_TEMPLATE)


def analysis_markdown(v: dict[str, Any]) -> list[str]:
    """A section drawn from an analysis's results, in Markdown."""
    out = [f"## {md_text(v['title'])}", ""]
    out += _table(["", *v["columns"]], [[r["label"], *r["cells"]] for r in v["rows"]])
    return out + [f"{md_text(note)}\n" for note in v["notes"]]


def report_sections() -> list[ReportSection]:
    """The sections after the page's own, one per registered analysis the page does not
    lay out: the registered :data:`SECTIONS` in their order, then a section drawn from
    the results of each analysis that has none, in the registry's order."""
    registered = [a for a in ANALYSES if a.key not in PAGE_ANALYSES]
    keys = {a.key for a in registered}
    own = [sec for sec in SECTIONS if sec.name in keys]
    drawn = {sec.name for sec in own}
    return own + [analysis_section(a) for a in registered if a.key not in drawn]


def _method_note(test: dict[str, Any]) -> str:
    """`` (exact)`` or `` (normal)`` after a Mann-Whitney p-value; nothing when untested."""
    method = test.get("p_value_method")
    return f" ({method})" if method in ("exact", "normal") else ""


def _median_iqr(s: dict[str, Any], digits: int = 1) -> str:
    if s.get("n") in (0, None):
        return "-"
    if isinstance(s.get("median"), str):
        return s["median"]
    return f"{num(s['median'], digits)} [{num(s['q1'], digits)}, {num(s['q3'], digits)}]"


def _mean_sd(s: dict[str, Any], digits: int = 1) -> str:
    if s.get("n") in (0, None) or isinstance(s.get("mean"), str):
        return num(s.get("mean"))
    return f"{num(s['mean'], digits)} ({num(s['sd'], digits)})"


def _smd_text(pairs: list[dict[str, Any]]) -> str:
    """The largest pairwise SMD, two decimals; a dash when none could be computed."""
    values = [p["smd"] for p in pairs if isinstance(p["smd"], int | float)]
    withheld = [p["smd"] for p in pairs if isinstance(p["smd"], str)]
    if withheld:
        return str(withheld[0])
    return f"{max(values):.2f}" if values else "-"


def table_one_view(t1: dict[str, Any]) -> dict[str, Any]:
    """Table 1 as header cells and rows of text, from its self-describing summary.

    Every row of ``summary["table_one"]["rows"]`` names its label, kind, summary and cells,
    so this draws any variables the pipeline chose.
    """
    columns = t1["columns"]
    has_smd = any(row["smd"] for row in t1["rows"])
    rows = []
    for row in t1["rows"]:
        test = row["test"]
        p = pval(test["p_value"]) if test["test"] else ""
        if test["test"] and test["test"] not in ("kruskal", "chi2"):
            p += f" ({TEST_SHORT.get(test['test'], test['test'])})"
        smd = _smd_text(row["smd"]) if has_smd and row["smd"] else ""
        cells = [row["cells"][g] for g in columns]
        if row["kind"] == "continuous":
            show = _median_iqr if row["summary"] == "median_iqr" else _mean_sd
            rows.append(
                {
                    "label": f"{row['label']}, {SUMMARY_WORDS[row['summary']]}",
                    "cells": [show(c) for c in cells],
                    "p": p,
                    "smd": smd,
                }
            )
            if any(c["missing"] for c in cells):
                rows.append(
                    {
                        "label": "  missing",
                        "cells": [num(c["missing"]) for c in cells],
                        "p": "",
                        "smd": "",
                    }
                )
            continue
        rows.append({"label": row["label"], "cells": [""] * len(columns), "p": p, "smd": smd})
        for level in row["levels"]:
            texts = []
            for c in cells:
                count, percent = c["counts"][level], c["percent"][level]
                texts.append(
                    num(count)
                    if isinstance(percent, str) or percent is None
                    else f"{num(count)} ({percent:.1f}%)"
                )
            rows.append({"label": f"  {level}", "cells": texts, "p": "", "smd": ""})
    return {
        "columns": [{"label": label(g), "n": num(t1["n"].get(g))} for g in columns],
        "rows": rows,
        "smd": has_smd,
        "notes": t1["footnotes"],
    }


def _caption(figure: str, min_cell_count: int) -> str:
    """A figure's caption, saying how small groups are drawn when control is on."""
    text = CAPTIONS[figure]
    if figure in ("cancer_incidence", "survival") and min_cell_count:
        text += (
            f" Curves stop where fewer than {min_cell_count} patients remain at risk and "
            f"step only by at least {min_cell_count} events, on a yearly grid (groups of "
            f"fewer than {STEPWISE_FACTOR * min_cell_count} patients) or a monthly one; "
            "fewer events are carried to the next step, so that no step dates a patient's "
            "event. A group whose counts are withheld is not drawn; its legend says why."
        )
    return text


def disclosure_note(min_cell_count: int, rounding: int = 0) -> str:
    """What the withheld markers mean, in one or two sentences."""
    if not min_cell_count and not rounding:
        return "Disclosure control is off: every count is exact."
    if rounding:
        small = (
            f"'<={min_cell_count}' is a count from 1 to {min_cell_count}, withheld; every "
            f"other count is rounded to the nearest {rounding}."
        )
    else:
        small = f"'<{min_cell_count}' is a count from 1 to {min_cell_count - 1}, withheld."
    return (
        f"{small} '{WITHHELD}' is a value withheld so that a small count cannot be worked "
        "out from it; it may be of any size."
    )


def withheld_note(reason: Any) -> bool:
    """Whether a reason is disclosure control's note (``not shown (fewer than 5 ...)``)."""
    return isinstance(reason, str) and reason.startswith("not shown")


def why_not(value: Any, reason: Any, words: str = "not tested") -> str | None:
    """Why a test or term shows no number: disclosure control's note as it stands, or
    ``words (reason)``; None when ``value`` is shown (a p-value rounded to ``<0.001``
    too)."""
    if withheld_note(reason):
        return str(reason)
    shown = value is not None and (not isinstance(value, str) or value.startswith("<0"))
    if shown or not reason:
        return None
    return f"{words} ({reason})"


def model_view(fit: dict[str, Any], ratio: str) -> dict[str, Any]:
    """A regression's reference group, counts, reason it was not fitted, and one row per term.

    Each row holds the term, its ``ratio`` (a key of the term: ``hazard_ratio``, ...) with
    its 95% CI, or "not estimable (reason)", and its p-value.
    """
    return {
        "reference": label(fit["reference_group"]),
        "n": num(fit["n"]),
        "events": num(fit["events"]),
        "reason": fit["reason"],
        "rows": [
            {
                "term": t["term"].replace("group_", "group: "),
                "ratio": why_not(None, t.get("reason"), "not estimable")
                or with_ci(t[ratio], t["ci"], 2),
                "p": pval(t["p_value"]),
            }
            for t in fit["terms"]
        ],
    }


def view(
    summary: dict[str, Any],
    *,
    figures: Figures | None,
    meta: dict[str, Any],
    changes: dict[str, Any] | None,
) -> dict[str, Any]:
    """The report's content as tables of text, shared by HTML and Markdown."""
    comparisons = summary["comparisons"]
    t1 = table_one_view(summary["table_one"])
    continuous = []
    for key, variable in (("onset_age", "age_at_onset_years"), ("ck_peak", "ck_peak")):
        c = comparisons[key]
        overall = why_not(c["p_value"], c["reason"]) or (
            f"H = {num(c['statistic'], 2)}, {p_text(c['p_value'])}"
        )
        pairs = [
            {
                "a": label(p["a"]),
                "b": label(p["b"]),
                "diff": with_ci(p["median_difference"], p["median_difference_ci"]),
                "p": pval(p["p_value"]) + _method_note(p),
                "p_adj": pval(p["p_adjusted"]),
            }
            for p in c["pairwise"]
        ]
        continuous.append(
            {"title": CONTINUOUS_TITLES[variable], "overall": overall, "pairs": pairs}
        )
    st = comparisons["statin_latency"]
    statin = {
        "rows": [
            {
                "label": label(g),
                "n": num(s["n"]),
                "latency": _median_iqr(s),
                "exposed": f"{num(st['exposed'][g]['exposed'])} / {num(st['exposed'][g]['n'])}",
            }
            for g, s in st["groups"].items()
        ],
        "p": why_not(st["p_value"], st["reason"]) or p_text(st["p_value"]) + _method_note(st),
    }
    m = comparisons["malignancy"]
    malignancy = {
        "window": f"{m['window_years']:g}",
        "horizon": f"{m['horizon_years']:g}",
        "time_zero": m["options"]["time_zero"],
        "gray": why_not(m["p_value"], m["reason"])
        or f"chi-square {num(m['statistic'], 2)}, {p_text(m['p_value'])}",
        "rows": [
            {
                "label": label(g),
                "n": num(r["n"]),
                "window": (
                    f"{num(r['within_window'])} "
                    + "("
                    + with_ci(r["within_window_proportion"], r["within_window_ci"], 1, 100, "%")
                    + ")"
                    if not isinstance(r["within_window_proportion"], str)
                    else num(r["within_window"])
                ),
                "at_risk": num(r["at_risk"]),
                "events": num(r["events"]),
                "py": num(r["person_years"], 0),
                "rate": with_ci(r["rate_per_1000py"], r["rate_ci"]),
                "cuminc": "horizon beyond this group's follow-up"
                if r.get("horizon_beyond_follow_up") is True
                else with_ci(r["cumulative_incidence"], r["cumulative_incidence_ci"], 1, 100, "%"),
            }
            for g, r in m["groups"].items()
        ],
        "time_zero_after_end": ", ".join(
            f"{label(g)} {num(r['time_zero_after_end'])}"
            for g, r in m["groups"].items()
            if r.get("time_zero_after_end", 0) != 0
        ),
    }
    cx = summary["cause_specific_cox"]
    cox = model_view(cx, "hazard_ratio")
    cox["rows"] = [
        {**row, "ph": pval(t["ph_test_p_value"])}
        for row, t in zip(cox["rows"], cx["terms"], strict=True)
    ]
    sv = summary["survival"]
    survival = {
        "p": why_not(sv["p_value"], sv["reason"]) or p_text(sv["p_value"]),
        "rows": [
            {
                "label": label(g),
                "n": num(s["n"]),
                "deaths": num(s["deaths"]),
                "at_horizon": with_ci(s["survival_at_horizon"], s["ci_at_horizon"], 1, 100, "%"),
                "median": num(s["median_years"]),
            }
            for g, s in sv["groups"].items()
        ],
    }
    reasons = summary.get("classification_reasons", {})
    unclassified = [
        {
            "code": code,
            "meaning": reason_words(code),
            "rule": known.rule,
            "count": count,
        }
        for code, count in reasons.items()
        if (known := RuleCode.get(code)) is not None and known.group == "unclassified"
    ]
    validation = {
        **summary["validation"],
        "quarantine_reasons": [
            {**r, "words": rule_words(str(r["column"]), str(r["rule"]))}
            for r in summary["validation"]["quarantine_reasons"]
        ],
    }
    shown = [] if figures is None else figures.names
    sections = report_sections()
    return {
        **meta,
        "disclosure_note": disclosure_note(meta["min_cell_count"], meta.get("rounding", 0)),
        "counts": summary["counts"],
        "groups": summary["groups"],
        "group_labels": [(g, label(g)) for g in GROUPS],
        "imnm_groups": IMNM_GROUPS,
        "validation": validation,
        "unclassified_reasons": unclassified,
        "t1_columns": t1["columns"],
        "t1_rows": t1["rows"],
        "t1_smd": t1["smd"],
        "t1_notes": t1["notes"],
        "continuous": continuous,
        "statin": statin,
        "malignancy": malignancy,
        "cox": cox,
        "survival": survival,
        "figures": [
            {
                "name": k,
                "svg": figures.svg(k) if figures else "",
                "caption": _caption(k, meta["min_cell_count"]),
                "wide": bool(figures and figures.two_columns(k)),
            }
            for k in shown
        ],
        "references": (*REFERENCES, *(r for sec in sections for r in sec.references)),
        "changes": changes,
        "sections": [
            {"template": sec.template, "name": sec.name, "view": sec.view(summary)}
            for sec in sections
        ],
    }


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("imnm_cohort.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(context: dict[str, Any]) -> str:
    """The self-contained HTML report."""
    return _ENV.get_template("report.html.j2").render(**context)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(md_text(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(c: dict[str, Any], figure_files: dict[str, str]) -> str:
    """The Markdown report; figures are files beside it (``figure_files``: stem -> path)."""
    counts, v = c["counts"], c["validation"]
    out = [f"# {md_text(c['title'])}", ""]
    out += [f"**{md_text(c['study'])}**", ""] if c["study"] else []
    if c["data_cutoff"]:
        out += [f"Data cut-off: {c['data_cutoff']}.", ""]
    if c["authors"]:
        out += [f"Authors: {md_text(', '.join(c['authors']))}.", ""]
    out += [
        f"Extract {md_text(c['source_name'])}, criteria **{md_text(c['criteria']['name'])}**, run "
        f"{md_text(c['run_name'])}, generated {c['generated_utc']}, imnm-cohort {c['version']}.",
        "",
        f"Aggregate report: no patient identifiers or dates. {md_text(c['disclosure_note'])}",
        "",
        "## Cohort flow",
        "",
    ]
    out += _table(
        ["stage", "patients"],
        [
            ["rows in the extract", num(counts["input_rows"])],
            ["quarantined", num(counts["quarantined_rows"])],
            ["valid", num(counts["valid_rows"])],
        ]
        + [[f"group: {lbl}", num(c["groups"][g])] for g, lbl in c["group_labels"]],
    )
    if c["unclassified_reasons"]:
        out += ["### Why patients are unclassified", ""]
        out += _table(
            ["reason", "rule", "patients", "code"],
            [
                [r["meaning"], r["rule"], num(r["count"]), r["code"]]
                for r in c["unclassified_reasons"]
            ],
        )
    out += ["## Data quality", ""]
    out += (
        _table(
            ["problem", "rows quarantined", "column", "rule"],
            [[r["words"], num(r["rows"]), r["column"], r["rule"]] for r in v["quarantine_reasons"]],
        )
        if v["quarantine_reasons"]
        else ["No row was quarantined.", ""]
    )
    if v["warnings"]:
        out += _table(
            ["warning (rows kept)", "meaning", "rows"],
            [[w["code"], w["description"], num(w["rows"])] for w in v["warnings"]],
        )
    out += ["## Table 1: patients by IMNM group", ""]
    smd_header = ["SMD"] if c["t1_smd"] else []
    out += _table(
        ["", *[f"{col['label']} (n = {col['n']})" for col in c["t1_columns"]], "p", *smd_header],
        [
            [r["label"], *r["cells"], r["p"], *([r["smd"]] if c["t1_smd"] else [])]
            for r in c["t1_rows"]
        ],
    )
    out += [*(f"{md_text(note)}\n" for note in c["t1_notes"])]
    out += ["## Group comparisons", ""]
    for comp in c["continuous"]:
        out += [f"### {comp['title']}", "", f"Kruskal-Wallis: {comp['overall']}", ""]
        out += _table(
            ["groups", "difference in medians (95% CI)", "Mann-Whitney p", "Holm-adjusted p"],
            [[f"{p['a']} vs {p['b']}", p["diff"], p["p"], p["p_adj"]] for p in comp["pairs"]],
        )
    out += ["### Statin latency", ""]
    out += _table(
        ["group", "statin exposed / n", "latency, months: median [Q1, Q3]", "n with latency"],
        [[r["label"], r["exposed"], r["latency"], r["n"]] for r in c["statin"]["rows"]],
    )
    out += [
        f"anti-HMGCR versus toxic statin myopathy (Mann-Whitney): {c['statin']['p']}",
        "",
        "## Figures",
        "",
    ]
    for f in c["figures"]:
        out += [f"![{f['caption']}]({figure_files[f['name']]})", "", f"*{f['caption']}*", ""]
    m = c["malignancy"]
    out += ["## Malignancy", ""]
    out += _table(
        [
            "group",
            "n",
            f"cancer within ±{m['window']} y (95% CI)",
            "at risk",
            "cancers",
            "person-years",
            "rate / 1,000 py (95% CI)",
            f"cumulative incidence at {m['horizon']} y (95% CI)",
        ],
        [
            [
                r["label"],
                r["n"],
                r["window"],
                r["at_risk"],
                r["events"],
                r["py"],
                r["rate"],
                r["cuminc"],
            ]
            for r in m["rows"]
        ],
    )
    if m["time_zero_after_end"]:
        out += [
            f"Not at risk because {m['time_zero']} falls after the end of observation "
            f"(a data-quality warning): {md_text(m['time_zero_after_end'])}.",
            "",
        ]
    out += [
        f"Gray's test across groups: {m['gray']}",
        "",
        "### Cause-specific Cox model for cancer",
        "",
    ]
    if c["cox"]["rows"]:
        out += _table(
            ["term", "hazard ratio (95% CI)", "p", "PH test p"],
            [[r["term"], r["ratio"], r["p"], r["ph"]] for r in c["cox"]["rows"]],
        )
    else:
        out += [f"Not fitted: {c['cox']['reason']}.", ""]
    out += ["### Overall survival", ""]
    out += _table(
        [
            "group",
            "n",
            "deaths",
            f"survival at {m['horizon']} y (95% CI)",
            "median survival, years",
        ],
        [
            [r["label"], r["n"], r["deaths"], r["at_horizon"], r["median"]]
            for r in c["survival"]["rows"]
        ],
    )
    out += [f"Log-rank test: {c['survival']['p']}", ""]
    markdown = {sec.name: sec.markdown for sec in SECTIONS}
    for section in c["sections"]:
        out += markdown.get(section["name"], analysis_markdown)(section["view"])
    if c["changes"]:
        ch = c["changes"]
        out += [
            "## Changes since the previous run",
            "",
            f"Compared with run {md_text(ch['previous_run'])}.",
            "",
        ]
        out += _table(
            ["patients", "count"],
            [[k.replace("_", " "), num(n)] for k, n in ch["patients"].items()],
        )
        if ch["transitions"]:
            out += _table(
                ["group change", "patients"], [[k, num(n)] for k, n in ch["transitions"].items()]
            )
        if ch["estimates"]:
            out += _table(
                ["estimate", "previous", "now"],
                [
                    [e["estimate"], num(e["previous"], 4), num(e["current"], 4)]
                    for e in ch["estimates"]
                ],
            )
    out += ["## Methods", ""]
    out += [*(f"{text}\n" for text in c["methods_paragraphs"]), "### References", ""]
    out += [f"{i}. {r}" for i, r in enumerate(c["references"], 1)]
    mf = c["manifest"]
    out += [
        "",
        "## Run",
        "",
        f"Input SHA-256 `{mf['input_sha256']}`; values withheld: "
        f"{mf['withheld']}; versions: "
        + ", ".join(f"{k} {val}" for k, val in mf["versions"].items())
        + ".",
        "",
    ]
    return "\n".join(out)
