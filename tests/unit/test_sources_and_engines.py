"""The source and engine seams: the file source, the frame source, the registries, and the
pipeline's ``[input]`` keys."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

import imnm_cohort
from imnm_cohort import ConfigError, ExtractError, read_extract, synthesize, write_extract
from imnm_cohort.engines.base import engine_for
from imnm_cohort.engines.batched import BatchedEngine
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.sources.base import CELL_PROBLEMS, SOURCES, Source, make_source, slices
from imnm_cohort.sources.files import FileSource, read_batches, read_columns
from imnm_cohort.sources.frames import FrameSource
from imnm_cohort.validation.load import InputSpec
from tests.conftest import text_frame
from tests.pipeline.readers import run


@pytest.fixture(scope="module")
def extract(tmp_path_factory):
    path = tmp_path_factory.mktemp("sources") / "x.csv"
    write_extract(synthesize(23, seed=2), path)
    with path.open("a", encoding="utf-8") as handle:  # a spreadsheet's trailing ,,, rows
        handle.write("," * 40 + "\n" + "," * 40 + "\n")
    return path


def test_the_file_source_records_what_the_manifest_recorded(extract):
    source = FileSource(extract)
    assert isinstance(source, Source) and source.kind == "file"
    assert source.describe() == {"file": "x.csv"}
    assert source.fingerprint() == hashlib.sha256(extract.read_bytes()).hexdigest()
    assert source.name == str(extract) and source.label == "x.csv"
    with pytest.raises(ExtractError, match=r"gone\.csv: file not found"):
        FileSource(extract.with_name("gone.csv")).fingerprint()


def test_batches_are_the_whole_file_in_pieces(extract):
    whole = read_extract(extract)
    pieces = list(read_batches(extract, 5))
    assert [len(p) for p in pieces] == [5, 5, 5, 5, 3]  # the blank rows at the end left out
    joined = pd.concat(pieces, ignore_index=True)
    pd.testing.assert_frame_equal(joined, whole, check_dtype=False)


def test_a_column_read_alone_keeps_every_row_of_the_file(extract):
    ids = read_columns(extract, ["patient_id"])
    assert list(ids.columns) == ["patient_id"] and len(ids) == 25  # 23 rows + 2 blank
    assert ids["patient_id"].head(23).tolist() == read_extract(extract)["patient_id"].tolist()


def test_a_file_of_another_format_is_not_read_in_batches(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(ExtractError, match=r"batched reading takes \.csv or \.parquet"):
        read_batches(path, 10)


def test_slices_renumber_the_cells_problems():
    frame = pd.DataFrame({"a": list("abcde")})
    frame.attrs[CELL_PROBLEMS] = ((1, "a", "r", "b"), (3, "a", "r", "d"))
    parts = list(slices(frame, 2))
    assert [p.attrs[CELL_PROBLEMS] for p in parts] == [
        ((1, "a", "r", "b"),),
        ((1, "a", "r", "d"),),
        (),
    ]


def test_a_frame_source_fingerprints_its_content():
    a, b = text_frame([{}, {}]), text_frame([{}, {"sex": "male"}])
    assert FrameSource(a).fingerprint() == FrameSource(a.copy()).fingerprint()
    assert FrameSource(a).fingerprint() != FrameSource(b).fingerprint()
    assert FrameSource(a, "mine").describe() == {"kind": "frame", "name": "mine", "rows": 2}


def test_the_file_kind_is_registered_and_an_unknown_kind_is_named(tmp_path, extract):
    assert isinstance(make_source("file", {"path": str(extract)}, tmp_path, "p.toml"), FileSource)
    with pytest.raises(ConfigError, match=r"p.toml: \[input\] kind = 'nosuch' is not a known"):
        make_source("nosuch", {}, tmp_path, "p.toml")
    with pytest.raises(ConfigError, match=r"p.toml: \[input\] unknown key 'table'"):
        make_source("file", {"path": "x.csv", "table": "t"}, tmp_path, "p.toml")
    assert "file" in SOURCES


def test_the_pipeline_takes_path_as_the_contracts_name_for_extract(tmp_path, extract):
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(f'[input]\nkind = "file"\npath = "{extract}"\n', encoding="utf-8")
    config = load_pipeline(pipeline)
    assert config.extract == extract.resolve() and config.input is None
    assert config.to_dict()["input"] == {"extract": str(extract.resolve())}
    pipeline.write_text(f'[input]\npath = "{extract}"\nextract = "{extract}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[input\] give path or extract, not both"):
        load_pipeline(pipeline)


def test_an_export_through_a_mapping_is_never_batched(tmp_path, extract):
    source = InputSpec(extract, tmp_path / "m.toml").source()
    assert isinstance(source, MappedSource) and source.describe() == {"file": "x.csv"}
    with pytest.raises(ConfigError, match="not an export through a mapping"):
        BatchedEngine(10).validate(source)
    data = Path(imnm_cohort.__file__).parent / "data"
    code, _, err = run(
        "run",
        *("--input", str(data / "redcap_export.csv")),
        *("--mapping", str(data / "redcap_export.mapping.toml")),
        *("--batch-rows", "5", "--output-dir", str(tmp_path)),
    )
    assert (code, err) == (
        2,
        "imnm-cohort: error: --batch-rows reads an extract; map the export first (map)\n",
    )


def test_engines_are_chosen_by_name_or_by_batches():
    assert engine_for().name == "in_memory"
    assert engine_for(7).name == "batched" and engine_for(7).batch_rows == 7
    with pytest.raises(ValueError, match="unknown engine 'nosuch'"):
        engine_for(name="nosuch")


def test_another_kinds_settings_are_recorded_json_ready(tmp_path, monkeypatch):
    monkeypatch.setitem(SOURCES, "frame", lambda settings, base: FrameSource(text_frame([{}])))
    pipeline = tmp_path / "p.toml"
    pipeline.write_text('[input]\nkind = "frame"\nsince = 2020-01-01\nlimit = 3\n')
    config = load_pipeline(pipeline)
    assert config.extract is None and isinstance(config.input, FrameSource)
    assert config.to_dict()["input"] == {"kind": "frame", "since": "2020-01-01", "limit": 3}
    assert len(config.digest()) == 8 and config.input_label == "<frame>"
