"""Patient-level tables are written re-readably, atomically and safe to open in a spreadsheet."""

from __future__ import annotations

import pandas as pd

from imnm_cohort import load_extract, synthesize, write_extract
from imnm_cohort.tables import neutralise_formulas, write_table


def test_formula_like_cells_are_neutralised():
    frame = pd.DataFrame(
        {
            "a": ["=1+1", "+cmd", "-5", "-1.5e3", "@SUM(A1)", "ok", None, "\tx"],
            "n": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = neutralise_formulas(frame)
    assert out["a"].tolist() == ["'=1+1", "'+cmd", "-5", "-1.5e3", "'@SUM(A1)", "ok", None, "'\tx"]
    assert out["n"].tolist() == frame["n"].tolist()


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
