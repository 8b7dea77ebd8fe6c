"""Each stage of a run on its own: read, validate, classify, analyse, disclose, render,
write, publish. Tiny synthetic registries; no stage needs the ones after it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import pytest

from imnm_cohort import ExtractError, synthesize, write_extract
from imnm_cohort.analysis.registry import ANALYSES, RUN_KEYS
from imnm_cohort.outputs import FORMATS
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import DEFAULT_FORMATS, PipelineConfig
from imnm_cohort.pipeline.manifest import build_manifest
from imnm_cohort.pipeline.meta import report_meta


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stages")
    extract = write_extract(synthesize(150, seed=12, dirty=0.05), tmp / "x.csv")
    return PipelineConfig(source=None, extract=extract, output_root=tmp / "out")


@pytest.fixture(scope="module")
def done(config):
    extract = stages.read(config)
    result = stages.validate(config, extract)
    criteria, classified = stages.classify(config, result)
    analysis = stages.analyse(config, classified)
    disclosed = stages.disclose(config, result, classified, analysis)
    return extract, result, criteria, classified, analysis, disclosed


def meta_for(config, done):
    extract, _, criteria, _, analysis, disclosed = done
    return report_meta(
        config=config,
        criteria=criteria,
        methods=analysis.methods(),
        run_name="r",
        started=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        input_sha=extract.sha256,
        withheld_count=len(disclosed.summary.withheld),
    )


def test_read_finds_the_input_and_its_checksum(config, tmp_path):
    extract = stages.read(config)
    assert len(extract.sha256) == 64 and extract.source.name == str(config.extract)
    assert extract.sha256 == hashlib.sha256(config.extract.read_bytes()).hexdigest()
    with pytest.raises(ExtractError, match="file not found"):
        stages.read(dataclasses.replace(config, extract=tmp_path / "gone.csv"))


def test_validate_accounts_for_every_row(config, done):
    _, result, *_ = done
    assert result.valid_rows + result.quarantined_rows == result.input_rows == 150
    assert result.quarantined_rows > 0


def test_classify_uses_the_pipelines_criteria(config, done):
    _, result, criteria, classified, *_ = done
    assert criteria.name == "tma2025" and len(classified) == result.valid_rows
    enmc, _ = stages.classify(dataclasses.replace(config, criteria="enmc2017"), result)
    assert enmc.name == "enmc2017"


def test_disclose_withholds_small_counts_and_keeps_the_raw_summary_apart(config, done):
    *_, analysis, disclosed = done
    assert disclosed.policy.min_count == 5 and disclosed.summary.withheld
    assert disclosed.summary.undeclared == ()  # every number of the summary is declared
    assert "<5" in json.dumps(disclosed.summary.data)
    assert disclosed.figures.min_count == 5
    raw = stages.build_summary(config, done[1], done[3], analysis)
    assert raw["groups"] == analysis.group_counts  # the raw summary is not modified
    # the summary is the run's own keys and the analyses' (registry.RUN_KEYS); without event
    # tables, none of the analyses that read them; without an OMOP source, no optional one
    assert set(raw) == set(RUN_KEYS) | {
        a.key for a in ANALYSES if not a.under and not a.tables and not a.optional
    }


def test_render_draws_figures_only_for_formats_that_use_them(config, done):
    *_, disclosed = done
    meta = meta_for(config, done)
    json_only = dataclasses.replace(config, formats=("json",))
    out = stages.render(json_only, disclosed, None, meta, done[1], done[3])
    assert out.figures is None and out.report["figures"] == []
    assert out.summary is disclosed.summary.data
    html = stages.render(config, disclosed, None, meta, done[1], done[3])
    assert html.figures is not None and len(html.report["figures"]) == 5


@pytest.mark.parametrize("formats", [("json",), ("docx", "xlsx"), ("csv",)])
def test_write_writes_exactly_the_formats_asked_for(config, done, tmp_path, formats):
    *_, disclosed = done
    chosen = dataclasses.replace(config, formats=formats)
    out = stages.render(chosen, disclosed, None, meta_for(config, done), done[1], done[3])
    files = stages.write(chosen, out, tmp_path)
    expected = {
        "json": {"summary.json"},
        "docx": {"tables.docx"},
        "xlsx": {"tables.xlsx"},
        "csv": {"classified.csv", "quarantine.csv"},
    }
    want = set().union(*(expected[f] for f in formats))
    if "csv" in formats:  # the patient-level snapshot only beside patient-level files
        want |= {"snapshot.parquet"}
    assert {p.name for p in files} == want == {p.name for p in tmp_path.iterdir()}


def test_publish_writes_the_manifest_and_moves_the_folder(config, done, tmp_path):
    extract, result, criteria, *_, disclosed = done
    work = tmp_path / ".incomplete-r"
    work.mkdir()
    (work / "summary.json").write_text("{}")
    manifest = build_manifest(
        config=config,
        criteria=criteria,
        result=result,
        published=disclosed.summary.data,
        run_name="r",
        started=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        strict=True,
        input_sha=extract.sha256,
        withheld=["a.b"],
        undeclared=[],
        notes=[],
        previous=None,
        folder=work,
        files=[work / "summary.json"],
        timings={"read": 0.1},
    )
    folder = stages.publish(work, tmp_path, "r", manifest)
    assert folder == tmp_path / "r" and not work.exists()
    written = json.loads((folder / "manifest.json").read_text())
    assert written["run"] == {
        "name": "r",
        "started_utc": "2026-01-01T00:00:00+00:00",
        "status": "rows_quarantined",
        "strict": True,
    }
    digest = hashlib.sha256(b"{}").hexdigest()
    assert written["outputs"] == {"summary.json": digest}
    assert (tmp_path / "latest").resolve() == folder


def test_formats_registry_is_the_one_list_of_formats():
    assert set(DEFAULT_FORMATS) <= set(FORMATS)
    assert set(FORMATS) == {"html", "md", "json", "csv", "docx", "xlsx", "figures"}


def test_the_report_says_what_the_ehr2026_phenotype_is(config, done):
    from imnm_cohort.classify import get_criteria

    extract, _, _, _, analysis, disclosed = done
    meta = report_meta(
        config=config,
        criteria=get_criteria("ehr2026"),
        methods=analysis.methods(),
        run_name="r",
        started=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        input_sha=extract.sha256,
        withheld_count=len(disclosed.summary.withheld),
    )
    text = meta["methods_paragraphs"][0]
    assert "coded inflammatory-myopathy diagnosis" in text
    assert "not a clinical diagnosis: its positive predictive value is unknown" in text
    # the registry sets' paragraph is unchanged (no WEAK sentence, no note)
    assert "WEAK is" not in meta_for(config, done)["methods_paragraphs"][0]
