"""The manuscript tables of the course of the disease: CK course, strength, response,
treatments and relapse (contract section 6).

Each is drawn from the disclosure-controlled ``summary.json`` alone, with the IMNM groups as
columns, and registers itself in :data:`~imnm_cohort.report.manuscript.ANALYSIS_TABLES`
(its key), so that HTML, Markdown, Word and Excel show the same table. A table exists only
when the run had the event tables its analysis reads. Counts of visits are rows, and the
tables say so; a time bin with fewer patients than the minimum count shows no value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imnm_cohort.analysis.registry import Analysis
from imnm_cohort.report.manuscript import ANALYSIS_TABLES, registered_table
from imnm_cohort.report.render import SECTIONS, TABLE_TEMPLATE, ReportSection, table_markdown
from imnm_cohort.report.render import table_view as _table_view
from imnm_cohort.report.table_model import Builder, Row, Table, at, with_ci

#: Words for the codes of the course analyses.
WORDS = {
    "no_baseline_ck": "no CK within the baseline window",
    "ck_normal_at_baseline": "CK normal at baseline",
    "no_follow_up_after_time_zero": "no follow-up after diagnosis",
    "ck_above_k_uln_after_normalisation": "CK rise after a normal CK",
    "new_immunotherapy_after_improvement": "new immunotherapy after improvement",
    "glucocorticoid_increase_after_improvement": "higher glucocorticoid dose after improvement",
    "two_or_more": "Two or more immunotherapies",
    "glucocorticoid": "Any glucocorticoid",
    "glucocorticoid_monotherapy": "Glucocorticoid monotherapy",
    "ivig": "IVIG",
    "rituximab": "Rituximab",
}
#: The TIS percent-change conventions in words (``ResponseOptions.change``).
CHANGE_WORDS = {
    "default": "the enzyme relative to its baseline value and the other measures relative "
    "to the range of their instrument",
    "baseline": "every measure relative to its baseline value",
}


def _columns(data: dict[str, Any], *path: str) -> tuple[str, ...]:
    groups = at(data, ".".join(path)) if path else data
    return tuple(groups) if isinstance(groups, dict) else ()


def _estimate_ci(base: str, kind: str = "decimal", digits: int = 1) -> list[Any]:
    return with_ci("estimate", f"{base}.estimate", f"{base}.ci", kind, digits)


def _series_rows(
    b: Builder, base: str, columns: Sequence[str], words: str, digits: int = 1
) -> list[Row]:
    """One row per time bin of a series: the group's mean or median (95% CI) and its
    patients; no value where fewer than the minimum count contribute."""
    series = at(b.summary, base) or {}
    rows = [Row(f"{words}, {series.get('statistic', 'mean')} (95% CI)", (), "", tuple(
        None for _ in columns))]  # fmt: skip
    for bin_ in series.get("bins_months", ()):
        cell = f"{base}.groups.{{g}}.{bin_}"
        stats = [*_estimate_ci(cell, digits=digits), ("patients", f"{cell}.patients", "count")]
        rows.append(b.row(f"{bin_} months", columns, stats, "{} ({} to {}); n = {}", indent=1))
    return rows


def _model_rows(b: Builder, base: str, columns: Sequence[str], words: str) -> list[Row]:
    """A growth model's slope per group, and the patients and visits it used."""
    slope = f"{base}.slopes.{{g}}"
    return [
        b.row(f"{words} per year, slope (95% CI)", columns, _estimate_ci(slope, digits=2),
              "{} ({} to {})"),
        b.row(
            "patients; visits (rows) in the model",
            columns,
            [
                ("patients", f"{base}.groups.{{g}}.patients", "count"),
                ("visits", f"{base}.groups.{{g}}.visits", "count"),
            ],
            "{}; {}",
            indent=1,
        ),
    ]  # fmt: skip


def _model_note(summary: dict[str, Any], base: str, words: str) -> list[str]:
    model = at(summary, base) or {}
    notes = [
        f"{words}: linear mixed model (REML) with a random intercept and slope per patient "
        "and fixed effects group x time; slopes with Wald 95% intervals."
    ]
    if model.get("reason_words") or model.get("reason"):
        notes.append(f"{words}: model not fitted ({model.get('reason_words') or model['reason']}).")
    elif model.get("boundary") is True:
        notes.append(f"{words}: a boundary (singular) fit; the fixed effects stand.")
    return notes


