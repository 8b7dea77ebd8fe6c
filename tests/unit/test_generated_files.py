"""Generated files are up to date: the schema export, the data dictionary, the demo registry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from imnm_cohort.synth import DEMO_REGISTRY, demo_registry
from imnm_cohort.validation.export import (
    DICTIONARY_PATH,
    SCHEMA_PATH,
    data_dictionary_markdown,
    schema_json,
)

ROOT = Path(__file__).resolve().parents[2]
REMAKE = "run `python -m imnm_cohort.validation.export` and commit the result"


def test_schema_export_is_up_to_date():
    assert (ROOT / SCHEMA_PATH).read_text() == schema_json(), REMAKE


def test_data_dictionary_is_up_to_date():
    assert (ROOT / DICTIONARY_PATH).read_text() == data_dictionary_markdown(), REMAKE


def test_schema_export_round_trips_through_pandera():
    import pandera.pandas as pa

    from imnm_cohort import EXTRACT_SCHEMA

    loaded = pa.DataFrameSchema.from_json(schema_json())
    assert list(loaded.columns) == list(EXTRACT_SCHEMA.columns)
    assert len(loaded.checks) == len(EXTRACT_SCHEMA.checks)


def test_bundled_demo_registry_matches_the_generator():
    shipped = pd.read_csv(DEMO_REGISTRY, dtype=str, keep_default_na=False, na_values=[""])
    made = demo_registry()
    pd.testing.assert_frame_equal(
        shipped.astype(object).where(shipped.notna(), None),
        made.astype(object).where(made.notna(), None),
    )


def test_criteria_doc_lists_every_reason_code():
    from imnm_cohort import REASON_CODES

    text = (ROOT / "docs" / "criteria.md").read_text()
    missing = [code for code in REASON_CODES if f"`{code}`" not in text]
    assert not missing, missing
