"""The Python API reads settings files with the same checks as the command line: a device,
a FIFO, a folder, an oversized file or a deeply nested TOML is one clear error, never a hang
or a memory blow-up (the command-line cases are in tests/corpus/test_hostile_round2.py)."""

from __future__ import annotations

import os

import pytest

import imnm_cohort.analysis.rates as rates
from imnm_cohort.errors import ConfigError, MappingError, ReferenceRateError
from imnm_cohort.mapping.spec import load_mapping


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_load_mapping_refuses_a_device(device):
    with pytest.raises(MappingError, match="not a regular file"):
        load_mapping(device)


def test_load_mapping_refuses_a_fifo_without_opening_it(tmp_path):
    fifo = tmp_path / "mapping.toml"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    with pytest.raises(MappingError, match="not a regular file"):
        load_mapping(fifo)


def test_load_mapping_refuses_toml_nested_3000_deep(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("[source]\nmissing_codes = " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(MappingError, match="levels deep"):
        load_mapping(path)


def test_load_mapping_still_names_a_missing_file(tmp_path):
    with pytest.raises(MappingError, match="mapping file not found"):
        load_mapping(tmp_path / "absent.toml")


def test_load_mapping_keeps_the_digest_of_the_bytes_read(tmp_path):
    import hashlib

    path = tmp_path / "m.toml"
    path.write_text('[columns]\npatient_id = "record_id"\n')
    spec = load_mapping(path)
    assert spec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_reference_rates_refuse_a_device_and_a_folder(tmp_path):
    with pytest.raises(ReferenceRateError, match="not a regular file"):
        rates.read_reference_rates("/dev/zero")
    with pytest.raises(ReferenceRateError, match="is a folder"):
        rates.read_reference_rates(tmp_path)


def test_reference_rates_refuse_a_file_over_the_limit_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(rates, "RATES_MAX_BYTES", 100)
    path = tmp_path / "rates.csv"
    path.write_text("x" * 101)
    with pytest.raises(ReferenceRateError, match="over the limit") as caught:
        rates.read_reference_rates(path)
    assert isinstance(caught.value, ConfigError)