def _series_note(summary: dict[str, Any], base: str) -> str:
    k = at(summary, f"{base}.min_count")
    return (
        "Series: each patient's visits in a bin are averaged first, so that the estimate is "
        f"over patients; no value is shown where fewer than {k} patients contribute. No "
        "individual trajectory is shown."
    )


#: When a course cumulative incidence shows "-" (``analysis.course_time.incidence_by_group``).
INCIDENCE_SHOWN = (
    " A cumulative incidence is not given (-) past a group's last time, nor where fewer than"
    " the minimum count of its patients are still at risk at that month."
)


def _incidence_rows(
    b: Builder, base: str, columns: Sequence[str], months: Sequence[str], words: str, p: str
) -> list[Row]:
    rows = []
    for i, m in enumerate(months):
        cell = f"{base}.{{g}}.at_months.{m}"
        rows.append(
            b.row(
                f"{words} by {m} months, % (95% CI)",
                columns,
                _estimate_ci(cell, "percent"),
                "{} ({} to {})",
                p=p if i == len(months) - 1 else None,
                test="gray" if i == len(months) - 1 else None,
            )
        )
    return rows


def ck_course_table(summary: dict[str, Any], analysis: Analysis, number: int) -> Table:
    """CK course: time to a normal CK (death competing), the model and the series."""
    base = ".".join(analysis.path)
    data = at(summary, base)
    b = Builder(summary)
    n = f"{base}.normalisation"
    columns = _columns(data, "normalisation", "groups")
    normal = data["normalisation"]
    g = f"{n}.groups.{{g}}"
    reasons = dict.fromkeys(r for v in normal["groups"].values() for r in v.get("not_at_risk", {}))
    rows: list[Row] = [
        b.row("Raised CK at baseline (at risk), n", columns, [("n", f"{g}.n", "count")], "{}"),
        *(
            b.row(f"not at risk: {WORDS.get(r, r)}", columns,
                  [("n", f"{g}.not_at_risk.{r}", "count")], "{}", indent=1)
            for r in reasons
        ),
        b.row("Normal CK reached, n", columns, [("n", f"{g}.events", "count")], "{}"),
        b.row("Died before a normal CK, n", columns, [("n", f"{g}.competing", "count")], "{}"),
        *_incidence_rows(
            b, f"{n}.groups", columns, [f"{m:g}" for m in normal["times_months"]],
            "Normal CK", f"{n}.test.p_value",
        ),
        *_model_rows(b, f"{base}.model", columns, "log10(CK/ULN)"),
        *_series_rows(b, f"{base}.series", columns, "log10(CK/ULN)", digits=2),
    ]  # fmt: skip
    notes = [
        "Time zero: diagnosis (onset where the diagnosis date is missing; "
        f"{b.n(f'{base}.time_zero_from_onset', 'count').text()} patients). At risk: a CK "
        f"above the ULN within {normal['baseline_window_days']} days of time zero. Time to "
        "the first CK <= ULN: Aalen-Johansen cumulative incidence with death as a competing "
        "event (log-log 95% CI)." + INCIDENCE_SHOWN,
        *_model_note(summary, f"{base}.model", "log10(CK/ULN)"),
        _series_note(summary, f"{base}.series"),
    ]
    return registered_table(analysis, number, columns, rows, notes)


def strength_table(summary: dict[str, Any], analysis: Analysis, number: int) -> Table:
    """Strength: the model, full strength at the landmarks and the series."""
    base = ".".join(analysis.path)
    data = at(summary, base)
    b = Builder(summary)
    columns = _columns(data, "model", "groups")
    full = f"{data['full_percent']:g}"
    rows: list[Row] = [*_model_rows(b, f"{base}.model", columns, "MMT, % of maximum")]
    for landmark in data["full_strength"]:
        cell = f"{base}.full_strength.{landmark}.{{g}}"
        rows += [
            b.row(
                f"Full strength (>= {full}% of maximum) at {landmark} months, n / assessed "
                "(%, 95% CI)",
                columns,
                [
                    ("full", f"{cell}.full", "count"),
                    ("assessed", f"{cell}.assessed", "count"),
                    *with_ci("%", f"{cell}.proportion", f"{cell}.ci", "percent"),
                ],
                "{} / {} ({}%; {} to {})",
            ),
            b.row(
                "not assessed (of whom died before), n",
                columns,
                [
                    ("not assessed", f"{cell}.not_assessed", "count"),
                    ("died before", f"{cell}.died_before", "count"),
                ],
                "{} ({})",
                indent=1,
            ),
        ]
    rows += _series_rows(b, f"{base}.series", columns, "MMT, % of maximum")
    notes = [
        "MMT as a percentage of its scale maximum (80 where the visit gives none). Full "
        f"strength: the visit nearest the landmark within {data['window_months']:g} months; "
        "Clopper-Pearson 95% CI.",
        *_model_note(summary, f"{base}.model", "MMT, % of maximum"),
        _series_note(summary, f"{base}.series"),
    ]
    return registered_table(analysis, number, columns, rows, notes)


