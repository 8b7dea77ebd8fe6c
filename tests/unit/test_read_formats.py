"""Reading CSV, Parquet and .xlsx gives the same validated patients."""

from __future__ import annotations

import pandas as pd
import pytest

from imnm_cohort import ExtractError, load_extract, read_extract, synthesize, write_extract


@pytest.fixture(scope="module")
def extract() -> pd.DataFrame:
    return synthesize(60, seed=3)


def test_csv_parquet_and_xlsx_agree(extract, tmp_path):
    csv_path = write_extract(extract, tmp_path / "x.csv")
    parquet_path = write_extract(extract, tmp_path / "x.parquet")
    xlsx_path = tmp_path / "x.xlsx"
    extract.to_excel(xlsx_path, index=False)
    results = [load_extract(p) for p in (csv_path, parquet_path, xlsx_path)]
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0].valid, other.valid)


def test_typed_parquet_columns_are_read(tmp_path, extract):
    typed = load_extract(write_extract(extract, tmp_path / "x.csv")).valid
    typed.to_parquet(tmp_path / "typed.parquet")
    again = load_extract(tmp_path / "typed.parquet")
    assert again.quarantined_rows == 0
    pd.testing.assert_frame_equal(again.valid, typed)


def test_excel_dates_and_numbers_as_cells(tmp_path):
    frame = synthesize(5, seed=1)
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    frame["ck_peak"] = pd.to_numeric(frame["ck_peak"])
    frame.to_excel(tmp_path / "typed.xlsx", index=False)
    result = load_extract(tmp_path / "typed.xlsx")
    assert result.quarantined_rows == 0
    assert result.valid["birth_date"].iloc[0] == frame["birth_date"].iloc[0]


def test_absent_optional_columns_are_read_as_empty(tmp_path, extract):
    path = write_extract(extract.drop(columns=["cancer_icd10", "ck_uln"]), tmp_path / "x.csv")
    raw = read_extract(path)
    assert raw["cancer_icd10"].isna().all()
    result = load_extract(path)
    assert result.absent_columns == ("ck_uln", "cancer_icd10")
    assert result.to_dict()["absent_columns"] == ["ck_uln", "cancer_icd10"]


def test_excel_duplicate_header_is_rejected(tmp_path):
    frame = synthesize(3, seed=1)
    frame.insert(1, "dup", frame["sex"])
    frame.columns = [*frame.columns[:1], "sex", *frame.columns[2:]]
    frame.to_excel(tmp_path / "dup.xlsx", index=False)
    with pytest.raises(ExtractError, match="duplicated column"):
        read_extract(tmp_path / "dup.xlsx")


def test_fast_and_slow_parsing_agree(extract, tmp_path):
    # A clean column is parsed by one strict Arrow cast; one bad cell sends the whole
    # column the slow way. Both must give the same values for the other rows.
    clean = load_extract(write_extract(extract, tmp_path / "clean.csv"))
    dirty = extract.copy()
    dirty.loc[0, ["onset_date", "ck_peak", "dm_rash"]] = ["2021-02-29", "1e", "maybe"]
    result = load_extract(write_extract(dirty, tmp_path / "dirty.csv"))
    reasons = set(zip(result.reasons["column"], result.reasons["rule"], strict=True))
    assert reasons == {
        ("onset_date", "not_a_date"),
        ("ck_peak", "not_a_number"),
        ("dm_rash", "not_a_boolean"),
    }
    pd.testing.assert_frame_equal(result.valid, clean.valid.iloc[1:])


def test_typed_parquet_dates_booleans_and_numbers(tmp_path, extract):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    valid = load_extract(write_extract(extract, tmp_path / "x.csv")).valid
    table = pa.Table.from_pandas(valid.reset_index(drop=True), preserve_index=False)
    onset = table.column("onset_date").cast(pa.date32()).to_pylist()
    onset[1] = dt.date(9999, 12, 31)  # a placeholder date datetime64[ns] cannot hold
    ck = table.column("ck_peak").to_pylist()
    ck[2] = float("inf")
    table = table.set_column(
        table.schema.get_field_index("onset_date"), "onset_date", pa.array(onset, pa.date32())
    ).set_column(table.schema.get_field_index("ck_peak"), "ck_peak", pa.array(ck))
    pq.write_table(table, tmp_path / "typed.parquet")
    result = load_extract(tmp_path / "typed.parquet")
    assert result.reasons[["row_number", "column", "rule", "value"]].values.tolist() == [
        [2, "onset_date", "date_out_of_range", "9999-12-31"],
        [3, "ck_peak", "not_a_number", "inf"],
    ]
    expected = valid.iloc[[0, *range(3, len(valid))]]
    pd.testing.assert_frame_equal(result.valid, expected, check_index_type=False)
