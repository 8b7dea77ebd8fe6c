"""The commands that write a patient-level table (synth, map, classify) take only a
``.csv`` or ``.parquet`` output, refuse anything else before reading their input, and
write nothing."""

from __future__ import annotations

import io

import pytest

from imnm_cohort.cli import EXIT_USAGE, main


@pytest.mark.parametrize(
    "argv",
    [
        ["synth", "--n", "10"],
        ["map", "export.csv", "--mapping", "mapping.toml"],
        ["classify", "extract.csv"],
    ],
)
def test_a_table_output_must_be_csv_or_parquet(tmp_path, argv):
    output = tmp_path / "out.xlsx"
    out, err = io.StringIO(), io.StringIO()
    # The input files do not exist: the output is refused first, whatever the input.
    code = main([*argv, "-o", str(output)], stdout=out, stderr=err)
    assert code == EXIT_USAGE
    assert err.getvalue() == (
        f"imnm-cohort: error: {output}: output must end in .csv or .parquet\n"
    )
    assert out.getvalue() == "" and list(tmp_path.iterdir()) == []