#: The definitions judged at each follow-up visit (``ResponseCourse.definitions``), in words.
DEFINITION_WORDS = {
    "imacs_improvement": "IMACS 2004 improvement",
    "confirmed_deterioration": "Confirmed deterioration (ProDERM)",
}


def _imacs_rows(
    b: Builder, base: str, columns: Sequence[str], landmarks: Sequence[str]
) -> list[Row]:
    """IMACS 2004 improvement and confirmed deterioration at the landmarks, and the time to
    first IMACS improvement."""
    rows: list[Row] = []
    for d, words in DEFINITION_WORDS.items():
        for m in landmarks:
            cell = f"{base}.{d}.groups.{{g}}.landmarks_months.{m}"
            rows.append(b.row(f"{words} at {m} months, n of assessed (%)", columns, [
                ("n", f"{cell}.met", "count"), ("assessed", f"{cell}.assessed", "count"),
                ("%", f"{cell}.percent", "decimal")], "{} of {} ({}%)"))  # fmt: skip
    return rows + _incidence_rows(
        b, f"{base}.time_to_improvement.groups", columns, landmarks,
        "First IMACS 2004 improvement", f"{base}.time_to_improvement.test.p_value",
    )  # fmt: skip


def _imacs_notes(b: Builder, base: str, imacs: dict[str, Any]) -> list[str]:
    basis = CHANGE_WORDS.get(imacs["change"], imacs["change"])
    v = f"{base}.visits_judged"
    return [
        "IMACS 2004 improvement: at least 3 of the 6 core set measures improved by >= 20%, "
        "at most 2 worse by >= 25%, the MMT not among them. Confirmed deterioration "
        "(ProDERM): deteriorated at two consecutive follow-up visits against baseline. "
        f"Percent change: {basis}. Not judged where a measure they read is missing; each "
        "landmark uses the judged visit nearest it within the same window.",
        f"Visits (rows, not patients) judged: {b.n(f'{v}.imacs_improvement', 'count').text()} "
        "for IMACS improvement, "
        f"{b.n(f'{v}.confirmed_deterioration', 'count').text()} for confirmed deterioration.",
    ]


