"""Property: for random extracts with random extra columns, no exception escapes
``main()`` and every input row is accounted for (input = valid + quarantined)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import synthesize
from imnm_cohort.cli import main
from imnm_cohort.sources.files import RESERVED_COLUMNS

NAMES = st.one_of(
    st.sampled_from([*RESERVED_COLUMNS, "", " ", "site", "Site", " site ", "SEX", "notes"]),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=8),
)
VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", "=1+1", "@SUM(A1)", "-", "1e309", "2262-04-12", "\t", '"', "NaN"]),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=6),
)


def _data_rows(path: Path) -> int:
    return len(pd.read_csv(path, dtype=str, keep_default_na=False)) if path.exists() else 0


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 25),
    seed=st.integers(0, 1000),
    dirty=st.sampled_from([0.0, 0.3]),
    extras=st.lists(st.tuples(NAMES, VALUES), max_size=4),
    command=st.sampled_from(["validate", "classify"]),
)
@pytest.mark.slow
def test_no_exception_escapes_main_and_nothing_is_lost(n, seed, dirty, extras, command):
    frame = synthesize(n, seed=seed, dirty=dirty)
    columns = [*frame.columns]
    values = [frame[c] for c in frame.columns]
    for name, value in extras:
        columns.append(name)
        values.append(pd.Series([value] * n))
    extract = pd.concat(values, axis=1, ignore_index=True)
    extract.columns = columns
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "extract.csv"
        extract.to_csv(path, index=False)
        out, err = io.StringIO(), io.StringIO()
        target = Path(folder) / "out"
        argv = [
            command,
            str(path),
            "-o",
            str(target if command == "validate" else target / "c.csv"),
        ]
        code = main(argv, stdout=out, stderr=err)
        assert "unexpected internal error" not in err.getvalue(), err.getvalue()
        assert code in (0, 1), err.getvalue()
        if code == 1:
            assert not target.exists()
            return
        if command == "validate":
            valid, quarantined = target / "valid.csv", target / "quarantine.csv"
        else:
            valid, quarantined = target / "c.csv", target / "c.quarantine.csv"
        assert _data_rows(valid) + _data_rows(quarantined) == n


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 10_000),
    dirty=st.sampled_from([0.0, 0.2]),
    horizon=st.sampled_from([0.5, 3, 100]),
    time_zero=st.sampled_from(["onset", "diagnosis"]),
    min_cell_count=st.sampled_from([0, 5, 11]),
    rounding=st.sampled_from([0, 5]),
)
@pytest.mark.slow
def test_a_whole_run_never_raises(n, seed, dirty, horizon, time_zero, min_cell_count, rounding):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "extract.csv"
        synthesize(n, seed=seed, dirty=dirty).to_csv(path, index=False)
        pipeline = Path(folder) / "p.toml"
        pipeline.write_text(
            f'[input]\nextract = "{path}"\n[output]\nroot = "{Path(folder) / "o"}"\n'
            f'[analysis]\nhorizon_years = {horizon}\ntime_zero = "{time_zero}"\n'
            f"[disclosure]\nmin_cell_count = {min_cell_count}\nrounding = {rounding}\n"
        )
        err = io.StringIO()
        code = main(["run", str(pipeline)], stdout=io.StringIO(), stderr=err)
        assert "unexpected internal error" not in err.getvalue(), err.getvalue()
        assert code in (0, 1), err.getvalue()
