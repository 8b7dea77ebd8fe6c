"""Random dirty extracts, and the check that two engines' results agree (shared by the
property over the in-process engines and by its PostgreSQL part in tests/databases)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import strategies as st

from imnm_cohort import ExtractError, get_criteria, synthesize
from imnm_cohort.contracts.patients import PATIENTS
from imnm_cohort.engines.base import Engine
from imnm_cohort.sources.base import Source
from imnm_cohort.validation.validate import ValidationResult

#: Cells of each parsing kind that real extracts hold: odd dates, numbers stored as text,
#: case and spaces in category values, NULL, empty and blank text.
ODD: dict[str, list[Any]] = {
    "date": ["2021-02-29", "2020-02-29", "1900-02-29", " 2016-01-01 ", "2016-1-01",
             "2016-01-01T00:00:00", "20160101", "1677-09-21", "2262-04-12", "9999-12-31",
             "0001-01-01", "2016-13-01", "01/02/2016", "２０１６-01-01", "2016-01-01\u00a0"],
    "bool": ["YES", "nO", " 1 ", "t", "True", "FALSE ", "y", "0.0", "2", "\u00a0no"],
    "float": ["1e3", " 5 ", "+5", ".5", "5.", "1,200", "1 200", "1200.0", "0x10", "-0",
              "1e400", "NaN", "inf", "1_000", "00012", "１０"],
    "category": ["FEMALE", " male ", "Male", "Positive", "NOT_TESTED", " negative",
                 "Not_Tested ", "Predominant", "present ", "Moderate", "male\u00a0"],
    "msa_list": ["Jo1 ; PL7", ";jo1;", "none", "NONE;jo1", "jo1;;pl7", "MI2 ;", "None "],
    "icd10": ["c50.9", "c509", "D05.1", "C98", "c5", " C50.9", "C50.9 "],
    "id": ["P001", " P001", "p001", "P001 ", "0001", "1"],
}  # fmt: skip
#: How a missing cell may be written.
MISSING = [None, "", " ", "  "]


def kind_of(column: str) -> str:
    kind = PATIENTS.kinds[column]
    return kind if kind in ODD else "category" if kind == "string" else "id"


@st.composite
def dirty_extracts(draw: Any, max_rows: int = 24) -> pd.DataFrame:
    """A synthetic extract of text cells made dirty: odd cells, missing cells written as
    NULL, empty or blank text, patient ids repeated (across batches and partitions, as the
    rows are far apart) and whole rows repeated."""
    n = draw(st.integers(2, max_rows))
    frame = synthesize(n, seed=draw(st.integers(0, 10_000)), dirty=draw(st.sampled_from([0, 0.2])))
    frame = frame.astype(object).where(frame.notna(), None)
    columns = list(PATIENTS.column_names)
    for _ in range(draw(st.integers(0, max_rows))):
        column = draw(st.sampled_from(columns))
        value = draw(st.sampled_from([*ODD[kind_of(column)], *MISSING]))
        frame.loc[draw(st.integers(0, n - 1)), column] = value
    for _ in range(draw(st.integers(0, 3))):  # an id repeated, its rows otherwise its own
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        frame.loc[b, "patient_id"] = frame.loc[a, "patient_id"]
    for _ in range(draw(st.integers(0, 2))):  # a whole row repeated
        a, b = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        frame.loc[b] = frame.loc[a]
    return frame


def outcome(engine: Engine, source: Source) -> ValidationResult | str:
    """The engine's validation of the source, or the one line of its file-level error."""
    try:
        return engine.validate(source)
    except ExtractError as exc:
        return f"{type(exc).__name__}: {exc}"


def assert_same(expected: ValidationResult | str, got: ValidationResult | str, what: str) -> None:
    """The same valid rows, quarantine, reasons, warnings and counts (or the same error)."""
    if isinstance(expected, str) or isinstance(got, str):
        assert got == expected, what
        return
    for part in ("valid", "quarantine", "reasons", "warnings"):
        pd.testing.assert_frame_equal(
            getattr(got, part), getattr(expected, part), obj=f"{what}: {part}"
        )
    shape = ("input_rows", "empty_rows", "absent_columns")
    assert [getattr(got, k) for k in shape] == [getattr(expected, k) for k in shape], what


def assert_same_groups(
    engines: dict[str, tuple[Engine, ValidationResult | str]], criteria: str = "tma2025"
) -> None:
    """Each engine classifies its own valid rows into the same groups with the same reasons
    (every classified column, frame for frame)."""
    chosen = get_criteria(criteria)
    frames = {
        name: engine.classify(result, chosen)
        for name, (engine, result) in engines.items()
        if not isinstance(result, str)
    }
    if not frames:
        return
    first, *others = frames
    for name in others:
        pd.testing.assert_frame_equal(frames[name], frames[first], obj=f"{name} vs {first}")
