"""The manuscript tables, built from the disclosure-controlled summary.

One description of each table serves every tabular format: Word shows each cell as text
with the report's rounding; Excel stores each number as a number, one statistic per row.
Every number carries its path in ``summary.json`` (``a.b[0].c``), so a cell can always be
traced to the summary it came from; nothing here computes a statistic.

Tables follow the usual layout of a clinical paper: groups as columns, statistics as rows,
the p-value of the test across groups in the last column with a footnote naming the test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from imnm_cohort.report.labels import TEST_NAMES, label
from imnm_cohort.report.numbers import num, pval

CONTINUOUS = {
    "age_at_onset_years": "Onset age, years",
    "ck_peak": "Peak CK, U/L",
    "followup_years": "Follow-up, years",
}
CATEGORICAL = {
    "sex": "Sex",
    "statin_exposed": "Statin exposed",
    "dm_rash": "Dermatomyositis rash",
    "emg_myopathic": "Myopathic EMG",
}


@dataclass(frozen=True)
class Number:
    """One number of a table, as ``summary.json`` holds it.

    Attributes
    ----------
    value : int, float, str or None
        The summary's value: a number, the withheld marker (``"<5"``) or None (not available).
    path : str
        Where it is in ``summary.json`` (``comparisons.malignancy.groups.hmgcr.events``).
    kind : str
        ``count``, ``decimal``, ``percent`` (a proportion shown times 100) or ``p``.
    digits : int
        Decimals shown (the report's rounding).
    """

    value: Any
    path: str
    kind: str = "decimal"
    digits: int = 1

    def text(self) -> str:
        """The number as the report shows it."""
        v = self.value
        if self.kind == "p":
            return pval(v)
        if self.kind == "percent" and isinstance(v, int | float) and not isinstance(v, bool):
            return num(100.0 * v, self.digits)
        if self.kind == "count" or isinstance(v, str) or v is None:
            return num(v)
        return num(float(v), self.digits)


@dataclass(frozen=True)
class Row:
    """One row: a label, what each number is, and one tuple of numbers per column.

    ``pattern`` joins a cell's numbers for display (``"{} [{}, {}]"``); ``statistics`` names
    them (``("median", "Q1", "Q3")``). ``p`` is the test across the columns, if any.
    """

    label: str
    statistics: tuple[str, ...]
    pattern: str
    cells: tuple[tuple[Number, ...] | None, ...]
    p: Number | None = None
    test: str | None = None
    indent: int = 0

    def cell_text(self, i: int) -> str:
        """Column ``i``'s text: the numbers in the pattern, or the withheld marker or a dash."""
        cell = self.cells[i]
        if cell is None:
            return ""
        first, rest = cell[0], cell[1:]
        missing = [n.value is None for n in rest]
        if first.value is None or (
            isinstance(first.value, str)
            and all(isinstance(n.value, str) or n.value is None for n in rest)
        ):
            return first.text()
        if any(missing):
            return first.text()
        return self.pattern.format(*(n.text() for n in cell))

    def numbers(self) -> list[Number]:
        """Every number of the row (cells, then the p-value)."""
        out = [n for cell in self.cells if cell for n in cell]
        return [*out, self.p] if self.p else out


@dataclass(frozen=True)
class Table:
    """A manuscript table: title, column headings, rows and footnotes."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    footnotes: tuple[str, ...] = field(default=())
    column_n: tuple[Number | None, ...] = field(default=())

    def tests(self) -> list[str]:
        """The tests behind the p column, in order of first use."""
        seen: list[str] = []
        for row in self.rows:
            if row.test and row.p is not None and row.test not in seen:
                seen.append(row.test)
        return seen

    def test_mark(self, test: str | None) -> str:
        """The footnote letter of a test (``a``, ``b``, ...)."""
        tests = self.tests()
        return chr(ord("a") + tests.index(test)) if test in tests else ""


def at(summary: dict[str, Any], path: str) -> Any:
    """The value at a dotted path with ``[i]`` list indices; None where absent."""
    node: Any = summary
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        else:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


class _Builder:
    def __init__(self, summary: dict[str, Any]) -> None:
        self.summary = summary

    def n(self, path: str, kind: str = "decimal", digits: int = 1) -> Number:
        return Number(at(self.summary, path), path, kind, digits)

    def row(
        self,
        label_: str,
        columns: Sequence[str],
        stats: Sequence[tuple[str, str, str]],
        pattern: str,
        *,
        p: str | None = None,
        test: str | None = None,
        indent: int = 0,
        digits: int = 1,
    ) -> Row:
        """``stats``: (name, path template with ``{g}``, kind) per number."""
        cells = tuple(
            tuple(self.n(path.format(g=g), kind, digits) for _, path, kind in stats)
            for g in columns
        )
        p_number = self.n(p, "p") if p else None
        return Row(label_, tuple(s[0] for s in stats), pattern, cells, p_number, test, indent)


def _test_of(summary: dict[str, Any], path: str) -> str | None:
    value = at(summary, path)
    return str(value) if value else None


def table_one(summary: dict[str, Any]) -> Table:
    """Table 1: patients by IMNM group (and overall)."""
    t1 = summary["table_one"]
    b = _Builder(summary)
    columns = (*t1["groups"], "overall")
    rows: list[Row] = []
    for variable, title in CONTINUOUS.items():
        base = f"table_one.continuous.{variable}.{{g}}"
        test = f"table_one.tests.{variable}"
        rows.append(
            b.row(
                f"{title}, median [Q1, Q3]",
                columns,
                [
                    ("median", base + ".median", "decimal"),
                    ("Q1", base + ".q1", "decimal"),
                    ("Q3", base + ".q3", "decimal"),
                ],
                "{} [{}, {}]",
                p=f"{test}.p_value",
                test=_test_of(summary, f"{test}.test"),
            )
        )
        rows.append(
            b.row(
                "mean (SD)",
                columns,
                [("mean", base + ".mean", "decimal"), ("SD", base + ".sd", "decimal")],
                "{} ({})",
                indent=1,
            )
        )
        rows.append(b.row("missing", columns, [("n", base + ".missing", "count")], "{}", indent=1))
    for variable, title in CATEGORICAL.items():
        test = f"table_one.tests.{variable}"
        rows.append(
            Row(
                f"{title}, n (%)",
                (),
                "",
                tuple(None for _ in columns),
                b.n(f"{test}.p_value", "p"),
                _test_of(summary, f"{test}.test"),
            )
        )
        levels = t1["categorical"][variable][columns[0]]["counts"]
        for level in levels:
            base = f"table_one.categorical.{variable}.{{g}}"
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
        (
            "Continuous variables: median [Q1, Q3] and mean (SD); categorical variables: n (%) "
            "of all patients in the group, missing values as their own row.",
        ),
        tuple(b.n(f"table_one.n.{g}", "count") for g in columns),
    )


def comparisons(summary: dict[str, Any]) -> Table:
    """Pairwise comparisons of onset age and peak CK between the IMNM groups."""
    b = _Builder(summary)
    pairs = [(p["a"], p["b"]) for p in summary["comparisons"]["onset_age"]["pairwise"]]
    columns = tuple(f"{label(a)} vs {label(c)}" for a, c in pairs)
    rows: list[Row] = []
    notes = []
    for key, title in (("onset_age", "Onset age, years"), ("ck_peak", "Peak CK, U/L")):
        c = summary["comparisons"][key]
        index = {(p["a"], p["b"]): i for i, p in enumerate(c["pairwise"])}

        def stat(name: str, field_: str, kind: str, c_key: str = key) -> tuple[str, str, str]:
            return (name, f"comparisons.{c_key}.pairwise[{{g}}].{field_}", kind)

        slots = [str(index.get(pair, len(index))) for pair in pairs]
        rows.append(
            b.row(
                f"{title}: difference in medians (95% CI)",
                slots,
                [
                    stat("difference", "median_difference", "decimal"),
                    stat("CI lower", "median_difference_ci[0]", "decimal"),
                    stat("CI upper", "median_difference_ci[1]", "decimal"),
                ],
                "{} ({} to {})",
                p=f"comparisons.{key}.p_value",
                test="kruskal",
            )
        )
        rows.append(b.row("Mann-Whitney p", slots, [stat("p", "p_value", "p")], "{}", indent=1))
        rows.append(b.row("Holm-adjusted p", slots, [stat("p", "p_adjusted", "p")], "{}", indent=1))
        if c.get("p_value") is None and c.get("reason"):
            notes.append(f"{title}: not tested across the groups ({c['reason']}).")
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
    b = _Builder(summary)
    st = summary["comparisons"]["statin_latency"]
    columns = tuple(st["groups"])
    base = "comparisons.statin_latency"
    compared = " versus ".join(label(g) for g in st.get("compared", ()))
    notes = [f"p: {compared}."]
    if st.get("p_value") is None and st.get("reason"):
        notes = [f"{compared}: not tested ({st['reason']})."]
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
    b = _Builder(summary)
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
            [
                ("rate", f"{g}.rate_per_1000py", "decimal"),
                ("CI lower", f"{g}.rate_ci[0]", "decimal"),
                ("CI upper", f"{g}.rate_ci[1]", "decimal"),
            ],
            "{} ({} to {})",
        ),
        b.row(
            f"Cumulative incidence at {horizon} years, % (95% CI)",
            columns,
            [
                ("estimate", f"{g}.cumulative_incidence", "percent"),
                ("CI lower", f"{g}.cumulative_incidence_ci[0]", "percent"),
                ("CI upper", f"{g}.cumulative_incidence_ci[1]", "percent"),
            ],
            "{} ({} to {})",
            p="comparisons.malignancy.p_value",
            test="gray",
        ),
    )
    notes = [
        "Window: Clopper-Pearson 95% CI. Rates: exact Poisson 95% CI. Cumulative incidence: "
        "Aalen-Johansen estimate with death as a competing event (log-log 95% CI)."
    ]
    if m.get("p_value") is None and m.get("reason"):
        notes.append(f"Gray's test not done ({m['reason']}).")
    return Table(
        "malignancy",
        "Table 4. Malignancy by IMNM group",
        tuple(label(c) for c in columns),
        rows,
        tuple(notes),
    )


#: Every manuscript table, in the order of a paper.
TABLES = (table_one, comparisons, statin_latency, malignancy)


def manuscript_tables(summary: dict[str, Any]) -> list[Table]:
    """Every manuscript table from a disclosure-controlled ``summary.json``."""
    return [build(summary) for build in TABLES]


def common_footnotes(table: Table, meta: dict[str, Any]) -> list[str]:
    """Footnotes every table carries: the tests behind its p-values, withheld counts, criteria."""
    notes = [f"{table.test_mark(t)} {TEST_NAMES.get(t, t)}." for t in table.tests()]
    if meta.get("min_cell_count"):
        k = meta["min_cell_count"]
        notes.append(
            f"{meta['marker']}: a count from 1 to {k - 1}, withheld to protect patients' "
            "privacy, with the statistics it would reveal."
        )
    cr = meta["criteria"]
    notes.append(f"Groups by the {cr['name']} criteria ({cr['title']}).")
    return notes
