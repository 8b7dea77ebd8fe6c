"""JSON Schema of the values a result publishes, shared by the result types' own schemas.

Each result type describes its ``to_dict()`` with a ``json_schema()`` (see
:class:`~imnm_cohort.analysis.registry.Result`). A fragment refers to the values below as
``{"$ref": "#/$defs/count"}`` and may carry its own named definitions under ``"$defs"``;
:func:`hoist` moves them to the root of the document that places the fragment
(``schemas/summary.schema.json``, written by :mod:`imnm_cohort.pipeline.summary_schema`).
"""

from __future__ import annotations

import copy
from typing import Any

#: Values of ``summary.json`` after disclosure control: a withheld count is ``<k`` (``<=k``
#: under rounding), any other withheld value ``[withheld]``.
VALUE_DEFS: dict[str, Any] = {
    "withheld": {"type": "string", "pattern": "^(<[0-9]+|<=[0-9]+|\\[withheld\\])$"},
    "count": {"oneOf": [{"type": "integer", "minimum": 0}, {"$ref": "#/$defs/withheld"}]},
    "number": {"oneOf": [{"type": "number"}, {"type": "null"}, {"$ref": "#/$defs/withheld"}]},
    "pValue": {
        "description": (
            "A p-value: in full, or, beside a withheld count (and always for an exact test), "
            "as journals print it: two significant figures or the text '<0.001'."
        ),
        "oneOf": [
            {"type": "number"},
            {"type": "null"},
            {"const": "<0.001"},
            {"$ref": "#/$defs/withheld"},
        ],
    },
    "interval": {
        "description": (
            "A confidence interval [lower, upper]; a bound is null where it is undefined (a "
            "survival estimate of 1 or 0), the whole interval null where none was computed."
        ),
        "oneOf": [
            {"type": "array", "items": {"type": ["number", "null"]}, "minItems": 2, "maxItems": 2},
            {"type": "null"},
            {"$ref": "#/$defs/withheld"},
        ],
    },
}


def ref(name: str) -> dict[str, str]:
    """``{"$ref": "#/$defs/<name>"}``."""
    return {"$ref": f"#/$defs/{name}"}


def hoist(fragment: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``fragment`` without its ``$defs``, which are added to ``defs`` (the root's).

    Raises
    ------
    ValueError
        Two fragments define the same name differently.
    """
    out = copy.deepcopy(fragment)
    for name, definition in out.pop("$defs", {}).items():
        if name in defs and defs[name] != definition:
            raise ValueError(f"two result types define the JSON Schema '{name}' differently")
        defs[name] = definition
    return out
