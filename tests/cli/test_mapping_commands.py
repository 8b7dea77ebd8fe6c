"""End to end: map, validate/classify --mapping, and the REDCap example pipeline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort.contracts.patients import CONTRACT_COLUMNS
from imnm_cohort.synth import synthesize
from imnm_cohort.synth_redcap import EXAMPLE_EXPORT, EXAMPLE_SEED, EXAMPLE_SIZE, redcap_layout
from tests.pipeline.readers import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_MAPPING = EXAMPLE_EXPORT.with_name(EXAMPLE_EXPORT.stem + ".mapping.toml")
EXAMPLE_DICTIONARY = EXAMPLE_EXPORT.with_name(EXAMPLE_EXPORT.stem + ".dictionary.csv")


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    return frame.astype(object).where(frame.notna(), None)


def test_bundled_redcap_example_matches_the_generator():
    made = redcap_layout(synthesize(EXAMPLE_SIZE, seed=EXAMPLE_SEED), seed=EXAMPLE_SEED)
    pd.testing.assert_frame_equal(_read(EXAMPLE_EXPORT), made.export)
    pd.testing.assert_frame_equal(_read(EXAMPLE_DICTIONARY).fillna(""), made.dictionary)
    assert EXAMPLE_MAPPING.read_text() == made.mapping


def test_synth_redcap_writes_export_dictionary_and_mapping(tmp_path):
    code, _, _ = run("synth", "--n", "20", "--seed", "4", "--layout", "redcap",
                       "-o", str(tmp_path / "rc.csv"))  # fmt: skip
    assert code == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        "rc.csv",
        "rc.dictionary.csv",
        "rc.mapping.toml",
    }


def test_map_writes_the_extract_and_the_quarantine_and_prints_counts(tmp_path):
    made = redcap_layout(synthesize(30, seed=1), seed=1)
    export = made.export
    export.loc[0, "sex"] = "7"  # patient 1: an unmapped code
    export.to_csv(tmp_path / "export.csv", index=False)
    (tmp_path / "m.toml").write_text(made.mapping)
    code, out, _ = run("map", str(tmp_path / "export.csv"), "--mapping", str(tmp_path / "m.toml"),
                       "-o", str(tmp_path / "flat.csv"))  # fmt: skip
    assert code == 0
    first = export.index[export["record_id"] == export.loc[0, "record_id"]] + 1
    assert f"{len(export)} export rows, 30 patients: 29 mapped, 1 quarantined" in out
    assert "quarantine  sex:unmapped_value  1" in out
    assert len(_read(tmp_path / "flat.csv")) == 29
    quarantine = _read(tmp_path / "flat.quarantine.csv")
    assert quarantine["export_rows"].tolist() == [";".join(map(str, first))]
    assert quarantine["quarantine_reasons"].tolist() == ["sex:unmapped_value=7"]
    # The mapped extract is a section-1 extract: it validates as one.
    assert run("validate", str(tmp_path / "flat.csv"))[0] == 0


def test_validate_with_a_mapping_says_which_columns_are_absent_and_what_that_does(tmp_path):
    rows = pd.DataFrame(
        {"id": ["a", "b"], "sex": ["F", "M"], "dob": ["01/02/1950", "03/04/1960"],
         "onset": ["2010-01-01", "2011-01-01"], "seen": ["2015-01-01", "2016-01-01"]}
    )  # fmt: skip
    rows.to_csv(tmp_path / "sheet.csv", index=False)
    (tmp_path / "m.toml").write_text(
        '[columns]\npatient_id = "id"\nsex = { from = "sex", values = { "F" = "female", '
        '"M" = "male" } }\nbirth_date = { from = "dob", format = "%d/%m/%Y" }\n'
        'onset_date = "onset"\nlast_followup_date = "seen"\n'
    )
    mapping = str(tmp_path / "m.toml")
    code, out, _ = run("validate", str(tmp_path / "sheet.csv"), "--mapping", mapping,
                       "-o", str(tmp_path / "v"))  # fmt: skip
    assert code == 0
    # Every contract column but the five the mapping names.
    assert f"{len(CONTRACT_COLUMNS) - 5} contract column(s) absent" in out
    assert "anti_hmgcr: read as not_tested" in out
    assert "ck_peak: CK_HIGH is unknown" in out
    report = json.loads((tmp_path / "v" / "validation_report.json").read_text())
    assert (
        report["mapping"]["sha256"]
        == hashlib.sha256((tmp_path / "m.toml").read_bytes()).hexdigest()
    )
    assert report["counts"]["export_rows"] == 2
    assert "m.toml" in (tmp_path / "v" / "validation_report.md").read_text()


def test_classify_with_the_mapping_classifies_patients(tmp_path):
    code, _, _ = run("classify", str(EXAMPLE_EXPORT), "--mapping", str(EXAMPLE_MAPPING),
                       "-o", str(tmp_path / "c.csv"))  # fmt: skip
    assert code == 0
    classified = _read(tmp_path / "c.csv")
    assert len(classified) == EXAMPLE_SIZE
    assert classified["patient_id"].is_unique


@pytest.mark.slow
def test_run_the_redcap_example_pipeline(tmp_path):
    code, out, _ = run("run", str(ROOT / "pipelines" / "redcap-example.toml"),
                       "--output-dir", str(tmp_path))  # fmt: skip
    assert code == 0, out
    folder = next(p for p in tmp_path.iterdir() if p.is_dir() and p.name != "latest")
    summary = json.loads((folder / "summary.json").read_text())
    export_rows = len(_read(EXAMPLE_EXPORT))
    assert summary["counts"] == {
        "input_rows": EXAMPLE_SIZE, "valid_rows": EXAMPLE_SIZE, "quarantined_rows": 0,
        "export_rows": export_rows,
    }  # fmt: skip
    left_out = summary["validation"]["mapping"]["left_out_columns"]
    # redcap_repeat_instrument is read: the tables' row filters name it.
    assert left_out == ["redcap_event_name", "redcap_repeat_instance"]
    # The event tables of [tables.NAME]: one row per follow-up event or instrument instance.
    export = _read(EXAMPLE_EXPORT)
    instrument = export["redcap_repeat_instrument"].fillna("")
    expected = {
        "visits": int(export["redcap_event_name"].str.startswith("followup_").sum()),
        "treatments": int((instrument == "treatment").sum()),
        "antibody_tests": int((instrument == "antibody_test").sum()),
        "cancers": int((instrument == "malignancy").sum()),
    }
    assert {name: t["input_rows"] for name, t in summary["tables"].items()} == expected
    assert all(summary["tables"][t]["quarantined_rows"] == 0 for t in expected if t != "cancers")
    # A second cancer drawn after the end of observation is held back, with its export row.
    reasons = summary["tables"]["cancers"]["quarantine_reasons"]
    assert {r["rule"] for r in reasons} <= {"outside_observation"}
    held = _read(folder / "cancers.quarantine.csv")
    rows = export.iloc[held["export_rows"].astype(int) - 1]
    assert (rows["redcap_repeat_instrument"] == "malignancy").all()
    assert (rows["record_id"].to_numpy() == held["patient_id"].to_numpy()).all()
    assert summary["tables"]["treatments"]["source"] == ("redcap_export.csv [tables.treatments]")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["visits"]["mapping"]["file"] == EXAMPLE_MAPPING.name
    digest = hashlib.sha256(EXAMPLE_MAPPING.read_bytes()).hexdigest()
    assert manifest["input"]["mapping"]["sha256"] == digest
    assert manifest["input"]["mapping"]["file"] == EXAMPLE_MAPPING.name
    import jsonschema

    schema = json.loads((ROOT / "schemas" / "summary.schema.json").read_text())
    jsonschema.validate(summary, schema)


@pytest.mark.slow
def test_run_says_which_contract_columns_are_absent(tmp_path):
    made = redcap_layout(synthesize(40, seed=2), seed=2)
    made.export.drop(columns=["hmgcr_ab", "srp_ab"]).to_csv(tmp_path / "e.csv", index=False)
    mapping = made.mapping.replace("anti_hmgcr =", "# anti_hmgcr =").replace(
        "anti_srp =", "# anti_srp ="
    )
    (tmp_path / "m.toml").write_text(mapping)
    pipeline = tmp_path / "p.toml"
    pipeline.write_text('[input]\nextract = "e.csv"\nmapping = "m.toml"\n[output]\nroot = "out"\n')
    code, out, _ = run("run", str(pipeline))
    assert code == 0
    assert "2 contract column(s) absent" in out
    assert "anti_hmgcr: read as not_tested: no patient can be hmgcr" in out
