"""Every malformed extract in the corpus: exit 1 with one clear line, or a quarantine with
the right reasons; never a traceback; nothing written on exit 1; nothing lost otherwise."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from imnm_cohort.cli import main
from imnm_cohort.validation.load import InputSpec, load_input

HERE = Path(__file__).parent
EXPECTED = json.loads((HERE / "expected.json").read_text())


def test_corpus_is_large_enough_and_present():
    assert len(EXPECTED) >= 100
    assert sorted(p.name for p in (HERE / "files").iterdir()) == sorted(EXPECTED)


def _case(name: str) -> object:
    """A corpus file; a case waiting for a change elsewhere is a strict expected failure."""
    pending = EXPECTED[name].get("pending")
    if pending is None:
        return name
    return pytest.param(name, marks=pytest.mark.xfail(reason=pending, strict=True))


@pytest.mark.parametrize("name", [_case(name) for name in sorted(EXPECTED)])
def test_corpus_file(name, tmp_path):
    expected = EXPECTED[name]
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "out"
    mapping: list[str] = []
    if "mapping" in expected:  # an export read through a mapping file's [source] settings
        (tmp_path / "mapping.toml").write_text(expected["mapping"])
        mapping = ["--mapping", str(tmp_path / "mapping.toml")]
    argv = ["validate", str(HERE / "files" / name), *mapping, "-o", str(target)]
    code = main(argv, stdout=out, stderr=err)
    messages = [line for line in err.getvalue().splitlines() if not line.startswith("[")]
    assert "Traceback" not in err.getvalue() + out.getvalue()
    assert code == expected["exit"], err.getvalue()
    if code == 1:
        assert len(messages) == 1, messages
        assert name in messages[0]
        assert expected["message"] in messages[0]
        assert not target.exists()
        return
    source = InputSpec(HERE / "files" / name, tmp_path / "mapping.toml" if mapping else None)
    result = load_input(source)
    assert result.valid_rows + result.quarantined_rows == result.input_rows
    assert result.valid_rows == expected["valid"]
    got = sorted({(r.column, r.rule) for r in result.reasons.itertuples()})
    assert got == sorted(tuple(r) for r in expected["reasons"])
    assert (target / "quarantine.csv").exists()


def test_missing_file_is_one_line_exit_1(tmp_path):
    err = io.StringIO()
    code = main(["validate", str(tmp_path / "nope.csv")], stdout=io.StringIO(), stderr=err)
    assert code == 1
    assert err.getvalue().strip() == f"imnm-cohort: error: {tmp_path / 'nope.csv'}: file not found"


def test_a_folder_is_not_an_extract(tmp_path):
    err = io.StringIO()
    assert main(["validate", str(tmp_path)], stdout=io.StringIO(), stderr=err) == 1
    assert "is a folder" in err.getvalue()
