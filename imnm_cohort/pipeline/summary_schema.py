"""Generate ``schemas/summary.schema.json`` from the summary's parts and the analyses.

The run's own keys (criteria, counts, groups) are described here, beside
:func:`~imnm_cohort.pipeline.stages.build_summary`; each registered analysis's part is its
result type's ``json_schema()`` (:data:`~imnm_cohort.analysis.registry.ANALYSES`). Run
``python -m imnm_cohort.pipeline.summary_schema`` from the project root after changing a
result type or the registry; a test fails while the file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from imnm_cohort.analysis.registry import ANALYSES
from imnm_cohort.analysis.schema import VALUE_DEFS, hoist
from imnm_cohort.classify.criteria import available_criteria
from imnm_cohort.contracts.patients import CONTRACT_VERSION
from imnm_cohort.vocabulary import GROUPS

SCHEMA_PATH = Path("schemas") / "summary.schema.json"

_COUNTS = {
    "type": "object",
    "required": ["input_rows", "valid_rows", "quarantined_rows"],
    "properties": {
        "input_rows": {"$ref": "#/$defs/count"},
        "valid_rows": {"$ref": "#/$defs/count"},
        "quarantined_rows": {"$ref": "#/$defs/count"},
        "export_rows": {
            "description": (
                "Rows of the site's export when the input was mapped by a mapping file "
                "(contract section 5); the other counts then count patients. Absent without "
                "a mapping."
            ),
            "$ref": "#/$defs/count",
        },
        "empty_rows": {
            "description": (
                "Rows with every cell empty after the last data row of the file, skipped "
                "(they are no patients) and not counted in input_rows: the file's rows below "
                "the header are input_rows + empty_rows. Absent when there are none."
            ),
            "$ref": "#/$defs/count",
        },
    },
}


_COUNT_REF = {"$ref": "#/$defs/count"}
_TABLES = {
    "description": (
        "The event tables of contract section 6 that the pipeline named in [input.tables], "
        "by name: counts of rows (never of patients; unit 'rows'): input_rows = valid_rows + "
        "quarantined_rows. Absent when the pipeline names no event table."
    ),
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["source", "unit", "input_rows", "valid_rows", "quarantined_rows"],
        "properties": {
            "source": {"type": "string"},
            "unit": {"const": "rows"},
            "input_rows": _COUNT_REF,
            "valid_rows": _COUNT_REF,
            "quarantined_rows": _COUNT_REF,
            "quarantine_reasons": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "column": {"type": "string"},
                        "rule": {"type": "string"},
                        "rows": _COUNT_REF,
                    },
                },
            },
        },
    },
}


def summary_schema() -> dict[str, Any]:
    """The JSON Schema of ``summary.json`` with the analyses registered now."""
    defs: dict[str, Any] = dict(VALUE_DEFS)
    properties: dict[str, Any] = {
        "criteria": {"enum": list(available_criteria())},
        "counts": _COUNTS,
        "groups": {
            "type": "object",
            "required": list(GROUPS),
            "additionalProperties": {"$ref": "#/$defs/count"},
        },
        "comparisons": {"type": "object", "required": [], "properties": {}},
    }
    for analysis in ANALYSES:
        part = hoist(analysis.result.json_schema(), defs)
        if analysis.applies is not None:
            description = part.pop("description", None)
            part = {
                **({"description": description} if description else {}),
                "oneOf": [{"type": "null"}, part],
            }
        node = properties
        for key in analysis.under:
            node.setdefault(key, {"type": "object", "required": [], "properties": {}})
            node[key]["required"].append(analysis.key)
            node = node[key]["properties"]
        node[analysis.key] = part
    properties["tables"] = _TABLES
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "imnm-cohort/summary.schema.json",
        "title": f"imnm-cohort summary.json (contract v{CONTRACT_VERSION}, section 4)",
        "description": (
            "Aggregate results of one run. A count withheld for being small is the string "
            "'<k' (k the minimum cell count; '<=k' under rounding); any other value withheld "
            "so that a small count cannot be worked out is '[withheld]'."
        ),
        "type": "object",
        "required": ["criteria", "counts", "groups", "comparisons"],
        "$defs": defs,
        "properties": properties,
    }


def schema_text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(summary_schema(), indent=2, ensure_ascii=False) + "\n"


def write(root: Path = Path()) -> Path:
    """Write the schema under ``root``."""
    target = root / SCHEMA_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(schema_text(), encoding="utf-8")
    return target


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path())}")
