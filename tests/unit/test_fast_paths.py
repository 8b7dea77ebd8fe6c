"""The faster paths give what the plain ones they replace gave, value for value.

Each test states the plain computation (the code the fast path replaced) beside the call
and compares them exactly, on inputs chosen to reach every branch: text already held as
``str``, text mixed with other objects, categories of text and of numbers, frames in and
out of patient order, typed trailing rows that are blank or not.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from imnm_cohort.analysis import coxph
from imnm_cohort.analysis.coxph import fit_cox, zph_test
from imnm_cohort.analysis.finegray import _Data, _risk_sums
from imnm_cohort.analysis.malignancy import _ids_ascending, group_labels, in_patient_order
from imnm_cohort.io.tables import _FORMULA_START, _starts_like_formula, as_text
from imnm_cohort.sources.files import _drop_trailing_blank_rows


def _plain_text_column(col: pd.Series) -> pa.Array:
    """The per-cell conversion of text and categories the fast path replaced."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return pa.array(col.astype(object).to_numpy(), type=pa.string(), from_pandas=True)
    text = col.astype(object)
    text = text.where(text.isna(), text.astype(str))
    return pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


@pytest.mark.parametrize(
    "values",
    [
        ["a", None, "=1+1", "-3", float("nan"), pd.NA, "é"],  # str and missing values
        [1, "a", None, b"x", 2.5, True, "b"],  # other objects: str() of each
        pd.Categorical(["=x", "b", None, "+1", "b", "c", "b"]),
        pd.Categorical(["x", None, "y", "x", "x", "y", None], categories=["y", "x", "z"]),
    ],
)
def test_csv_text_is_the_per_cell_text(values: object) -> None:
    col = pd.Series(values, dtype=None if isinstance(values, pd.Categorical) else object)
    table = as_text(pd.DataFrame({"c": col}))
    expected = as_text(pd.DataFrame({"c": _plain_text_column(col).to_pandas()}))
    assert table.column(0).to_pylist() == expected.column(0).to_pylist()
    assert table.schema == expected.schema


def test_formula_like_text_is_still_neutralised() -> None:
    table = as_text(pd.DataFrame({"c": ["=cmd", "-2", "-x", "ok", None]}))
    assert table.column(0).to_pylist() == ["'=cmd", "-2", "'-x", "ok", None]


def _frame(ids: list[str]) -> pd.DataFrame:
    groups = pd.Categorical(["anti-HMGCR", "anti-SRP", None, "seronegative"][: len(ids)])
    return pd.DataFrame({"patient_id": pd.array(ids, dtype="string"), "imnm_group": groups})


@pytest.mark.parametrize("ids", [["A1", "A2", "A2", "B"], ["B", "A2", "A1", "A2"]])
def test_patient_order_is_a_stable_sort_by_id(ids: list[str]) -> None:
    frame = _frame(ids)
    expected = frame.sort_values("patient_id", kind="stable")
    pd.testing.assert_frame_equal(in_patient_order(frame), expected)


def test_patient_order_keeps_a_sorted_frame_as_it_is() -> None:
    frame = _frame(["A1", "A2", "A2", "B"])
    assert in_patient_order(frame) is frame


@pytest.mark.parametrize(
    "group",
    [
        pd.Categorical(["anti-SRP", None, "anti-HMGCR", "anti-SRP"]),
        pd.Categorical([None, None, None, None], categories=["anti-SRP"]),
        pd.Series(["anti-SRP", None, 3, "x"], dtype=object),
        pd.Series(["a", None, "b", "a"], dtype="string"),
    ],
)
def test_group_labels_are_the_text_of_each_row(group: object) -> None:
    frame = pd.DataFrame({"imnm_group": group})
    labels = group_labels(frame)
    assert labels.tolist() == frame["imnm_group"].astype(str).to_numpy().tolist()


def _plain_risk_sums(data: _Data, values: np.ndarray) -> np.ndarray:
    """The risk-set sums as first written: running sums padded with a row of zeros."""
    flat = values.reshape(len(values), -1)
    tail = np.vstack([np.cumsum(flat[::-1], axis=0)[::-1], np.zeros((1, flat.shape[1]))])
    followed = tail[np.searchsorted(data.time, data.times, side="left")]
    died = np.where((data.event == 2)[:, None], flat / data.g_own[:, None], 0.0)
    head = np.vstack([np.zeros((1, flat.shape[1])), np.cumsum(died, axis=0)])
    earlier = head[np.searchsorted(data.time, data.times, side="left")]
    out = followed + data.g_event[:, None] * earlier
    return out.reshape(len(data.times), *values.shape[1:])