def response_table(summary: dict[str, Any], analysis: Analysis, number: int) -> Table:
    """Response: TIS categories at the landmarks and time to improvement."""
    base = ".".join(analysis.path)
    data = at(summary, base)
    b = Builder(summary)
    options = data["options"]
    columns = _columns(data, "groups")
    g = f"{base}.groups.{{g}}"
    rows: list[Row] = [
        b.row("Patients, n", columns, [("n", f"{g}.n", "count")], "{}"),
        b.row("With a baseline visit, n", columns, [("n", f"{g}.with_baseline", "count")], "{}"),
    ]
    landmarks = [f"{m:g}" for m in options["landmarks_months"]]
    for m in landmarks:
        cell = f"{g}.landmarks_months.{m}"
        rows.append(
            b.row(f"TIS at {m} months: assessed, n", columns,
                  [("n", f"{cell}.assessed", "count")], "{}")
        )  # fmt: skip
        categories = at(summary, f"{base}.groups.{columns[0]}.landmarks_months.{m}.categories")
        for c in categories or ():
            rows.append(
                b.row(
                    f"{c}, n (%)",
                    columns,
                    [
                        ("n", f"{cell}.categories.{c}.n", "count"),
                        ("%", f"{cell}.categories.{c}.percent", "decimal"),
                    ],
                    "{} ({}%)",
                    indent=1,
                )
            )
    for level in data["improvement"]:
        rows += _incidence_rows(
            b, f"{base}.improvement.{level}.groups", columns, landmarks,
            f"First {level} improvement", f"{base}.improvement.{level}.test.p_value",
        )  # fmt: skip
    if data.get("imacs"):
        rows += _imacs_rows(b, f"{base}.imacs", columns, landmarks)
    before, after = options["baseline_window_days"]
    thresholds = ", ".join(f"{k} >= {v:g}" for k, v in options["thresholds"].items())
    v = f"{base}.visits"
    notes = [
        "2016 ACR/EULAR Total Improvement Score (TIS) at each follow-up visit against "
        f"baseline, the first visit from {-before:g} days before to {after:g} days after "
        f"diagnosis; categories ({options['population']}): {thresholds}. Each landmark uses "
        f"the scored visit nearest it within {options['landmark_window_days']:g} days.",
        f"Percent change basis used: {CHANGE_WORDS.get(options['change'], options['change'])} "
        f'(option change = "{options["change"]}"; the source of the criteria does not '
        "settle it).",
        (
            "A missing measure scored 0: the TIS is a lower bound."
            if options["partial"] is True
            else "A measure missing at either visit is never taken as 0: that visit has no TIS."
        ),
        f"Visits (rows, not patients): {b.n(f'{v}.scored', 'count').text()} scored, "
        f"{b.n(f'{v}.not_computed', 'count').text()} without a TIS.",
        "Time to first improvement: Aalen-Johansen cumulative incidence with death as a "
        "competing event, among patients with a baseline." + INCIDENCE_SHOWN,
        *(_imacs_notes(b, f"{base}.imacs", data["imacs"]) if data.get("imacs") else ()),
    ]
    return registered_table(analysis, number, columns, rows, notes)


def treatments_table(summary: dict[str, Any], analysis: Analysis, number: int) -> Table:
    """Treatments: immunotherapies per patient, glucocorticoids, IVIG, rituximab, second
    line; the founding claim's test in a footnote."""
    base = ".".join(analysis.path)
    data = at(summary, base)
    b = Builder(summary)
    columns = _columns(data, "groups")
    g = f"{base}.groups.{{g}}"
    bands = dict.fromkeys(k for v in data["groups"].values() for k in v.get("agents", {}))
    rows: list[Row] = [
        b.row("Patients, n", columns, [("n", f"{g}.n", "count")], "{}"),
        b.row("With a treatment course, n", columns, [("n", f"{g}.with_courses", "count")], "{}"),
        Row("Non-glucocorticoid immunotherapies, patients", (), "", tuple(None for _ in columns)),
        *(
            b.row(f"{band}", columns, [("n", f"{g}.agents.{band}", "count")], "{}", indent=1)
            for band in bands
        ),
    ]  # fmt: skip
    for key in ("two_or_more", "glucocorticoid", "glucocorticoid_monotherapy", "ivig", "rituximab"):
        rows.append(
            b.row(
                f"{WORDS[key]}, n (%)",
                columns,
                [("n", f"{g}.{key}.n", "count"), ("%", f"{g}.{key}.percent", "decimal")],
                "{} ({}%)",
            )
        )
    months = [f"{m:g}" for m in data["options"]["at_months"]]
    rows += _incidence_rows(
        b, f"{base}.second_line.groups", columns, months, "Second-line therapy",
        f"{base}.second_line.test.p_value",
    )  # fmt: skip
    claim = f"{base}.founding_claim"
    cells = {
        k: b.n(f"{claim}.table.{row}.{col}", "count").text()
        for row in ("statin_exposed_hmgcr", "other")
        for col, k in (("two_or_more", f"{row}:2"), ("fewer", f"{row}:1"))
    }
    odds = b.n(f"{claim}.odds_ratio", "decimal", 2).text()
    lo, hi = (b.n(f"{claim}.ci[{i}]", "decimal", 2).text() for i in (0, 1))
    p = b.n(f"{claim}.p_value", "p").text()
    notes = [
        "Immunotherapies: distinct drugs of the classes "
        + ", ".join(data["options"]["immunotherapy_classes"])
        + ", each counted once per patient.",
        "Two or more immunotherapies, statin-exposed anti-HMGCR against the other groups "
        f"(founding document's claim): {cells['statin_exposed_hmgcr:2']} with two or more and "
        f"{cells['statin_exposed_hmgcr:1']} with fewer, against {cells['other:2']} and "
        f"{cells['other:1']}; odds ratio {odds} ({lo} to {hi}), two-sided Fisher's exact "
        f"test p = {p}.",
        f"Second line: {data['second_line']['definition']}; Aalen-Johansen cumulative "
        "incidence with death as a competing event." + INCIDENCE_SHOWN,
        f"Treatment courses read (rows, not patients): "
        f"{b.n(f'{base}.rows.courses', 'count').text()}.",
    ]
    return registered_table(analysis, number, columns, rows, notes)


