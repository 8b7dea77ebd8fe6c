"""The SQL of the OMOP derivation, as ``docs/omop.md`` shows it.

``python -m imnm_cohort.sources.omop_docs`` rewrites the part of ``docs/omop.md`` between
:data:`BEGIN` and :data:`END` with the statements the source runs (DuckDB's dialect, the
toolkit's concept sets and the default options); a test fails while the page and the code
disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from imnm_cohort.sources.omop_concepts import load_concept_sets
from imnm_cohort.sources.omop_patients import derivation_sql
from imnm_cohort.sources.omop_rules import OmopOptions

BEGIN = "<!-- BEGIN GENERATED SQL: python -m imnm_cohort.sources.omop_docs -->"
END = "<!-- END GENERATED SQL -->"
#: What each step is, in the page's words.
STEPS = {
    "myositis_conditions": "Rule C1, the myositis conditions",
    "ck_measurements": "Rule M1, creatine kinase in U/L",
    "antibody_measurements": "Rule M2, the antibody results",
    "statin_exposures": "Rule D1, the statin exposures (concept_ancestor has rows)",
    "immunosuppressant_exposures": "Rule D2, the immunosuppressant exposures",
    "malignant_conditions": "Rule K1, the malignant neoplasms",
    "emg_results": "Rule N1, the EMG studies with a coded result",
    "candidates": "Rule P0, the candidates",
    "patients": "The patient table (rules P1-P13)",
    "visits": "Event table visits (rule E1)",
    "antibody_tests": "Event table antibody_tests (rule E2)",
    "treatments": "Event table treatments (rule E3)",
    "cancers": "Event table cancers (rule E4)",
}


def generated() -> str:
    """The generated part of the page (without the markers)."""
    sets, options = load_concept_sets(), OmopOptions()
    steps = derivation_sql(sets, options, True, "duckdb")
    fallback = derivation_sql(sets, options, False, "duckdb")["statin_exposures"]
    parts = [
        "Each step below is one statement; the source runs each output (the patient table "
        "and each event table) as one statement whose common table expressions are the "
        "steps before it, and `cdm_<table>` is the database's table as read (lower-case "
        "names, CDM v5.4 types). DuckDB's dialect, the toolkit's concept sets, the default "
        "options.\n"
    ]
    for name, title in STEPS.items():
        parts.append(f"#### `{name}`: {title}\n\n```sql\n{steps[name]}\n```\n")
        if name == "statin_exposures":
            parts.append(
                "#### `statin_exposures` when concept_ancestor is empty (rule D1, fallback)\n\n"
                f"```sql\n{fallback}\n```\n"
            )
    return "\n".join(parts)


def page_with_sql(text: str) -> str:
    """The page's text with its generated part replaced."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{generated()}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite the page given (default ``docs/omop.md``)."""
    args = sys.argv[1:] if argv is None else argv
    page = Path(args[0] if args else "docs/omop.md")
    page.write_text(page_with_sql(page.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
