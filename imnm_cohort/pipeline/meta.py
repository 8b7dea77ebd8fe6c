"""The report's metadata: what every report format says about the run it comes from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from imnm_cohort.classify.criteria import CriteriaSet
from imnm_cohort.disclosure.suppression import WITHHELD, Policy
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.pipeline.manifest import package_version, versions
from imnm_cohort.report.render import disclosure_note


def _long_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def report_meta(
    *,
    config: PipelineConfig,
    criteria: CriteriaSet,
    methods: list[str],
    run_name: str,
    started: dt.datetime,
    input_sha: str,
    withheld_count: int,
) -> dict[str, Any]:
    """Title, study, cut-off, authors, criteria, methods and run details for the report.

    ``methods`` are the sentences of the analyses that ran
    (:meth:`~imnm_cohort.analysis.CohortAnalysis.methods`).
    """
    k = config.min_cell_count
    r = config.report
    cutoff = _long_date(r.data_cutoff) if r.data_cutoff else ""
    criteria_text = (
        f"Patients were classified with the {criteria.name} criteria ({criteria.title}): "
        f"CK_HIGH is {criteria.ck_high_text}; a necrotizing biopsy is {criteria.biopsy_text}. "
        f"Source: {criteria.citation}"
        + (f" WEAK is {criteria.weak_text}." if criteria.weak_text else "")
        + (f" {criteria.note}" if criteria.note else "")
    )
    disclosure = disclosure_note(k, config.rounding)
    heading_lines = [
        line
        for line in (
            r.study,
            f"Data cut-off: {cutoff}" if cutoff else "",
            "Authors: " + ", ".join(r.authors) if r.authors else "",
            f"Criteria: {criteria.name}; extract {config.input_label}; run {run_name}",
        )
        if line
    ]
    generated = started.strftime("%Y-%m-%d %H:%M UTC")
    toolkit = package_version("imnm-cohort")
    return {
        "title": r.title,
        "study": r.study,
        "data_cutoff": cutoff,
        "authors": list(r.authors),
        "heading_lines": heading_lines,
        "source_name": config.input_label,
        "run_name": run_name,
        "generated_utc": generated,
        "version": toolkit,
        "criteria": {
            "name": criteria.name,
            "title": criteria.title,
            "citation": criteria.citation,
            "ck_high_text": criteria.ck_high_text,
            "biopsy_text": criteria.biopsy_text,
        },
        "methods": methods,
        "methods_paragraphs": [criteria_text, *methods, disclosure],
        "marker": Policy(k, config.rounding).marker if k else "(none)",
        "withheld_marker": WITHHELD,
        "min_cell_count": k,
        "rounding": config.rounding,
        "settings": {**config.to_dict()["analysis"]},
        "manifest": {"input_sha256": input_sha, "withheld": withheld_count, "versions": versions()},
        "run_rows": [
            ("title", r.title),
            ("study", r.study),
            ("data cut-off", r.data_cutoff),
            ("authors", "; ".join(r.authors)),
            ("extract", config.input_label),
            ("input SHA-256", input_sha),
            ("criteria", f"{criteria.name}: {criteria.title}"),
            ("run", run_name),
            ("generated", generated),
            ("imnm-cohort", toolkit),
            ("minimum cell count", k),
            ("rounding", config.rounding),
            ("values withheld", withheld_count),
        ],
    }