def test_fine_gray_risk_sums_are_unchanged_to_the_last_bit() -> None:
    rng = np.random.default_rng(3)
    n = 400
    time = np.sort(rng.integers(1, 60, n).astype(float))
    event = rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2])
    # Event times include one past every patient's time (index n) and the first time (0).
    times = np.unique(np.r_[time[event == 1], time[0], time[-1] + 1])
    x = rng.normal(size=(n, 3))
    data = _Data(
        x,
        time,
        event,
        rng.uniform(0.2, 1, n),
        times,
        rng.uniform(0.2, 1, len(times)),
        np.full(n, -1),
        np.zeros(len(times), dtype=int),
    )
    for values in (np.exp(x[:, 0]), x, x[:, :, None] * x[:, None, :]):
        assert np.array_equal(_risk_sums(data, values), _plain_risk_sums(data, values))


def _plain_trailing_drop(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column of the last rows read as text, as first written."""
    end = len(frame)
    while end > 0 and frame.shape[1]:
        start = max(0, end - 1024)
        chunk = frame.iloc[start:end]
        blank = np.ones(len(chunk), dtype=bool)
        for i in range(chunk.shape[1]):
            text = chunk.iloc[:, i].astype("string").str.strip()
            blank &= (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
        if not blank.all():
            end = start + int(np.flatnonzero(~blank)[-1]) + 1
            break
        end = start
    return frame if end == len(frame) else frame.iloc[:end]


@pytest.mark.parametrize("tail", [0, 1, 3, 1500])
@pytest.mark.parametrize("last", ["date", "number", "flag", "text", "category", "none"])
def test_trailing_blank_rows_are_found_in_typed_columns(tail: int, last: str) -> None:
    n = 5 + tail
    data = {
        "id": pd.array(["p1", "p2", "p3", "p4", "p5"] + [" "] * tail, dtype="string"),
        "date": pd.to_datetime(["2020-01-01"] * 5 + [None] * tail),
        "number": pd.array([1.5] * 5 + [None] * tail, dtype="Float64"),
        "flag": pd.array([True] * 5 + [None] * tail, dtype="boolean"),
        "text": pd.Series(["x"] * 5 + [""] * tail, dtype=object),
        "category": pd.Categorical(["a"] * 5 + [" "] * tail),
    }
    frame = pd.DataFrame(data)
    if tail and last != "none":  # one value in the very last row: nothing is blank
        frame.loc[n - 1, last] = frame.loc[0, last]
    got = _drop_trailing_blank_rows(frame)
    expected = _plain_trailing_drop(frame)
    assert len(got) == len(expected)
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("chunks", [1, 3])
def test_formula_start_read_from_the_first_byte_is_the_regular_expression(chunks: int) -> None:
    cells = ["", None, "=1", "+", "-3", "@x", "\tx", "\rx", "x=", " =", "é=", "=é", "'=", "\n="]
    whole = pa.array(cells * 3, pa.string())
    for values in (whole, whole.slice(5, 20), pa.array([None, ""], pa.string())):
        if chunks > 1:  # chunks that start inside the buffers, one of them empty
            cut = len(values) // 2
            values = pa.chunked_array([values.slice(0, cut), values.slice(cut, 0), values[cut:]])
        plain = pc.match_substring_regex(values, _FORMULA_START)
        assert _starts_like_formula(values).equals(plain)


@pytest.mark.parametrize(
    "ids",
    [
        ["A1", "A2", "A2", "B"],
        ["B", "A2"],
        ["A"],
        [],
        ["A", None, "B"],  # a missing id: not in order, as pandas says
        ["é", "z"],
        ["z", "é"],
        ["a", "A"],
        ["ab", "a"],
        ["\uffff", "\U0001f600"],  # beyond the 16-bit plane: code point order either way
        ["\U0001f600", "\uffff"],
    ],
)
def test_patient_order_check_is_pandas_monotonic_check(ids: list[str | None]) -> None:
    for dtype in ("string[pyarrow]", "string[python]", object):
        column = pd.Series(ids, dtype=dtype)
        assert _ids_ascending(column) == column.is_monotonic_increasing
    chunked = pd.Series(
        pd.arrays.ArrowStringArray(pa.chunked_array([ids[:1], [], ids[1:]], pa.string()))
    )
    assert _ids_ascending(chunked) == pd.Series(ids, dtype=object).is_monotonic_increasing


def test_ph_test_on_the_fitted_arrays_reuses_their_sorted_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    n = 300
    time = rng.exponential(size=n).round(1) + 0.1  # ties
    event = rng.random(n) < 0.4
    x = rng.normal(size=(n, 2))
    fit = fit_cox(time, event, x)
    plain = zph_test(time, event, x, dataclasses.replace(fit, _sorted=None))
    other = zph_test(time.copy(), event.copy(), x.copy(), fit)  # other arrays: sorted anew
    built: list[int] = []
    original = coxph._TiedData.__init__

    def counted(self: coxph._TiedData, *args: np.ndarray) -> None:
        built.append(1)
        original(self, *args)

    monkeypatch.setattr(coxph._TiedData, "__init__", counted)
    reused = zph_test(time, event, x, fit)
    assert not built
    for result in (plain, other):
        assert np.array_equal(reused.chisq, result.chisq)
        assert np.array_equal(reused.p_value, result.p_value)
        assert reused.global_chisq == result.global_chisq
