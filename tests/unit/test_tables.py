"""Patient-level tables are written re-readably, atomically and safe to open in a spreadsheet."""

from __future__ import annotations

import csv

import pandas as pd

from imnm_cohort import load_extract, synthesize, write_extract
from imnm_cohort.io.tables import write_table


def test_formula_like_cells_are_neutralised(tmp_path):
    frame = pd.DataFrame(
        {
            "a": ["=1+1", "+cmd", "-5", "-1.5e3", "@SUM(A1)", "ok", None, "\tx"],
            "n": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    path = write_table(frame, tmp_path / "f.csv")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["a", "n"]
    # None is written as an empty cell; numbers, even negative ones, are left alone.
    assert [r[0] for r in rows[1:]] == [
        "'=1+1",
        "'+cmd",
        "-5",
        "-1.5e3",
        "'@SUM(A1)",
        "ok",
        "",
        "'\tx",
    ]
    assert [int(r[1]) for r in rows[1:]] == frame["n"].tolist()


def test_written_valid_rows_read_back_identically(tmp_path):
    path = write_extract(synthesize(50, seed=9), tmp_path / "in.csv")
    valid = load_extract(path).valid
    write_table(valid, tmp_path / "valid.csv")
    again = load_extract(tmp_path / "valid.csv").valid
    pd.testing.assert_frame_equal(again, valid)


def test_no_temporary_files_are_left(tmp_path):
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.parquet"]


def test_every_arrow_text_type_and_every_column_is_neutralised(tmp_path):
    import pyarrow as pa

    risky = ["=1+1", "@SUM(A1)", "+cmd", "-x", "-3.5", None, "plain"]
    frame = pd.DataFrame(
        {
            "patient_id": pd.Series(risky, dtype="string[pyarrow]"),  # large_string
            "arrow": pd.Series(risky, dtype=pd.ArrowDtype(pa.string())),
            "plain": pd.Series(risky, dtype=object),
        }
    )
    assert pa.types.is_large_string(frame["patient_id"].array.__arrow_array__().type)
    path = write_table(frame, tmp_path / "t.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for column in frame.columns:
        assert [r[column] for r in rows] == [
            "'=1+1",
            "'@SUM(A1)",
            "'+cmd",
            "'-x",
            "-3.5",
            "",
            "plain",
        ]


def test_the_spreadsheet_rule_for_other_writers():
    from imnm_cohort.io.tables import spreadsheet_safe, spreadsheet_safe_column

    assert [spreadsheet_safe(v) for v in ("=A1", "-2", "\tx", "ok")] == ["'=A1", "-2", "'\tx", "ok"]
    column = spreadsheet_safe_column(pd.Series(["=A1", None, "ok"], dtype="string[pyarrow]"))
    assert column.tolist()[0] == "'=A1" and column.tolist()[2] == "ok"


def test_header_names_are_neutralised_too(tmp_path):
    frame = pd.DataFrame({"=cmd|' /C calc'!A0": ["x"], "site": ["=1"]})
    with write_table(frame, tmp_path / "h.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [["'=cmd|' /C calc'!A0", "site"], ["x", "'=1"]]
