"""The first line ``validate`` prints: rows of an extract, or export rows and patients of a
site's export read through a mapping file."""

from __future__ import annotations

import io

from imnm_cohort.cli import main
from imnm_cohort.synth_redcap import EXAMPLE_EXPORT
from imnm_cohort.validation.load import InputSpec, load_input

EXAMPLE_MAPPING = EXAMPLE_EXPORT.with_name(EXAMPLE_EXPORT.stem + ".mapping.toml")


def first_line(*argv: str) -> str:
    out = io.StringIO()
    assert main(list(argv), stdout=out, stderr=io.StringIO()) == 0
    return out.getvalue().splitlines()[0]


def test_an_extract_is_counted_in_rows(tmp_path):
    extract = tmp_path / "x.csv"
    assert main(["synth", "--n", "40", "--seed", "2", "--dirty", "0.1", "-o", str(extract)]) == 0
    # --dirty 0.1 of 40 rows: 4 rows get one rule-breaking defect each (synth._make_dirty).
    assert first_line("validate", str(extract)) == f"{extract}: 40 rows: 36 valid, 4 quarantined"


def test_a_mapped_export_is_counted_in_export_rows_and_patients():
    result = load_input(InputSpec(EXAMPLE_EXPORT, EXAMPLE_MAPPING))
    assert result.export_rows is not None and result.export_rows > result.input_rows
    line = first_line("validate", str(EXAMPLE_EXPORT), "--mapping", str(EXAMPLE_MAPPING))
    assert line == (
        f"{EXAMPLE_EXPORT}: {result.export_rows} export rows, {result.input_rows} patients: "
        f"{result.valid_rows} valid, {result.quarantined_rows} quarantined"
    )
