"""Write the outputs of the validation stage: valid rows, quarantine and a report.

The report (``validation_report.json`` and ``.md``) is aggregate: counts per rule and per
warning, never a patient id. ``valid.csv``, ``quarantine.csv``,
``quarantine_reasons.csv`` and ``data_quality_warnings.csv`` are patient-level.
"""

from __future__ import annotations

import json
from pathlib import Path

from imnm_cohort.contracts.patients import CONTRACT_VERSION, PARSE_RULES, REQUIRED_COLUMNS
from imnm_cohort.io.escape import md_text
from imnm_cohort.io.tables import write_failure, write_table, write_text
from imnm_cohort.validation.validate import ValidationResult

VALIDATION_FILES = (
    "valid.csv",
    "quarantine.csv",
    "quarantine_reasons.csv",
    "data_quality_warnings.csv",
    "validation_report.json",
    "validation_report.md",
)


def validation_markdown(result: ValidationResult) -> str:
    """The validation report in Markdown (aggregate: no patient-level values)."""
    summary = result.to_dict()
    counts = summary["counts"]
    lines = [
        "# Validation report",
        "",
        f"Extract {md_text(summary['source'])}, checked against extract contract "
        f"v{CONTRACT_VERSION}.",
        "",
        "| rows | count |",
        "|---|---:|",
        f"| input | {counts['input_rows']} |",
        f"| valid | {counts['valid_rows']} |",
        f"| quarantined | {counts['quarantined_rows']} |",
        *([f"| empty, skipped | {counts['empty_rows']} |"] if "empty_rows" in counts else []),
        "",
    ]
    mapping = summary.get("mapping")
    if mapping is not None:
        lines[4:4] = [
            f"Mapped from a site's export of {counts['export_rows']} rows with mapping file "
            f"{md_text(mapping['file'])} (SHA-256 `{mapping['sha256']}`); rows below are patients.",
            "",
        ]
        if mapping["left_out_columns"]:
            lines[6:6] = [
                "Export columns the mapping neither reads nor keeps, left out of every output: "
                + ", ".join(md_text(c) for c in mapping["left_out_columns"])
                + ".",
                "",
            ]
    lines += [
        "## Quarantine reasons",
        "",
    ]
    if summary["quarantine_reasons"]:
        lines += ["| column | rule | rows |", "|---|---|---:|"]
        lines += [
            f"| {md_text(r['column'])} | {md_text(r['rule'])} | {r['rows']} |"
            for r in summary["quarantine_reasons"]
        ]
    else:
        lines.append("No row was quarantined.")
    lines += ["", "## Data-quality warnings (rows kept)", ""]
    if summary["warnings"]:
        lines += ["| warning | meaning | rows |", "|---|---|---:|"]
        lines += [
            f"| {w['code']} | {w['description']} | {w['rows']} |" for w in summary["warnings"]
        ]
    else:
        lines.append("None.")
    # A required column is never absent (reading or mapping stops first): never "optional".
    optional = [c for c in summary["absent_columns"] if c not in REQUIRED_COLUMNS]
    if optional:
        lines += [
            "",
            "Optional columns absent from the file (read as empty): "
            + ", ".join(md_text(c) for c in optional)
            + ".",
        ]
    lines += [
        "",
        "Rules found while parsing: "
        + "; ".join(f"`{k}` {v}" for k, v in PARSE_RULES.items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def write_validation(result: ValidationResult, folder: str | Path) -> list[Path]:
    """Write the validation outputs (:data:`VALIDATION_FILES`) into ``folder``."""
    folder = Path(folder)
    writers = [
        lambda: write_table(result.valid, folder / "valid.csv"),
        lambda: write_table(result.quarantine, folder / "quarantine.csv"),
        lambda: write_table(result.reasons, folder / "quarantine_reasons.csv"),
        lambda: write_table(result.warnings, folder / "data_quality_warnings.csv"),
        lambda: write_text(
            json.dumps(result.to_dict(), indent=2) + "\n", folder / "validation_report.json"
        ),
        lambda: write_text(validation_markdown(result), folder / "validation_report.md"),
    ]
    written: list[Path] = []
    try:
        for write in writers:
            written.append(write())
    except OSError as exc:
        for path in written:  # all the outputs or none
            path.unlink(missing_ok=True)
        raise write_failure(folder, exc) from None
    return written
