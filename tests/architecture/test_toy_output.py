"""The output-format seam, used from outside the package: a toy format registered with one
line appears in the run folder and in the manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.outputs.registry import FORMATS, OutputFormat, RunOutputs
from tests.pipeline.readers import run


def write_counts(out: RunOutputs, folder: Path) -> list[Path]:
    """The published group counts, one ``group<TAB>count`` line each."""
    path = folder / "counts.tsv"
    lines = [f"{group}\t{count}" for group, count in out.summary["groups"].items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [path]


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(FORMATS, "counts", OutputFormat(write_counts, "counts.tsv"))  # one line


def test_a_registered_format_is_written_and_listed_in_the_manifest(toy, tmp_path):
    extract = write_extract(synthesize(80, seed=5), tmp_path / "x.csv")
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(
        f'[input]\nextract = "{extract}"\n[output]\nroot = "out"\nformats = ["json", "counts"]\n',
        encoding="utf-8",
    )
    code, _, err = run("run", str(pipeline))
    assert code == 0, err
    folder = tmp_path / "out" / "latest"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    written = (folder / "counts.tsv").read_text(encoding="utf-8").splitlines()
    assert written == [f"{g}\t{n}" for g, n in summary["groups"].items()]
    assert any(isinstance(n, str) for n in summary["groups"].values())  # "<5": published values
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256((folder / "counts.tsv").read_bytes()).hexdigest()
    assert manifest["outputs"]["counts.tsv"] == digest
    assert manifest["config"]["output"]["formats"] == ["json", "counts"]


def test_an_unregistered_format_is_refused(tmp_path):
    extract = write_extract(synthesize(10, seed=5), tmp_path / "x.csv")
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(
        f'[input]\nextract = "{extract}"\n[output]\nformats = ["counts"]\n', encoding="utf-8"
    )
    code, _, err = run("run", str(pipeline))
    assert code == 2 and "[output] formats must be a list from" in err
