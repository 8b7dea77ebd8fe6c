"""The manuscript tables, built from the disclosure-controlled summary.

One description of each table serves every tabular format: Word shows each cell as text
with the report's rounding; Excel stores each number as a number, one statistic per row.
Every number carries its path in ``summary.json`` (``a.b[0].c``), so a cell can always be
traced to the summary it came from; nothing here computes a statistic.

Tables follow the usual layout of a clinical paper: groups as columns, statistics as rows,
the p-value of the test across groups in the last column with a footnote naming the test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from imnm_cohort.analysis.registry import ANALYSES, Analysis
from imnm_cohort.report import model_tables, population_table, statin_table
from imnm_cohort.report.labels import SUMMARY_WORDS, label
from imnm_cohort.report.numbers import num
from imnm_cohort.report.render import registered_sections, why_not
from imnm_cohort.report.table_model import Builder, Number, Row, Table, at, with_ci
from imnm_cohort.vocabulary import VARIABLE_TITLES

#: Continuous summaries: (statistics, pattern).
_CONTINUOUS = {
    "median_iqr": ((("median", "median"), ("Q1", "q1"), ("Q3", "q3")), "{} [{}, {}]"),
    "mean_sd": ((("mean", "mean"), ("SD", "sd")), "{} ({})"),
}


def _smd(r: dict[str, Any], i: int) -> tuple[Number | None, ...]:
    """A Table 1 row's SMD column: its largest pairwise SMD (or the withheld marker, or a
    dash when none could be computed); nothing for a row without SMDs."""
    pairs = r.get("smd") or []
    if not pairs:
        return (None,)
    path = f"table_one.rows[{i}].smd"
    withheld = [j for j, p in enumerate(pairs) if isinstance(p["smd"], str)]
    values = [(p["smd"], j) for j, p in enumerate(pairs) if isinstance(p["smd"], int | float)]
    if withheld:
        j = withheld[0]
    elif values:
        j = max(values)[1]
    else:
        return (Number(None, path, "decimal", 2),)
    return (Number(pairs[j]["smd"], f"{path}[{j}].smd", "decimal", 2),)


def table_one(summary: dict[str, Any]) -> Table:
    """Table 1: patients by IMNM group (and overall), drawn from its self-describing rows,
    so that any variables a pipeline chose appear. When the rows carry standardized mean
    differences, an SMD column after the p column shows the largest pairwise one."""
    t1 = summary["table_one"]
    b = Builder(summary)
    columns = tuple(t1["columns"])
    has_smd = any(r.get("smd") for r in t1["rows"])
    rows: list[Row] = []
    for i, r in enumerate(t1["rows"]):
        smd = _smd(r, i) if has_smd else ()
        base, test = f"table_one.rows[{i}].cells.{{g}}", f"table_one.rows[{i}].test"
        test_name = r["test"]["test"]
        if r["kind"] == "continuous":
            stats, pattern = _CONTINUOUS[r["summary"]]
            row = b.row(
                f"{r['label']}, {SUMMARY_WORDS[r['summary']]}",
                columns,
                [(name, f"{base}.{key}", "decimal") for name, key in stats],
                pattern,
                p=f"{test}.p_value",
                test=test_name,
            )
            rows.append(replace(row, extra=smd))
            if any(r["cells"][g]["missing"] for g in columns):
                rows.append(
                    b.row("missing", columns, [("n", f"{base}.missing", "count")], "{}", indent=1)
                )
            continue
        rows.append(
            Row(
                f"{r['label']}, n (%)",
                (),
                "",
                tuple(None for _ in columns),
                b.n(f"{test}.p_value", "p"),
                test_name,
                extra=smd,
            )
        )
        for level in r["levels"]:
            rows.append(
                b.row(
                    str(level),
                    columns,
                    [
                        ("n", f"{base}.counts.{level}", "count"),
                        ("%", f"{base}.percent.{level}", "decimal"),
                    ],
                    "{} ({}%)",
                    indent=1,
                )
            )
    return Table(
        "table_1",
        "Table 1. Characteristics of the patients by IMNM group",
        tuple(label(g) for g in columns),
        tuple(rows),
        tuple(t1.get("footnotes", ())),
        tuple(b.n(f"table_one.n.{g}", "count") for g in columns),
        ("SMD",) if has_smd else (),
    )


def comparisons(summary: dict[str, Any]) -> Table:
    """Pairwise comparisons of onset age and peak CK between the IMNM groups."""
    b = Builder(summary)
    pairs = [(p["a"], p["b"]) for p in summary["comparisons"]["onset_age"]["pairwise"]]
    columns = tuple(f"{label(a)} vs {label(c)}" for a, c in pairs)
    rows: list[Row] = []
    notes = []
    for key, title in (
        ("onset_age", VARIABLE_TITLES["age_at_onset_years"]),
        ("ck_peak", VARIABLE_TITLES["ck_peak"]),
    ):
        c = summary["comparisons"][key]
        index = {(p["a"], p["b"]): i for i, p in enumerate(c["pairwise"])}

        pairwise = f"comparisons.{key}.pairwise[{{g}}]"

        slots = [str(index.get(pair, len(index))) for pair in pairs]
        rows.append(
            b.row(
                f"{title}: difference in medians (95% CI)",
                slots,
                with_ci(
                    "difference",
                    f"{pairwise}.median_difference",
                    f"{pairwise}.median_difference_ci",
                ),
                "{} ({} to {})",
                p=f"comparisons.{key}.p_value",
                test="kruskal",
            )
        )
        for words, field_ in (("Mann-Whitney p", "p_value"), ("Holm-adjusted p", "p_adjusted")):
            stats = [("p", f"{pairwise}.{field_}", "p")]
            rows.append(b.row(words, slots, stats, "{}", indent=1))
        if why := why_not(c.get("p_value"), c.get("reason"), "not tested across the groups"):
            notes.append(f"{title}: {why}.")
    return Table(
        "comparisons",
        "Table 2. Onset age and peak CK compared between the IMNM groups",
        columns,
        tuple(rows),
        (
            "Difference in medians (first group minus second) with a bootstrap 95% confidence "
            "interval; pairwise two-sided Mann-Whitney U tests (exact p-values for small groups "
            "without ties, otherwise the normal approximation, as R's wilcox.test), "
            "Holm-adjusted. The p column is the test across the three groups.",
            *notes,
        ),
    )


def statin_latency(summary: dict[str, Any]) -> Table:
    """Statin exposure and latency by group."""
    b = Builder(summary)
    st = summary["comparisons"]["statin_latency"]
    columns = tuple(st["groups"])
    base = "comparisons.statin_latency"
    compared = " versus ".join(label(g) for g in st.get("compared", ()))
    notes = [f"p: {compared}."]
    if why := why_not(st.get("p_value"), st.get("reason")):
        notes = [f"{compared}: {why}."]
    rows = (
        b.row(
            "Statin exposed, n / N",
            columns,
            [
                ("exposed", f"{base}.exposed.{{g}}.exposed", "count"),
                ("N", f"{base}.exposed.{{g}}.n", "count"),
            ],
            "{} / {}",
        ),
        b.row(
            "Latency, months: median [Q1, Q3]",
            columns,
            [
                ("median", f"{base}.groups.{{g}}.median", "decimal"),
                ("Q1", f"{base}.groups.{{g}}.q1", "decimal"),
                ("Q3", f"{base}.groups.{{g}}.q3", "decimal"),
            ],
            "{} [{}, {}]",
            p=f"{base}.p_value",
            test="mannwhitneyu",
        ),
        b.row(
            "Patients with a latency, n", columns, [("n", f"{base}.groups.{{g}}.n", "count")], "{}"
        ),
    )
    return Table(
        "statin_latency",
        "Table 3. Statin exposure and latency from statin start to onset",
        tuple(label(g) for g in columns),
        rows,
        (
            "Latency among statin-exposed patients who started the statin on or before onset.",
            *notes,
        ),
    )


def malignancy(summary: dict[str, Any]) -> Table:
    """Cancer around and after time zero by group."""
    b = Builder(summary)
    m = summary["comparisons"]["malignancy"]
    columns = tuple(m["groups"])
    g = "comparisons.malignancy.groups.{g}"
    t0 = m.get("options", {}).get("time_zero", "onset")
    window, horizon = f"{m['window_years']:g}", f"{m['horizon_years']:g}"
    rows = (
        b.row("Patients, n", columns, [("n", f"{g}.n", "count")], "{}"),
        b.row(
            f"Cancer within ±{window} years of {t0}, n (%)",
            columns,
            [
                ("n", f"{g}.within_window", "count"),
                ("%", f"{g}.within_window_proportion", "percent"),
            ],
            "{} ({})",
        ),
        b.row(
            "95% CI, %",
            columns,
            [
                ("CI lower", f"{g}.within_window_ci[0]", "percent"),
                ("CI upper", f"{g}.within_window_ci[1]", "percent"),
            ],
            "{} to {}",
            indent=1,
        ),
        b.row(f"At risk after {t0}, n", columns, [("n", f"{g}.at_risk", "count")], "{}"),
        b.row(f"Cancers after {t0}, n", columns, [("n", f"{g}.events", "count")], "{}"),
        b.row(
            "Person-years",
            columns,
            [("person-years", f"{g}.person_years", "decimal")],
            "{}",
            digits=0,
        ),
        b.row(
            "Rate per 1,000 person-years (95% CI)",
            columns,
            with_ci("rate", f"{g}.rate_per_1000py", f"{g}.rate_ci"),
            "{} ({} to {})",
        ),
        b.row(
            f"Cumulative incidence at {horizon} years, % (95% CI)",
            columns,
            with_ci(
                "estimate", f"{g}.cumulative_incidence", f"{g}.cumulative_incidence_ci", "percent"
            ),
            "{} ({} to {})",
            p="comparisons.malignancy.p_value",
            test="gray",
        ),
    )
    notes = [
        "Window: Clopper-Pearson 95% CI. Rates: exact Poisson 95% CI. Cumulative incidence: "
        "Aalen-Johansen estimate with death as a competing event (log-log 95% CI)."
    ]
    if why := why_not(m.get("p_value"), m.get("reason"), "not done"):
        notes.append(f"Gray's test {why}.")
    notes += [
        f"{label(c)}: cumulative incidence at {horizon} years not estimated, horizon beyond "
        "this group's follow-up."
        for c in columns
        if m["groups"][c].get("horizon_beyond_follow_up") is True
    ]
    after_end = ", ".join(
        f"{label(c)} {num(r['time_zero_after_end'])}"
        for c, r in m["groups"].items()
        if r.get("time_zero_after_end", 0) != 0
    )
    if after_end:
        notes.append(
            f"Not at risk because {t0} falls after the end of observation (a data-quality "
            f"warning): {after_end}."
        )
    return Table(
        "malignancy",
        "Table 4. Malignancy by IMNM group",
        tuple(label(c) for c in columns),
        rows,
        tuple(notes),
    )


TableBuilder = Callable[[dict[str, Any]], Table]

#: Every manuscript table, in the order of a paper, with the analyses it shows (their keys
#: in ``summary.json``).
TABLES: tuple[tuple[tuple[str, ...], TableBuilder], ...] = (
    (("table_one",), table_one),
    (("onset_age", "ck_peak"), comparisons),
    (("statin_latency",), statin_latency),
    (("malignancy",), malignancy),
    (("cause_specific_cox",), model_tables.cause_specific_cox),
    (("fine_gray",), model_tables.fine_gray),
    (("population_rates",), population_table.population_rates),
    (("statin_population",), statin_table.statin_population),
)

#: Analyses that the report and its figures show, given no manuscript table of their own.
NO_TABLE = ("survival", "time_since_onset")


def _words(key: str) -> str:
    return key.replace("_", " ")


def _kind(key: str, values: list[Any]) -> str:
    if key == "p_value" or key.endswith("_p_value"):
        return "p"
    numbers = [v for v in values if not isinstance(v, str | type(None))]
    counts = all(isinstance(v, int) and not isinstance(v, bool) for v in numbers)
    return "count" if numbers and counts else "decimal"


def _leaves(data: Any, prefix: str) -> list[tuple[str, str, Any]]:
    """Every number or text under ``data``: (label, path, value), in order."""
    if isinstance(data, dict):
        return [
            leaf
            for k, v in data.items()
            for leaf in _leaves(v, f"{prefix}.{k}" if prefix else str(k))
        ]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in _leaves(v, f"{prefix}[{i}]")]
    return [(prefix, prefix, data)]


def analysis_table(summary: dict[str, Any], analysis: Analysis, number: int) -> Table:
    """The table of an analysis that has none of its own, drawn from its part of the
    summary: with ``groups`` of statistics, one column per group and one row per
    statistic; else one row per value. What lies outside ``groups`` is shown in footnotes.
    """
    base = ".".join(analysis.path)
    title = f"Table {number}. {analysis.title}"
    data = at(summary, base)
    if not isinstance(data, dict):
        return Table(analysis.key, title, (), (), ("Not computed for this cohort.",))
    b = Builder(summary)
    groups = data.get("groups")
    rows: list[Row] = []
    notes: list[str] = []
    if isinstance(groups, dict) and all(isinstance(v, dict) for v in groups.values()):
        columns = tuple(groups)
        stats = dict.fromkeys(
            k for v in groups.values() for k, x in v.items() if not isinstance(x, dict | list)
        )
        for stat in stats:
            values = [groups[g].get(stat) for g in columns]
            path = f"{base}.groups.{{g}}.{stat}"
            rows.append(b.row(_words(stat), columns, [(stat, path, _kind(stat, values))], "{}"))
        rest = {k: v for k, v in data.items() if k != "groups"}
        for name, path, value in _leaves(rest, ""):
            text = b.n(f"{base}.{path}", _kind(name.rpartition(".")[2], [value])).text()
            notes.append(f"{_words(name)}: {text}.")
        return registered_table(analysis, number, columns, rows, notes)
    for name, path, value in _leaves(data, ""):
        kind = _kind(name.rpartition(".")[2], [value])
        rows.append(b.row(_words(name), ("",), [("value", f"{base}.{path}", kind)], "{}"))
    return Table(analysis.key, title, ("",), tuple(rows))


def registered_table(
    analysis: Analysis,
    number: int,
    columns: Sequence[str],
    rows: Sequence[Row],
    notes: Sequence[str] = (),
) -> Table:
    """The table of a registered analysis: its key, ``Table N.`` and its title, and the
    groups of ``columns`` as headings."""
    return Table(
        analysis.key,
        f"Table {number}. {analysis.title}",
        tuple(label(c) for c in columns),
        tuple(rows),
        tuple(notes),
    )


AnalysisTableBuilder = Callable[[dict[str, Any], Analysis, int], Table]

#: Registered analyses with a table layout of their own, by key: ``build(summary, analysis,
#: number)`` in place of :func:`analysis_table` (``report/course_tables.py`` adds the
#: course analyses').
ANALYSIS_TABLES: dict[str, AnalysisTableBuilder] = {}


def manuscript_tables(summary: dict[str, Any]) -> list[Table]:
    """Every manuscript table from a disclosure-controlled ``summary.json``: the toolkit's
    own, then one for each registered analysis that has none (its own layout in
    :data:`ANALYSIS_TABLES`, else :func:`analysis_table`); none for an analysis whose event
    tables the run was not given (:meth:`~imnm_cohort.analysis.registry.Analysis.shown_in`)."""
    registered_sections()  # the section modules register their tables here too
    registered = {a.key: a for a in ANALYSES if a.shown_in(summary)}
    tables = [build(summary) for keys, build in TABLES if any(k in registered for k in keys)]
    shown = {k for keys, _ in TABLES for k in keys} | set(NO_TABLE)
    for key, analysis in registered.items():
        if key not in shown:
            build = ANALYSIS_TABLES.get(key, analysis_table)
            tables.append(build(summary, analysis, len(tables) + 1))
    return tables
