"""A DuckDB source numbers its rows in the canonical order without sorting every column:
the numbers equal ``row_number()`` over that order (``patient_id``, then every column, byte
order, NULLs last), with repeated and missing ids and rows that are wholly alike."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pandas as pd

from imnm_cohort.sources.duckdb import DuckdbSource


def _rows(n: int, seed: int) -> pd.DataFrame:
    pick = random.Random(seed)
    ids = ["a", "B", "b", "a ", "é", "10", "9", None]  # repeats, case, space, non-ASCII
    return pd.DataFrame(
        {
            "patient_id": [pick.choice(ids) for _ in range(n)],
            "sex": [pick.choice(["female", "male", None, ""]) for _ in range(n)],
            "birth_date": [pick.choice(["2020-01-01", "2019-12-31", None]) for _ in range(n)],
            "onset_date": [pick.choice(["2020-06-01", None]) for _ in range(n)],
            "last_followup_date": [pick.choice(["2021-01-01", None]) for _ in range(n)],
            "note": [pick.choice(["x", "y", None]) for _ in range(n)],
        }
    )


def _numbers(tmp_path: Path, frame: pd.DataFrame) -> tuple[list[tuple], list[tuple]]:
    path = tmp_path / "x.duckdb"
    with duckdb.connect(str(path)) as con:
        con.register("frame", frame)
        text = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in frame.columns)
        con.execute(f"CREATE TABLE patients AS SELECT {text} FROM frame")
    source = DuckdbSource(path, "patients", None)
    opened = source.open_table()
    try:
        row = opened.row_column
        got = opened.table.order_by(row).to_pandas()
        got = [tuple(r) for r in got[[*opened.columns, row]].itertuples(index=False)]
    finally:
        opened.close()
    with duckdb.connect(str(path), read_only=True) as con:
        cells = ", ".join("nullif(sex, '') AS sex" if c == "sex" else c for c in frame.columns)
        order = ", ".join(f"{c} ASC NULLS LAST" for c in frame.columns)
        expected = con.execute(
            f"SELECT *, row_number() OVER (ORDER BY {order}) AS n "
            f"FROM (SELECT {cells} FROM patients) ORDER BY n"
        ).fetchall()
    return got, [tuple(r) for r in expected]


def test_row_numbers_follow_the_canonical_order(tmp_path: Path) -> None:
    got, expected = _numbers(tmp_path, _rows(400, seed=5))
    as_none = [tuple(None if pd.isna(c) else c for c in r) for r in got]
    assert as_none == expected


def test_unique_ids_are_numbered_by_id_alone(tmp_path: Path) -> None:
    frame = pd.DataFrame({"patient_id": ["c", "a", "b"], "sex": ["male", None, "female"]})
    frame = frame.assign(birth_date=None, onset_date=None, last_followup_date=None, note=None)
    got, expected = _numbers(tmp_path, frame)
    assert [r[0] for r in got] == ["a", "b", "c"] and [r[-1] for r in got] == [1, 2, 3]
    assert [r[-1] for r in expected] == [1, 2, 3]
