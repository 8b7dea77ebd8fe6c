"""The OMOP source's options and fallbacks on the hand-written CDM (tests/omop/cdm.py):
the onset rule, the CK threshold and the look-back, the site's concept file, upper-case
names with numbers stored as text, and an empty concept_ancestor."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.sources.omop_concepts import load_concept_sets
from imnm_cohort.sources.omop_rules import OmopOptions
from tests.omop.cdm import SITE_CONCEPTS, build


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site") / "site-concepts.toml"
    path.write_text(SITE_CONCEPTS, encoding="utf-8")
    return path


def _row(frame: pd.DataFrame, person: str) -> dict[str, object]:
    row = frame[frame["patient_id"] == person].iloc[0]
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


def test_without_the_site_file_the_mapped_local_antibody_is_not_found(tmp_path):
    path = build(tmp_path / "cdm.duckdb")
    frame = OmopSource(f"duckdb:///{path}").read()
    assert _row(frame, "2")["anti_hmgcr"] is None


@pytest.mark.slow
def test_onset_rule_and_threshold_are_options(tmp_path, site):
    path = build(tmp_path / "cdm.duckdb")
    sets = load_concept_sets(site)
    by_condition = OmopSource(
        f"duckdb:///{path}", concept_sets=sets, options=OmopOptions("condition", 1000.0, 1500)
    ).read()
    assert _row(by_condition, "1")["onset_date"] == "2020-03-01"
    # 2016-06-01 to 2020-03-01 is 1369 days: fewer than the look-back of 1500.
    assert _row(by_condition, "1")["omop_incident"] == "false"
    by_ck = OmopSource(
        f"duckdb:///{path}", concept_sets=sets, options=OmopOptions("ck", 10000.0, 365)
    ).read()
    # Above 10,000 U/L: only person 2's >20,000 on 2019-07-01.
    assert _row(by_ck, "1")["onset_date"] is None
    assert _row(by_ck, "2")["onset_date"] == "2019-07-01"


@pytest.mark.slow
def test_upper_case_names_and_numbers_as_text_give_the_same_table(tmp_path, site):
    path = build(tmp_path / "upper.duckdb", upper=True, text_numbers=True, schema="cdm")
    other = OmopSource(
        f"duckdb:///{path}",
        cdm_schema="cdm",
        vocabulary_schema="cdm",
        concept_sets=load_concept_sets(site),
    )
    plain = OmopSource(
        f"duckdb:///{build(tmp_path / 'plain.duckdb')}", concept_sets=load_concept_sets(site)
    )
    pd.testing.assert_frame_equal(other.read(), plain.read())
    for name, table in plain.tables().items():
        pd.testing.assert_frame_equal(other.tables()[name], table)


def test_an_empty_concept_ancestor_falls_back_to_the_ingredients_and_says_so(tmp_path, site):
    path = build(tmp_path / "cdm.duckdb", ancestors=False)
    empty = OmopSource(f"duckdb:///{path}", concept_sets=load_concept_sets(site))
    frame = empty.read()
    # simvastatin is the ingredient concept itself; "atorvastatin 80 MG Oral Tablet" is
    # found by its RxNorm name.
    assert _row(frame, "1")["statin_name"] == "simvastatin"
    assert _row(frame, "2")["statin_name"] == "atorvastatin"
    described = empty.describe()
    assert described["concept_ancestor"] == "empty"
    assert any("concept_ancestor is empty" in w for w in described["warnings"])
