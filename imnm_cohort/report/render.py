"""Render the run's aggregate results as HTML and Markdown.

Rendering reads only the disclosure-controlled summary (and the figures made from
disclosure-controlled aggregates): it computes no statistic and never sees a patient row.
HTML is autoescaped and every Markdown table cell is escaped (:func:`md_text`): a value
that comes from the data (a file, column, category or reason name) is shown, never run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

import jinja2

from imnm_cohort.analysis.plotdata import STEPWISE_FACTOR
from imnm_cohort.analysis.registry import ANALYSES, Analysis
from imnm_cohort.contracts.rule_codes import RuleCode
from imnm_cohort.disclosure.suppression import WITHHELD
from imnm_cohort.io.escape import md_text
from imnm_cohort.report.labels import (
    CAPTIONS,
    label,
    reason_words,
    rule_words,
)
from imnm_cohort.report.numbers import num, p_text, with_ci
from imnm_cohort.vocabulary import GROUPS, IMNM_GROUPS

if TYPE_CHECKING:
    from imnm_cohort.report.figures import FigureSet

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
        The HTML template (under ``templates/``) that renders ``section_view`` as ``s``;
        :data:`TABLE_TEMPLATE` for a section that shows its analysis's manuscript table
        (with :func:`table_view` and :func:`table_markdown`).
    references : tuple of str
        Added to the report's references.
    """

    name: str
    view: Callable[[dict[str, Any]], dict[str, Any]]
    markdown: Callable[[dict[str, Any]], list[str]]
    template: str
    references: tuple[str, ...] = ()


#: Sections registered by their modules (:data:`SECTION_MODULES`), in order.
SECTIONS: list[ReportSection] = []
#: The modules that register their sections (and their Word and Excel tables) when
#: imported, one line each. They are imported on first use (:func:`registered_sections`),
#: so that importing the report package to draw the figures imports no analysis.
SECTION_MODULES = ("cancer_sections", "course_tables", "statin_table", "titre_tables")


def registered_sections() -> list[ReportSection]:
    """:data:`SECTIONS`, after importing :data:`SECTION_MODULES` (which register theirs)."""
    for name in SECTION_MODULES:
        import_module(f"imnm_cohort.report.{name}")
    return SECTIONS


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

#: The template of a section that shows a manuscript table (rendered by :func:`view`).
TABLE_TEMPLATE = "table.html.j2"


def table_markdown(v: dict[str, Any]) -> list[str]:
    """A section that shows a manuscript table, in Markdown (rendered by :func:`view`)."""
    return list(v["markdown"])


def analysis_section(analysis: Analysis) -> ReportSection:
    """The section of an analysis that has none of its own: its manuscript table
    (:func:`~imnm_cohort.report.manuscript.analysis_table`), as Word and Excel show it;
    :func:`view` renders it with the other manuscript tables."""

    return ReportSection(analysis.key, table_view, table_markdown, TABLE_TEMPLATE)


def table_view(summary: dict[str, Any]) -> dict[str, Any]:
    """Nothing of its own: :func:`view` puts the section's rendered table in its place."""
    return {}


def report_sections(summary: dict[str, Any] | None = None) -> list[ReportSection]:
    """The sections after the page's own, one per registered analysis the page does not
    lay out: the registered :data:`SECTIONS` in their order, then a section drawn from
    the results of each analysis that has none, in the registry's order. Given the
    summary, an analysis it does not hold because its event tables were not given has no
    section (:meth:`~imnm_cohort.analysis.registry.Analysis.shown_in`)."""
    registered = [
        a
        for a in ANALYSES
        if a.key not in PAGE_ANALYSES and (summary is None or a.shown_in(summary))
    ]
    keys = {a.key for a in registered}
    own = [sec for sec in registered_sections() if sec.name in keys]
    drawn = {sec.name for sec in own}
    return own + [analysis_section(a) for a in registered if a.key not in drawn]


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


def view(
    summary: dict[str, Any],
    *,
    figures: FigureSet | None,
    meta: dict[str, Any],
    changes: dict[str, Any] | None,
) -> dict[str, Any]:
    """The report's content as tables of text, shared by HTML and Markdown.

    The manuscript tables (:func:`~imnm_cohort.report.manuscript.manuscript_tables`, the
    same that Word and Excel write) are rendered once in each format
    (:mod:`~imnm_cohort.report.table_render`) under ``tables``, by key; a section whose
    analysis has a manuscript table shows that table.
    """
    from imnm_cohort.report.manuscript import NO_TABLE, TABLES, manuscript_tables
    from imnm_cohort.report.table_render import footnotes, to_html, to_markdown

    # The toolkit's own tables: keyed by their analyses, and Table 2 by the comparisons it
    # joins (onset age and peak CK); any other key is a registered analysis's own section.
    own = {k for keys, _ in TABLES for k in keys} | set(NO_TABLE) | {"comparisons"}
    tables = {}
    for table in manuscript_tables(summary):
        notes = footnotes(table, meta)
        level, anchor = 3, f"table-{table.key}"
        if table.key == "table_1":
            level, anchor = 2, "table1"
        elif table.key not in own:  # an analysis's own section, as the page's sections
            level, anchor = 2, f"analysis-{table.key}"
        tables[table.key] = {
            "html": to_html(table, notes, level=level, anchor=anchor),
            "markdown": to_markdown(table, notes, level=level),
        }
    m = summary["comparisons"]["malignancy"]
    malignancy = {
        "window": f"{m['window_years']:g}",
        "horizon": f"{m['horizon_years']:g}",
        "time_zero": m["options"]["time_zero"],
    }
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
    sections = report_sections(summary)
    return {
        **meta,
        "disclosure_note": disclosure_note(meta["min_cell_count"], meta.get("rounding", 0)),
        "counts": summary["counts"],
        "groups": summary["groups"],
        "group_labels": [(g, label(g)) for g in GROUPS],
        "imnm_groups": IMNM_GROUPS,
        "validation": validation,
        "unclassified_reasons": unclassified,
        "tables": tables,
        "malignancy": malignancy,
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
            {"template": TABLE_TEMPLATE, "name": sec.name, "view": tables[sec.name]}
            if sec.name in tables
            else {"template": sec.template, "name": sec.name, "view": sec.view(summary)}
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
    tables = c["tables"]
    out += tables["table_1"]["markdown"]
    out += ["## Group comparisons", ""]
    out += tables["comparisons"]["markdown"]
    out += tables["statin_latency"]["markdown"]
    out += ["## Figures", ""]
    for f in c["figures"]:
        out += [f"![{f['caption']}]({figure_files[f['name']]})", "", f"*{f['caption']}*", ""]
    m = c["malignancy"]
    out += ["## Malignancy", ""]
    out += tables["malignancy"]["markdown"]
    out += tables["cause_specific_cox"]["markdown"]
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
    markdown = {sec.name: sec.markdown for sec in registered_sections()}
    for section in c["sections"]:
        own = section["template"] != TABLE_TEMPLATE
        out += (markdown[section["name"]] if own else table_markdown)(section["view"])
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
