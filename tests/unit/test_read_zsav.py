"""Compressed SPSS files (``.zsav``) are read like ``.sav`` files."""

from __future__ import annotations

import pyreadstat

from imnm_cohort.validation.load import InputSpec, load_input
from tests.unit.test_read_sources import MAPPING, _stat_frame


def test_a_zsav_file_is_read_by_its_stored_codes(tmp_path):
    path = tmp_path / "registry.zsav"
    labels = {"sex": {1: "Female", 2: "Male"}}
    pyreadstat.write_sav(_stat_frame(), str(path), compress=True, variable_value_labels=labels)
    assert path.read_bytes()[:4] == b"$FL3"  # the compressed (zlib) SPSS format, not $FL2
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING)
    result = load_input(InputSpec(path, mapping))
    assert result.quarantined_rows == 0
    assert result.valid["sex"].tolist() == ["female", "male"]
    assert result.valid["ck_peak"].tolist() == [8000.0, 1234.5]