def relapse_table(summary: dict[str, Any], analysis: Analysis, number: int) -> Table:
    """Relapse by the toolkit's convention: counts, rates and the mean cumulative function."""
    base = ".".join(analysis.path)
    data = at(summary, base)
    b = Builder(summary)
    columns = _columns(data, "groups")
    g = f"{base}.groups.{{g}}"
    reasons = dict.fromkeys(r for v in data["groups"].values() for r in v.get("by_reason", {}))
    months = dict.fromkeys(m for v in data["groups"].values() for m in v.get("mcf", {}))
    rows: list[Row] = [
        b.row("Patients, n", columns, [("n", f"{g}.n", "count")], "{}"),
        b.row("With follow-up, n", columns, [("n", f"{g}.followed", "count")], "{}"),
        b.row("Person-years", columns, [("py", f"{g}.person_years", "decimal")], "{}", digits=0),
        b.row("Patients with a relapse, n", columns, [("n", f"{g}.patients_relapsed", "count")],
              "{}"),
        b.row("Relapses (events), n", columns, [("n", f"{g}.relapses", "count")], "{}"),
        *(
            b.row(WORDS.get(r, r), columns, [("n", f"{g}.by_reason.{r}", "count")], "{}",
                  indent=1)
            for r in reasons
        ),
        b.row(
            "Relapses per 100 person-years (95% CI)", columns,
            with_ci("rate", f"{g}.rate_per_100py", f"{g}.rate_ci"),
            "{} ({} to {})",
        ),
        *(
            b.row(f"Mean relapses per patient by {m} months (95% CI)", columns,
                  _estimate_ci(f"{g}.mcf.{m}", digits=2), "{} ({} to {})")
            for m in months
        ),
    ]  # fmt: skip
    d = data["definition"]
    rules = "; ".join(WORDS.get(r, r) for r in d["rules"])
    notes = [
        "Relapse is the toolkit's convention, not a consensus definition (none exists): "
        f"{rules} (k = {d['k']:g} x ULN), events within {d['merge_days']:g} days being one "
        "relapse. Change it with the analysis's options.",
        "Rates: exact Poisson 95% CI. Mean cumulative function: death as a terminal event "
        "(Ghosh-Lin), robust standard errors, log-scale 95% CI; no value where fewer than "
        f"{data['min_count']} patients are under observation.",
    ]
    return registered_table(analysis, number, columns, rows, notes)


ANALYSIS_TABLES.update(
    {
        "ck_course": ck_course_table,
        "strength": strength_table,
        "response": response_table,
        "treatments": treatments_table,
        "relapse": relapse_table,
    }
)

#: References of the course sections (Gray's test, Clopper-Pearson and Garwood are the
#: report's own already).
_REFERENCES = {
    "ck_course": (),
    "strength": (
        "Rider LG, Koziol D, Giannini EH, et al. Validation of manual muscle testing and a "
        "subset of eight muscles for adult and juvenile idiopathic inflammatory myopathies. "
        "Arthritis Care Res 2010;62:465-72.",
    ),
    "response": (
        "Aggarwal R, Rider LG, Ruperto N, et al. 2016 American College of "
        "Rheumatology/European League Against Rheumatism criteria for minimal, moderate, "
        "and major clinical response in adult dermatomyositis and polymyositis. Ann Rheum "
        "Dis 2017;76:792-801.",
    ),
    "treatments": (),
    "relapse": (
        "Ghosh D, Lin DY. Nonparametric analysis of recurrent events and death. Biometrics "
        "2000;56:554-62.",
    ),
}

# In the registry's order, each showing its manuscript table.
SECTIONS.extend(
    ReportSection(key, _table_view, table_markdown, TABLE_TEMPLATE, references)
    for key, references in _REFERENCES.items()
)
