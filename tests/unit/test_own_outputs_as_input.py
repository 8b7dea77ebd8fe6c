"""The toolkit's own classified output read back as an input: every column the toolkit adds
appears once, and a mapping cannot carry one in under its own name."""

from __future__ import annotations

import io

import pandas as pd

from imnm_cohort import classify, validate_extract
from imnm_cohort.cli import main
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS
from imnm_cohort.sources.files import EXTRA_PREFIX, is_reserved
from tests.conftest import SERONEGATIVE, valid_patients

SRP = {"anti_hmgcr": "negative", "anti_srp": "positive"}


def _patients() -> pd.DataFrame:
    return valid_patients(
        [{}, SRP, SERONEGATIVE, {"biopsy_inflammation": "prominent", **SERONEGATIVE}]
    )


def test_a_classified_frame_classified_again_carries_the_first_columns_as_extract_columns():
    patients = _patients()
    once = classify(patients)
    added = [c for c in once.columns if c not in patients.columns]
    assert added and all(is_reserved(c) for c in added)
    twice = classify(once, criteria="enmc2017")
    assert not twice.columns.duplicated().any()
    for name in added:  # the first classification is kept, under the reader's prefix
        pd.testing.assert_series_equal(twice[EXTRA_PREFIX + name], once[name], check_names=False)
    fresh = classify(patients, criteria="enmc2017")
    pd.testing.assert_frame_equal(twice[added], fresh[added])
    assert once.columns.tolist() == classify(patients).columns.tolist()  # input not modified


def test_a_classified_file_read_as_text_validates_and_classifies(tmp_path):
    path = tmp_path / "classified.csv"
    classify(_patients()).to_csv(path, index=False)
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    result = validate_extract(text)
    assert result.quarantined_rows == 0
    again = classify(result.valid)
    assert not again.columns.duplicated().any()
    assert again["eular_acr_2017_category"].notna().all()
    assert "extract.eular_acr_2017_category" in again.columns


def test_a_mapping_that_keeps_an_output_column_is_refused_in_one_line(tmp_path):
    path = tmp_path / "classified.csv"
    classify(_patients()).to_csv(path, index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[source]\nkeep = ["eular_acr_2017_category"]\n\n[columns]\n'
        + "".join(f'{c} = "{c}"\n' for c in CONTRACT_COLUMNS)
    )
    err = io.StringIO()
    code = main(
        ["classify", str(path), "--mapping", str(mapping), "-o", str(tmp_path / "out.csv")],
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert "keep: 'eular_acr_2017_category' is the name of a column the toolkit adds" in lines[0]
    assert "Traceback" not in err.getvalue() and not (tmp_path / "out.csv").exists()
