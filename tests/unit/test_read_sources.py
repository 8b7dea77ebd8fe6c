"""The registry of source readers: SPSS and Stata through pyreadstat, encodings, workbooks."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pyreadstat
import pytest

from imnm_cohort import ExtractError, load_extract
from imnm_cohort.cli import main
from imnm_cohort.sources.files import READERS
from imnm_cohort.validation.load import InputSpec, load_input, map_export
from tests.conftest import text_frame

MAPPING = """
[columns]
patient_id = "pid"
sex = { from = "sex", values = { "1" = "female", "2" = "male" } }
birth_date = "dob"
onset_date = "onset"
last_followup_date = "last_seen"
ck_peak = "ck"
"""


def _stat_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pid": ["A1", "A2"],
            "sex": [1.0, 2.0],  # SPSS stores codes as numbers
            "dob": [dt.datetime(1950, 3, 1), dt.datetime(1961, 7, 15)],
            "onset": [dt.datetime(2010, 1, 2), dt.datetime(2012, 5, 6)],
            "last_seen": [dt.datetime(2015, 1, 2), dt.datetime(2020, 5, 6)],
            "ck": [8000.0, 1234.5],
        }
    )


@pytest.mark.parametrize(
    ("suffix", "writer"), [(".sav", pyreadstat.write_sav), (".dta", pyreadstat.write_dta)]
)
def test_spss_and_stata_files_are_read_by_their_stored_codes(tmp_path, suffix, writer):
    path = tmp_path / f"registry{suffix}"
    writer(_stat_frame(), str(path), variable_value_labels={"sex": {1: "Female", 2: "Male"}})
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING)
    result = load_input(InputSpec(path, mapping))
    assert result.quarantined_rows == 0
    valid = result.valid
    assert valid["patient_id"].tolist() == ["A1", "A2"]
    assert valid["sex"].tolist() == ["female", "male"]
    assert valid["birth_date"].dt.strftime("%Y-%m-%d").tolist() == ["1950-03-01", "1961-07-15"]
    assert valid["ck_peak"].tolist() == [8000.0, 1234.5]


def test_spss_value_labels_are_offered(tmp_path):
    from imnm_cohort.sources.readstat import value_labels

    path = tmp_path / "r.sav"
    pyreadstat.write_sav(
        _stat_frame(), str(path), column_labels=["Id", "Sex", "DOB", "Onset", "Seen", "CK"],
        variable_value_labels={"sex": {1: "Female", 2: "Male"}},
    )  # fmt: skip
    labels, values = value_labels(path)
    assert labels["sex"] == "Sex"
    assert values == {"sex": {"1": "Female", "2": "Male"}}


def test_every_reader_is_registered_by_suffix():
    assert set(READERS) >= {".csv", ".parquet", ".pq", ".xlsx", ".sav", ".dta"}


def _cp1252_export(tmp_path):
    frame = text_frame([{"patient_id": "Müller-1"}])
    frame["centre"] = "Hôpital Nord – Genève"
    path = tmp_path / "registry.csv"
    path.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    return path


def test_a_cp1252_file_reads_with_a_declared_encoding(tmp_path):
    path = _cp1252_export(tmp_path)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[source]\nencoding = "cp1252"\nkeep = ["centre"]\n')
    result = map_export(path, mapping)
    assert result.extract["patient_id"].tolist() == ["Müller-1"]
    assert result.extract["centre"].tolist() == ["Hôpital Nord – Genève"]


def test_the_same_file_without_a_declared_encoding_fails_clearly_naming_line_and_row(tmp_path):
    path = _cp1252_export(tmp_path)
    with pytest.raises(ExtractError) as info:
        load_extract(path)
    message = str(info.value)
    assert "is not UTF-8 text" in message
    assert "line 2, data row 1" in message
    assert "offset" not in message
    assert "[source] encoding" in message
    err = io.StringIO()
    assert main(["validate", str(path)], stderr=err) == 1
    assert err.getvalue().count("\n") == 1


def test_a_wrongly_declared_encoding_names_the_line(tmp_path):
    path = tmp_path / "registry.csv"
    text = text_frame([{}, {"patient_id": "Zoë"}]).to_csv(index=False)
    path.write_bytes(text.encode("utf-8").replace("ë".encode(), b"\xff\xfe"))
    mapping = tmp_path / "m.toml"
    mapping.write_text('[source]\nencoding = "utf-8"\n')
    with pytest.raises(ExtractError, match="line 3, data row 2"):
        map_export(path, mapping)


def test_an_excel_date_with_a_time_of_day_is_a_date_and_a_stray_space_is_not_a_row(tmp_path):
    from openpyxl import Workbook

    frame = text_frame([{}, {"patient_id": "P002"}])
    book = Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for record in frame.to_dict("records"):
        sheet.append([record[c] for c in frame.columns])
    sheet["C2"] = dt.datetime(1955, 3, 1, 14, 30)  # birth_date with a time of day
    sheet["A40"] = " "  # a stray space far below the data
    path = tmp_path / "registry.xlsx"
    book.save(path)
    result = load_extract(path)
    assert result.input_rows == 2
    assert result.quarantined_rows == 0
    assert result.valid["birth_date"].dt.strftime("%Y-%m-%d").tolist() == ["1955-03-01"] * 2


def test_a_drafted_mapping_offers_the_spss_value_labels(tmp_path):
    path = tmp_path / "r.sav"
    frame = _stat_frame().rename(columns={"pid": "record_id", "sex": "gender"})
    pyreadstat.write_sav(
        frame, str(path), column_labels=["Id", "Sex", "Date of birth", "Onset", "Last seen", "CK"],
        variable_value_labels={"gender": {1: "Female", 2: "Male"}},
    )  # fmt: skip
    out = io.StringIO()
    argv = ["draft-mapping", "--from-data", str(path), "-o", str(tmp_path / "m.toml")]
    assert main(argv, stdout=out) == 0
    text = (tmp_path / "m.toml").read_text()
    assert 'sex = { from = "gender", values = { "1" = "female", "2" = "male" } }' in text
    assert 'birth_date = { from = "dob" }' in text
    result = load_input(InputSpec(path, tmp_path / "m.toml"))
    assert result.valid["sex"].tolist() == ["female", "male"]
