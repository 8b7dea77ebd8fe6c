"""Every problem of a mapping file: exit 2, one line naming the mapping file and the key."""

from __future__ import annotations

import io

import pytest

from imnm_cohort.cli import main
from tests.mapping_files import REQUIRED, write_export, write_mapping

CASES = [
    ("[columns]\nsexx = \"sex\"\n", ["[columns] sexx", "did you mean 'sex'?"]),
    ("[columns]\nsex = { from = \"sex\", valuez = {} }\n", ["unknown key 'valuez'", "values"]),
    ("[colums]\n", ["unknown section [colums]"]),
    ("sex = \"sex\"\n", ["sex: a key outside any section; put it under [columns]"]),
    ("[source]\nencodng = \"cp1252\"\n", ["[source]: unknown key 'encodng'", "encoding"]),
    ("[source]\nencoding = \"klingon\"\n", ["[source] encoding", "not a known codec"]),
    ("[source]\ndelimiter = \";;\"\n", ["[source] delimiter must be one character"]),
    ("[source]\ndecimal = \";\"\n", ["[source] decimal must be '.' or ','"]),
    ("[source]\ndate_format = \"%d/%m\"\n", ["[source] date_format", "day, month and year"]),
    ("[source]\nmissing_codes = \"UNK\"\n", ["[source] missing_codes must be a list"]),
    ("[columns]\nck_peak = { from = \"ck\", unit = \"mg/dL\" }\n",
     ["[columns] ck_peak unit", "not U/L, IU/L or ukat/L"]),
    ("[columns]\nsex = { from = \"sex\", unit = \"U/L\" }\n", ["only ck_peak and ck_uln"]),
    ("[source]\nid = \"r\"\n[columns]\nck_peak = { from = \"ck\", combine = \"maximum\" }\n",
     ["[columns] ck_peak combine", "unknown rule 'maximum'", "did you mean 'max'?",
      "choose one of"]),
    ("[columns]\nck_peak = { from = \"ck\", combine = \"max\" }\n", ["only with [source] id"]),
    ("[source]\nid = \"r\"\n[columns]\nsex = { from = \"sex\", combine = \"max\" }\n",
     ["needs a date or number column"]),
    ("[source]\nid = \"r\"\n[columns]\n"
     "cancer_icd10 = { from = \"c\", combine = \"at_min:cancer\" }\n",
     ["at_min:cancer", "did you mean 'cancer_date'?"]),
    ("[columns]\nsex = { from = \"sex\", values = { \"1\" = \"femal\" } }\n",
     ["[columns] sex values", "did you mean 'female'?", "allowed: female, male"]),
    ("[columns]\nsex = { from = \"sex\", format = \"%d/%m/%Y\" }\n", ["only date columns"]),
    ("[columns]\nother_msa = { checkboxes = { \"b1\" = \"jo-1\" } }\n",
     ["not an antibody", "did you mean 'jo1'?"]),
    ("[columns]\nsex = { checkboxes = { \"b1\" = \"jo1\" } }\n", ["only other_msa"]),
    ("[columns]\nother_msa = { from = \"m\", tested = \"d\" }\n", ["tested: only with"]),
    ("[columns]\nsex = { values = { \"1\" = \"female\" } }\n", ["needs 'from'"]),
    ("[columns]\nsex = \"gendre\"\n", ["[columns] sex: column 'gendre' is not in this export"]),
    ("[source]\nid = \"recordid\"\n", ["[source] id: column 'recordid' is not in this export",
                                       "(the export has 'record_id')"]),
    ("[columns\n", ["not valid TOML"]),
    ("[source]\nid = \"record_id\"\n[columns]\n"
     "cancer_icd10 = { from = \"gender\", combine = \"at_min:cancer_date\" }\n",
     ["[columns] cancer_icd10 combine", "needs cancer_date"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "phrases"), CASES)
def test_a_bad_mapping_exits_2_with_one_line_naming_file_and_key(tmp_path, text, phrases):
    export = write_export(tmp_path, [{**REQUIRED, "record_id": "1", "gender": "f"}])
    mapping = write_mapping(tmp_path, text)
    err = io.StringIO()
    code = main(["map", str(export), "--mapping", str(mapping), "-o", str(tmp_path / "x.csv")],
                stdout=io.StringIO(), stderr=err)  # fmt: skip
    message = err.getvalue()
    assert code == 2
    assert message.count("\n") == 1, message
    assert str(mapping) in message
    for phrase in phrases:
        assert phrase in message, message
    assert not (tmp_path / "x.csv").exists()


def test_every_problem_of_the_file_is_reported_at_once(tmp_path):
    export = write_export(tmp_path, [REQUIRED])
    mapping = write_mapping(
        tmp_path,
        '[source]\ndecimal = ";"\n[columns]\nsexx = "s"\nck_peak = { from = "ck", unit = "g" }\n',
    )
    err = io.StringIO()
    assert main(["validate", str(export), "--mapping", str(mapping)], stderr=err) == 2
    line = err.getvalue()
    assert "decimal" in line and "sexx" in line and "unit" in line
    assert line.count("\n") == 1


@pytest.mark.parametrize("command", ["validate", "classify", "map"])
def test_a_missing_mapping_file_exits_2(tmp_path, command):
    export = write_export(tmp_path, [REQUIRED])
    argv = [command, str(export), "--mapping", str(tmp_path / "none.toml")]
    if command != "validate":
        argv += ["-o", str(tmp_path / "out.csv")]
    err = io.StringIO()
    assert main(argv, stdout=io.StringIO(), stderr=err) == 2
    assert "mapping file not found" in err.getvalue()
