"""Property: validating and classifying in batches equals doing it in memory.

Random extracts (synthetic rows, random cells replaced by junk, patient ids repeated across
the file) are classified both ways, from CSV and from Parquet, with random batch sizes: the
same valid rows and groups, the same quarantine with the same reasons, the same warnings,
and the same file-level judgement.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from imnm_cohort import ExtractError, classify, load_extract, synthesize, write_extract
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS
from imnm_cohort.engines.batched import classify_in_batches
from imnm_cohort.io.tables import write_table

BASE = synthesize(60, seed=17)
JUNK = st.sampled_from(
    [None, "", " ", "NA", "-1", "1e309", "2020-02-30", "13/01/2020", "true", "positive", "C99.9"]
)


@settings(
    max_examples=25,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking costs minutes here
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.integers(1, len(BASE)),
    junk=st.lists(
        st.tuples(st.integers(0, len(BASE) - 1), st.sampled_from(CONTRACT_COLUMNS), JUNK),
        max_size=25,
    ),
    repeats=st.lists(
        st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, len(BASE) - 1)), max_size=4
    ),
    batch_rows=st.integers(7, 70),
    suffix=st.sampled_from([".csv", ".parquet"]),
    output=st.sampled_from([".csv", ".parquet"]),
)
@pytest.mark.slow
def test_batched_path_equals_in_memory_path(
    tmp_path, rows, junk, repeats, batch_rows, suffix, output
):
    frame = BASE.head(rows).copy()
    for row, column, value in junk:
        if row < rows:
            frame.loc[row, column] = value
    for source, target in repeats:
        if source < rows and target < rows:
            frame.loc[target, "patient_id"] = frame.loc[source, "patient_id"]
    extract = write_extract(frame, tmp_path / f"x{suffix}")
    try:
        memory = load_extract(extract)
    except ExtractError as exc:
        with pytest.raises(type(exc)):
            classify_in_batches(extract, tmp_path / f"b{output}", batch_rows=batch_rows)
        assert not (tmp_path / f"b{output}").exists()
        return
    classified = classify(memory.valid)
    batched = classify_in_batches(extract, tmp_path / f"b{output}", batch_rows=batch_rows)
    assert batched.input_rows == memory.input_rows == rows
    assert batched.batches == -(-rows // batch_rows)
    pd.testing.assert_frame_equal(batched.quarantine, memory.quarantine)
    pd.testing.assert_frame_equal(batched.reasons, memory.reasons)
    pd.testing.assert_frame_equal(batched.warnings, memory.warnings)
    counts = classified["imnm_group"].value_counts()
    assert batched.group_counts == {g: int(counts[g]) for g in counts.index}
    assert batched.valid_rows == memory.valid_rows
    in_memory = write_table(classified, tmp_path / f"m{output}")
    if output == ".csv":
        assert batched.output.read_bytes() == in_memory.read_bytes()
    else:
        pd.testing.assert_frame_equal(pd.read_parquet(batched.output), pd.read_parquet(in_memory))


@pytest.mark.slow
def test_blank_rows_at_the_end_do_not_count_towards_a_file_level_problem(tmp_path):
    # 20 patients, 12 with a birth date in another format, then 30 blank rows: 12 of 20 data
    # rows break one rule, a file-level problem on both paths (12 of 50 would not be).
    frame = synthesize(20, seed=4)
    frame.loc[:11, "birth_date"] = pd.to_datetime(frame.loc[:11, "birth_date"]).dt.strftime(
        "%d/%m/%Y"
    )
    path = write_extract(frame, tmp_path / "x.csv")
    with path.open("a") as handle:
        handle.write(("," * (len(frame.columns) - 1) + "\n") * 30)
    with pytest.raises(ExtractError) as in_memory:
        load_extract(path)
    with pytest.raises(ExtractError) as batched:
        classify_in_batches(path, tmp_path / "c.csv", batch_rows=7)
    assert str(batched.value) == str(in_memory.value)
    assert not (tmp_path / "c.csv").exists()
