"""The OMOP source on a tiny hand-written CDM (tests/omop/cdm.py): a known answer for each
derivation rule, column by column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.sources.base import make_source
from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.sources.omop_concepts import load_concept_sets
from imnm_cohort.sources.omop_rules import OmopOptions
from imnm_cohort.validation.validate import validate_extract
from tests.omop.cdm import SITE_CONCEPTS, build


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site") / "site-concepts.toml"
    path.write_text(SITE_CONCEPTS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, site: Path) -> OmopSource:
    path = build(tmp_path_factory.mktemp("cdm") / "cdm.duckdb")
    return OmopSource(f"duckdb:///{path}", concept_sets=load_concept_sets(site))


def _row(frame: pd.DataFrame, person: str) -> dict[str, object]:
    row = frame[frame["patient_id"] == person].iloc[0]
    return {k: (None if pd.isna(v) else v) for k, v in row.items()}


#: The expected patient table, by person (the docstring of tests/omop/cdm.py says why).
EXPECTED = {
    "1": {
        "sex": "female",
        "birth_date": "1955-04-20",
        "onset_date": "2020-02-15",  # the CK above 1,000 came before the condition
        "diagnosis_date": "2020-03-01",
        "last_followup_date": "2023-12-31",  # the end of the second observation period
        "death_date": None,
        "ck_peak": "8000",
        "ck_uln": "200",
        "anti_hmgcr": "positive",  # unmapped: 93493-5, 120 against range_high 20
        "anti_srp": None,
        "other_msa": None,
        "statin_exposed": "true",
        "statin_name": "simvastatin",
        "statin_start_date": "2017-01-10",
        "statin_stop_date": "2019-12-31",
        "cancer_date": "2012-05-05",  # the breast cancer before onset
        "cancer_icd10": "C50.9",
        "omop_onset_source": "ck",
        "omop_prior_observation_days": "1354",  # 2016-06-01 to 2020-02-15
        "omop_incident": "true",
    },
    "2": {
        "sex": "male",
        "birth_date": "1970-01-02",
        "onset_date": "2019-04-01",
        "diagnosis_date": "2019-04-01",
        "last_followup_date": "2022-03-03",  # death before the period's end
        "death_date": "2022-03-03",
        "ck_peak": "20000",  # ">20000" counts at its bound; "<10" counts for nothing
        "ck_uln": "200",
        "anti_hmgcr": "negative",  # the site's local concept, value concept 9189
        "anti_srp": "positive",  # unmapped 33921-8, value concept 45884084
        "other_msa": "none",  # Jo-1 tested negative
        "statin_exposed": "false",  # atorvastatin started after onset
        "statin_name": "atorvastatin",
        "statin_start_date": "2020-01-01",
        "statin_stop_date": "2020-06-30",
        "cancer_date": None,
        "cancer_icd10": None,
        "omop_onset_source": "condition",
        "omop_prior_observation_days": "1551",
        "omop_incident": "true",
    },
    "3": {
        "sex": "female",
        "birth_date": "1980-07-01",  # year only
        "onset_date": "2018-08-08",  # the standard concept M60.9 maps to
        "last_followup_date": None,  # no observation period
        "other_msa": "pl7",
        "anti_hmgcr": None,
        "statin_exposed": "false",
        "ck_peak": None,
        "omop_prior_observation_days": None,
    },
    "5": {
        "sex": "unknown",
        "birth_date": "1960-03-03",
        "onset_date": None,  # an antibody alone gives no onset
        "anti_hmgcr": "negative",  # "<5" against range_high 20
        "ck_peak": None,  # the CK without a unit and the ">" without a value count not
    },
}


@pytest.mark.slow
def test_candidates_are_the_persons_with_a_myositis_condition_or_an_imnm_antibody(source):
    assert source.read()["patient_id"].tolist() == ["1", "2", "3", "5"]


@pytest.mark.parametrize("person", sorted(EXPECTED))
def test_each_patient_column_follows_its_rule(source, person):
    row = _row(source.read(), person)
    assert {k: row[k] for k in EXPECTED[person]} == EXPECTED[person]


def test_coded_data_never_invent_weakness_or_biopsy(source):
    frame = source.read()
    for column in ("proximal_weakness", "biopsy_necrosis", "dm_rash"):
        assert frame[column].isna().all()
        assert column in frame.attrs["absent_columns"]
    assert "emg_myopathic" not in frame.attrs["absent_columns"]


def test_emg_with_a_coded_result_in_the_period_of_onset(source):
    frame = source.read().set_index("patient_id")
    found = {p: (None if pd.isna(v) else v) for p, v in frame["emg_myopathic"].items()}
    # 1: myopathic in the period of onset (the earlier period's normal study not counted);
    # 2: not myopathic, and "abnormal" is not myopathic; 3: no observation period; 5: no
    # onset. The source's frame writes booleans as text, as a file's reader does.
    assert found == {"1": "true", "2": "false", "3": None, "5": None}


def test_without_the_sites_result_concepts_an_emg_decides_nothing(tmp_path):
    path = build(tmp_path / "cdm.duckdb")
    frame = OmopSource(f"duckdb:///{path}").read()
    assert frame["emg_myopathic"].isna().all()


def test_a_sites_own_myositis_concept_makes_a_candidate(tmp_path):
    import duckdb

    path = build(tmp_path / "cdm.duckdb")
    con = duckdb.connect(str(path))
    # Person 4 (a CK and a statin only) gets a condition under the site's concept.
    con.execute(
        "INSERT INTO condition_occurrence VALUES (7, 4, 2000000300, '2019-03-01', 'NAM', 0)"
    )
    con.close()
    site = tmp_path / "site.toml"
    site.write_text(
        'version = "t"\n[myositis_conditions]\n'
        'concepts = [{id = 2000000300, name = "Necrotizing autoimmune myopathy (local)"}]\n',
        encoding="utf-8",
    )
    without = OmopSource(f"duckdb:///{path}").read()
    assert "4" not in without["patient_id"].tolist()
    frame = OmopSource(f"duckdb:///{path}", concept_sets=load_concept_sets(site)).read()
    row = _row(frame, "4")
    assert (row["diagnosis_date"], row["onset_date"]) == ("2019-03-01", "2019-02-01")


def _values(frame: pd.DataFrame) -> list[list[object]]:
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def test_event_tables(source):
    tables = source.tables()
    visits = tables["visits"]
    # 50 ukat/L x 60 = 3000 U/L, range_high 3.2 ukat/L = 192 U/L; "<10" and the CK
    # without a unit leave no visit.
    assert _values(visits) == [
        ["1", "2020-02-15", "8000", "200"],
        ["2", "2019-05-01", "3000", "192"],
        ["2", "2019-07-01", "20000", "200"],
    ]
    tests = tables["antibody_tests"]
    assert _values(tests[["patient_id", "antigen", "method", "result"]]) == [
        ["1", "hmgcr", "elisa", "positive"],
        ["2", "hmgcr", "elisa", "negative"],
        ["2", "jo1", None, "negative"],
        ["2", "srp", "immunoprecipitation", "positive"],
        ["3", "pl7", None, "positive"],
        ["5", "hmgcr", "elisa", "negative"],
    ]
    assert _values(tables["treatments"]) == [["1", "prednisone", "2020-03-05", "2020-09-01", None]]
    # The first malignant neoplasm and the later one.
    assert _values(tables["cancers"]) == [
        ["1", "2012-05-05", "C50.9"],
        ["1", "2021-07-01", "C34.1"],
    ]


def test_describe_records_the_choices_the_counts_and_the_concept_sets(source):
    described = source.describe()
    assert described["options"] == {
        "onset_rule": "first_of",
        "ck_threshold_u_per_l": 1000.0,
        "lookback_days": 365,
    }
    assert described["concept_sets"]["site_version"] == "test-site-1"
    assert described["concept_sets"]["creatine_kinase"] == "2026.12.0"
    assert described["candidates"] == 4
    assert described["ck_without_unit"] == 1  # person 5's CK with no unit
    assert described["concept_ancestor"] == "used"
    assert described["warnings"] == []
    assert source.fingerprint() == source.fingerprint()


def test_validation_quarantines_what_coded_data_cannot_give(source):
    result = validate_extract(source.read(), source.name)
    assert result.valid["patient_id"].tolist() == ["1", "2"]
    q = result.quarantine
    reasons = dict(zip(q["patient_id"], q["quarantine_reasons"], strict=True))
    assert reasons["3"] == "last_followup_date:missing_required=<NA>"  # no observation period
    assert "onset_date:missing_required" in reasons["5"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"without_table": "measurement"}, "no table measurement"),
        (
            {"rename": ("measurement", "value_as_number", "value_num")},
            "table measurement has no column value_as_number",
        ),
        (
            {"rename": ("person", "person_id", "id")},
            "table person has no column person_id",
        ),
    ],
)
def test_a_broken_cdm_is_one_line_naming_the_table(tmp_path, change, message):
    path = build(tmp_path / "cdm.duckdb", **change)
    with pytest.raises(ExtractError) as caught:
        OmopSource(f"duckdb:///{path}").read()
    text = str(caught.value)
    assert message in text and "\n" not in text and text.startswith("OMOP CDM (duckdb) cdm.duckdb")


def test_the_command_line_s_url_form_names_the_same_database(tmp_path):
    source = OmopSource(f"omop+duckdb:///{tmp_path / 'cdm.duckdb'}")
    assert source.backend == "duckdb" and source.path == tmp_path / "cdm.duckdb"
    assert OmopSource("omop+postgres://host/cdm").backend == "postgres"


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(ExtractError, match="file not found"):
        OmopSource(f"duckdb:///{tmp_path / 'none.duckdb'}").read()


def test_settings_through_the_registry(tmp_path, site):
    path = build(tmp_path / "cdm.duckdb")
    made = make_source(
        "omop",
        {
            "url": "duckdb:///cdm.duckdb",
            "concept_sets": str(site),
            "omop": {"onset_rule": "condition", "ck_threshold": 2000, "lookback_days": 0},
        },
        tmp_path,
        "pipeline.toml",
    )
    assert isinstance(made, OmopSource) and made.path == path
    assert made.options == OmopOptions("condition", 2000.0, 0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "needs url"),
        ({"url": "mysql://u:secret@host/db"}, "not a url of scheme 'mysql'"),
        ({"url": "postgres://u:secret@host/db"}, "holds a password"),
        ({"url": "duckdb:///x.duckdb", "table": "person"}, "unknown key 'table'"),
        ({"url": "duckdb:///x.duckdb", "omop": {"onset_rule": "biopsy"}}, "onset_rule"),
        ({"url": "duckdb:///x.duckdb", "omop": {"ck_threshold": -1}}, "ck_threshold"),
        ({"url": "duckdb:///x.duckdb", "omop": {"lookback": 1}}, "unknown key 'lookback'"),
        ({"url": "duckdb:///x.duckdb", "concept_sets": "none.toml"}, "cannot be read"),
    ],
)
def test_bad_settings_are_one_line(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message) as caught:
        make_source("omop", settings, tmp_path, "pipeline.toml")
    assert str(caught.value).startswith("pipeline.toml: [input] ")
    assert "secret" not in str(caught.value)
