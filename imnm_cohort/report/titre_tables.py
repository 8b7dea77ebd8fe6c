"""The manuscript table of anti-HMGCR titres at diagnosis (contract section 6).

Drawn from the disclosure-controlled ``summary.json`` alone, with the IMNM groups (and,
for the correlations, all of them together) as columns; it registers itself in
:data:`~imnm_cohort.report.manuscript.ANALYSIS_TABLES` and as a report section, so
that HTML, Markdown, Word and Excel show the same table. It exists only when the run had
the ``antibody_tests`` table.
"""

from __future__ import annotations

from typing import Any

from imnm_cohort.analysis.registry import Analysis
from imnm_cohort.disclosure.declarations import WITHHELD
from imnm_cohort.report.manuscript import ANALYSIS_TABLES, registered_table
from imnm_cohort.report.render import SECTIONS, TABLE_TEMPLATE, ReportSection, table_markdown
from imnm_cohort.report.render import table_view as _table_view
from imnm_cohort.report.table_model import Builder, Row, Table, at

#: What the level is correlated with, in words.
MEASURE_WORDS = {
    "ck": "CK (multiple of the ULN)",
    "strength": "MMT (% of its maximum)",
}


def titres_table(summary: dict[str, Any], analysis: Analysis, number: int) -> Table:
    """Anti-HMGCR level at diagnosis by group (median, IQR, patients) and its Spearman
    correlation with CK and strength at diagnosis."""
    base = ".".join(analysis.path)
    data = at(summary, base)
    b = Builder(summary)
    groups = tuple(data["groups"])
    columns = (*groups, "overall")
    g = f"{base}.groups.{{g}}"
    quartiles = [("median", "{}.median", "decimal", 2), ("Q1", "{}.q1", "decimal", 2),
                 ("Q3", "{}.q3", "decimal", 2)]  # fmt: skip

    def level(path: str) -> list[Any]:
        return [(name, p.format(path), kind, d) for name, p, kind, d in quartiles]

    rows: list[Row] = [
        b.row("Patients, n", columns, [("n", f"{g}.n", "count")], "{}"),
        b.row("With a quantitative anti-HMGCR level at diagnosis, n", columns,
              [("n", f"{g}.with_level", "count")], "{}"),
        b.row("Level, median (IQR)", columns, level(f"{g}.value"), "{} ({} to {})", indent=1),
        b.row("With the lab's cut-off, n", columns, [("n", f"{g}.with_cutoff", "count")], "{}"),
        b.row("Level / cut-off, median (IQR)", columns, level(f"{g}.times_cutoff"),
              "{} ({} to {})", indent=1),
    ]  # fmt: skip
    for measure in data["correlations"]:
        c = f"{base}.correlations.{measure}.{{g}}"
        rows.append(
            b.row(
                f"Spearman's rho with {MEASURE_WORDS.get(measure, measure)}; p; n",
                columns,
                [
                    ("rho", f"{c}.rho", "decimal", 2),
                    ("p", f"{c}.p_value", "p"),
                    ("n", f"{c}.n", "count"),
                ],
                "{}; p = {}; n = {}",
            )
        )
    o = data["options"]
    units = {v.get("unit") for v in data["groups"].values()} - {None, WITHHELD}
    scale = "as a multiple of the lab's cut-off" if o["scale"] == "cutoff" else "as its value"
    notes = [
        "Level at diagnosis: the quantitative anti-HMGCR assay ("
        + ", ".join(o["methods"])
        + f") nearest the diagnosis date (onset where none) within {o['window_days']:g} days. "
        "Levels are shown in the lab's unit only where a group's assays share one "
        f"({', '.join(sorted(str(u) or 'no unit' for u in units)) or 'none'}"
        "); the multiple of the lab's cut-off compares labs.",
        f"Spearman's rho of the level ({scale}) with CK and MMT at the visit nearest "
        "diagnosis within the same window, among patients with both; p-value as R cor.test "
        f"(exact AS 89 without ties, else the t approximation); not shown with fewer than "
        f"{o['min_count']} patients. Counts are patients, one assay and one visit each.",
    ]
    return registered_table(analysis, number, columns, rows, notes)


ANALYSIS_TABLES["titres"] = titres_table
SECTIONS.append(
    ReportSection(
        "titres",
        _table_view,
        table_markdown,
        TABLE_TEMPLATE,
        (
            "Best DJ, Roberts DE. Algorithm AS 89: the upper tail probabilities of Spearman's "
            "rho. Appl Stat 1975;24:377-9.",
        ),
    )
)
