"""The Lexis split loses no time and no event, and every piece lies in one band."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from imnm_cohort.analysis.lexis import TimeScale, lexis_split

follow_up = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.floats(0, 20_000)),
        arrays(np.float64, n, elements=st.floats(0, 5_000)),
        arrays(np.float64, n, elements=st.floats(-30_000, 0)),
        arrays(np.int64, n, elements=st.integers(0, 1)),
    )
)
breaks = st.lists(st.floats(-30_000, 30_000), min_size=1, max_size=6, unique=True).map(sorted)


@settings(max_examples=150, deadline=None)
@given(data=follow_up, age_breaks=breaks, year_breaks=breaks)
def test_pieces_cover_follow_up_exactly_once(data, age_breaks, year_breaks):
    entry, length, birth_offset, event = data
    exit = entry + length
    scales = {
        "age": TimeScale(entry + birth_offset, np.array(age_breaks)),
        "year": TimeScale(np.zeros(len(entry)), np.array(year_breaks)),
    }
    pieces = lexis_split(entry, exit, event, scales)
    span = np.bincount(pieces["patient"], weights=pieces["stop"] - pieces["start"])
    assert np.allclose(span, length, rtol=1e-12, atol=1e-9)
    assert np.array_equal(np.bincount(pieces["patient"], weights=pieces["event"]), event)
    assert (pieces["stop"] >= pieces["start"]).all()
    for name, scale in scales.items():
        origin = scale.origin[pieces["patient"]]
        lo = pieces["start"] - origin
        hi = pieces["stop"] - origin
        band = pieces[name].to_numpy()
        edges = np.r_[-np.inf, scale.breaks, np.inf]
        assert (lo >= edges[band + 1] - 1e-9).all() and (hi <= edges[band + 2] + 1e-9).all()
