"""Text columns: category folding and antibody lists, against a plain-Python reference."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from imnm_cohort.contracts.coerce import _antibody_list, _coerce_column


def _reference_list(cell: str | None) -> str | None:
    """The tidying of one antibody list, written out by hand (spaces as RE2's ``\\s``: ASCII)."""
    if cell is None:
        return None
    tidy = re.sub(r"[\t\n\f\r ]*;[\t\n\f\r ]*", ";", cell).strip(";")
    return tidy or None


CELLS = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(["a", "b", ";", " ", "\t", "\u00a0"]), min_size=1, max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=30), st.integers(1, 4))
def test_antibody_lists_are_tidied_cell_by_cell(cells, chunks):
    size = -(-len(cells) // chunks)
    parts = [cells[i : i + size] for i in range(0, len(cells), size)]
    text = pa.chunked_array([pa.array(p, pa.string()) for p in parts], pa.string())
    got = _antibody_list(text).to_pylist()
    assert got == [_reference_list(c) for c in cells]


def test_an_antibody_list_without_a_semicolon_is_returned_as_it_is():
    text = pa.chunked_array([pa.array(["mi2", None, "none"])])
    assert _antibody_list(text) is text


def test_category_values_fold_ascii_letters_only():
    column = pd.Series(["FEMALE", " Male ", "UN\u212aNOWN", "\u00c9", None], dtype="string")
    value, failures = _coerce_column("sex", column)
    # The Kelvin sign is not the letter K: the value stays as written and is not allowed later.
    folded = list(pd.array(value, dtype="string"))
    assert folded == ["female", "male", "un\u212anown", "\u00c9", pd.NA]
    assert failures == []
