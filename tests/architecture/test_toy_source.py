"""The source seam, used from outside the package: a toy source (rows from a Python list)
registered with one line and run through a pipeline file's ``[input] kind = "toy"``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from imnm_cohort import synthesize
from imnm_cohort.errors import ConfigError
from imnm_cohort.sources.base import SOURCES, Source
from tests.pipeline.readers import run

#: The toy's whole store: a Python list of rows, text cells as an extract holds them.
ROWS: list[dict[str, Any]] = synthesize(70, seed=7, dirty=0.05).to_dict("records")


@dataclass(frozen=True)
class ListSource:
    """Rows from a Python list; ``[input] rows = N`` takes the first N."""

    rows: tuple[dict[str, Any], ...]
    kind: str = "toy"
    name: str = "toy registry"
    label: str = "toy"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], base: Path) -> ListSource:
        unknown = sorted(set(settings) - {"rows"})
        if unknown:
            raise ConfigError(f"unknown key '{unknown[0]}' for kind = \"toy\"")
        return cls(tuple(ROWS[: int(settings.get("rows", len(ROWS)))]))

    def fingerprint(self) -> str:
        text = json.dumps(list(self.rows), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": len(self.rows)}

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        frame = pd.DataFrame(list(self.rows), dtype=object)
        frame = frame.astype(object).where(frame.notna(), None)
        return frame if columns is None else frame[list(columns)]

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        frame = self.read()
        for start in range(0, len(frame), rows):
            yield frame.iloc[start : start + rows].reset_index(drop=True)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(SOURCES, "toy", ListSource.from_settings)  # the one registration line


def pipeline(tmp_path: Path, input_lines: str) -> Path:
    path = tmp_path / "toy.toml"
    path.write_text(
        f"[input]\n{input_lines}\n[disclosure]\nmin_cell_count = 0\n"
        '[output]\nroot = "out"\nformats = ["json", "csv"]\n',
        encoding="utf-8",
    )
    return path


def test_the_toy_follows_the_protocol():
    assert isinstance(ListSource(()), Source)


def test_a_run_reads_the_toy_source(toy, tmp_path):
    code, out, err = run("run", str(pipeline(tmp_path, 'kind = "toy"\nrows = 60')))
    assert code == 0, err
    folder = tmp_path / "out" / "latest"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["input_rows"] == 60
    classified = pd.read_csv(folder / "classified.csv", dtype=str)
    assert set(classified["patient_id"]) <= {r["patient_id"] for r in ROWS[:60]}
    assert len(classified) == summary["counts"]["valid_rows"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["input"] == {
        "kind": "toy",
        "rows": 60,
        "sha256": ListSource(tuple(ROWS[:60])).fingerprint(),
    }
    assert manifest["config"]["input"] == {"kind": "toy", "rows": 60}
    assert "toy: " in out  # the source's label names it


def test_the_batched_engine_reads_the_toy_source_too(toy, tmp_path):
    path = pipeline(tmp_path, 'kind = "toy"')
    outputs = {}
    for name, extra in (("memory", []), ("batched", ["--batch-rows", "9"])):
        code, _, err = run("run", str(path), "--output-dir", str(tmp_path / name), *extra)
        assert code == 0, err
        outputs[name] = [
            (tmp_path / name / "latest" / f).read_bytes()
            for f in ("summary.json", "classified.csv", "quarantine.csv")
        ]
    assert outputs["batched"] == outputs["memory"]


def test_a_setting_the_toy_refuses_names_the_pipeline_file(toy, tmp_path):
    path = pipeline(tmp_path, 'kind = "toy"\ncolour = "blue"')
    code, _, err = run("run", str(path))
    assert code == 2
    assert err.strip() == (
        f"imnm-cohort: error: {path}: [input] unknown key 'colour' for kind = \"toy\""
    )


def test_an_unregistered_kind_is_a_configuration_error(tmp_path):
    path = pipeline(tmp_path, 'kind = "toy"')
    code, _, err = run("run", str(path))
    assert code == 2 and "[input] kind = 'toy' is not a known source" in err
    assert len(err.strip().splitlines()) == 1


def test_input_on_the_command_line_replaces_the_toy_with_a_file(toy, tmp_path):
    from imnm_cohort.pipeline.config import load_pipeline

    extract = tmp_path / "x.csv"
    pd.DataFrame(ROWS[:5]).to_csv(extract, index=False)
    config = load_pipeline(pipeline(tmp_path, 'kind = "toy"'), extract=extract)
    assert config.input is None and config.extract == extract.resolve()
    assert config.input_source().describe() == {"file": "x.csv"}
    assert config.to_dict()["input"] == {"extract": str(extract.resolve())}
