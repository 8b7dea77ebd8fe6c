"""The manuscript table of cancers and deaths against population rates (SIR and SMR).

Groups are columns; each ratio (an SIR per cancer site, the SMR) is a row of observed /
expected and the ratio with its 95% CI, followed by one row per band of time since time
zero. Without a reference-rate file the table has no rows and a footnote says so. The
numbers are read from the disclosure-controlled ``summary.json`` with their paths.
"""

from __future__ import annotations

from typing import Any

from imnm_cohort.report.cancer_sections import SITE_NAMES
from imnm_cohort.report.labels import label
from imnm_cohort.report.numbers import num
from imnm_cohort.report.table_model import Builder, Row, Table

#: Each cell: (statistic, field of the group's entry, kind, digits).
_STATS = (
    ("observed", "observed", "count", 1),
    ("expected", "expected", "decimal", 1),
    ("ratio", "ratio", "decimal", 2),
    ("CI lower", "ratio_ci[0]", "decimal", 2),
    ("CI upper", "ratio_ci[1]", "decimal", 2),
)
_PATTERN = "{} / {}; {} ({} to {})"


def _row(b: Builder, label_: str, columns: list[str], path: str, indent: int) -> Row:
    """One row; ``path`` is a template with ``{g}`` for the group's entry."""
    stats = [(name, f"{path}.{field}", kind, digits) for name, field, kind, digits in _STATS]
    return b.row(label_, columns, stats, _PATTERN, indent=indent)


def population_rates(summary: dict[str, Any]) -> Table:
    """Observed and expected cancers and deaths, and their ratios, by group."""
    p = summary.get("population_rates")
    title = "Table 7. Cancers and deaths against population rates (SIR, SMR)"
    if p is None:
        note = "No reference-rate file was given, so no SIR or SMR was computed."
        return Table("population_rates", title, (), (), (note,))
    b = Builder(summary)
    columns = list(p["ratios"][0]["groups"]) if p["ratios"] else []
    rows = []
    notes = []
    for i, ratio in enumerate(p["ratios"]):
        site = SITE_NAMES.get(ratio["site"], ratio["site"])
        base = f"population_rates.ratios[{i}].groups.{{g}}"
        rows.append(_row(b, f"{ratio['measure']}, {site}", columns, base, 0))
        for band in p["bands_years"]:
            words = f"{band} {'year' if band == '<1' else 'years'} after {p['time_zero']}"
            rows.append(_row(b, words, columns, f"{base}.by_follow_up.{band}", 1))
        notes.append(
            f"{ratio['measure']}, {site}: {num(ratio['person_years_without_rate'], 0)} "
            f"person-years ({num(ratio['patients_without_rate'])} patients) without a "
            "population rate, left out."
        )
    sources = "; ".join(str(s) for s in p["sources"])
    notes = [
        "Observed / expected; ratio (exact Poisson 95% CI, Breslow and Day 1987). Expected "
        "counts from population rates by age band, sex and calendar period over each "
        f"patient's follow-up after {p['time_zero']}.",
        f"Rates: {p['rates_file']}; source: {sources}.",
        *notes,
    ]
    return Table(
        "population_rates", title, tuple(label(g) for g in columns), tuple(rows), tuple(notes)
    )
