"""The analysis seam, used from outside the package as a study would use it.

A toy analysis (patients a study flagged, counted per IMNM group, with the group sizes as
a declared margin) is defined here and registered with one line, with no edit to the
package. A run with every default format must show it in ``summary.json``, the HTML, the
Markdown, the Word and the Excel output, with its small count withheld as ``<5`` and the
count that would give it back by difference withheld too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import imnm_cohort as ic
from imnm_cohort.analysis import ANALYSES, Analysis, Cohort, register, unregister
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin
from imnm_cohort.errors import ConfigError
from imnm_cohort.pipeline.summary_schema import summary_schema
from tests.pipeline.readers import docx_text, run, xlsx_text

TITLE = "Flagged patients by IMNM group"
METHOD = "Patients flagged by the study were counted in each IMNM group."
SMALL, LARGE = 3, 20  # flagged anti-SRP and anti-HMGCR patients; the minimum count is 5


@dataclass(frozen=True)
class FlaggedByGroup:
    """Flagged and other patients of each group."""

    counts: dict[str, tuple[int, int]]  # group -> (flagged, group size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": {g: {"flagged": k, "not_flagged": n - k} for g, (k, n) in self.counts.items()}
        }

    def disclosure(self) -> Declaration:
        cells = {g: (("groups", g, "flagged"), ("groups", g, "not_flagged")) for g in self.counts}
        return Declaration(
            counts=tuple(Count(p) for pair in cells.values() for p in pair),
            margins=tuple(Margin(pair, f"group:{g}") for g, pair in cells.items()),
        )

    def method(self) -> str:
        return METHOD

    @staticmethod
    def json_schema() -> dict[str, Any]:
        pair = {
            "type": "object",
            "required": ["flagged", "not_flagged"],
            "properties": {k: {"$ref": "#/$defs/count"} for k in ("flagged", "not_flagged")},
        }
        return {
            "type": "object",
            "required": ["groups"],
            "properties": {"groups": {"type": "object", "additionalProperties": pair}},
        }


def flagged_by_group(ids: set[str]) -> Any:
    def compute(cohort: Cohort) -> FlaggedByGroup:
        p = cohort.patients
        flagged = p["patient_id"].astype(str).isin(ids)
        group = p["imnm_group"].astype(str)
        return FlaggedByGroup(
            {
                g: (int((flagged & (group == g)).sum()), int((group == g).sum()))
                for g in cohort.groups
            }
        )

    return compute


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """A synthetic extract and the ids of 3 anti-SRP and 20 anti-HMGCR patients in it."""
    path = tmp_path_factory.mktemp("toy") / "extract.csv"
    ic.write_extract(ic.synthesize(160, seed=11), path)
    classified = ic.classify(ic.load_extract(path).valid)
    ids = classified["patient_id"].astype(str)
    group = classified["imnm_group"].astype(str)
    hmgcr, srp = ids[group == "hmgcr"], ids[group == "srp"]
    assert len(srp) >= SMALL + 5 and len(hmgcr) >= LARGE + 5  # the margin's rest is shown
    return path, set(srp.iloc[:SMALL]) | set(hmgcr.iloc[:LARGE])


@pytest.fixture(scope="module")
def toy_run(extract: tuple[Path, set[str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run folder of a run with the toy analysis registered; unregistered afterwards."""
    path, ids = extract
    out = tmp_path_factory.mktemp("runs")
    register(Analysis("flagged", flagged_by_group(ids), FlaggedByGroup, TITLE))
    try:
        code, _, err = run("-q", "run", "--input", str(path), "--output-dir", str(out))
    finally:
        unregister("flagged")
    assert code == 0, err
    assert "flagged" not in [a.key for a in ANALYSES]
    return (out / "latest").resolve()


def test_the_toy_is_in_summary_json_with_its_small_count_withheld(toy_run: Path) -> None:
    summary = json.loads((toy_run / "summary.json").read_text())
    groups = summary["flagged"]["groups"]
    assert groups["srp"] == {"flagged": "<5", "not_flagged": "[withheld]"}
    assert groups["hmgcr"]["flagged"] == LARGE
    assert groups["hmgcr"]["not_flagged"] == summary["groups"]["hmgcr"] - LARGE
    assert groups["seronegative"]["flagged"] == 0
    # the schema generated with the toy registered describes the run's summary
    register(Analysis("flagged", flagged_by_group(set()), FlaggedByGroup, TITLE))
    try:
        schema = summary_schema()
    finally:
        unregister("flagged")
    jsonschema.validate(summary, schema)
    assert schema["properties"]["flagged"] == FlaggedByGroup.json_schema()


def test_the_toy_is_a_section_of_the_html_and_markdown_reports(toy_run: Path) -> None:
    html = (toy_run / "report.html").read_text()
    section = html[html.index(f'<h2 id="analysis-flagged">Table 8. {TITLE}</h2>') :]
    section = section[: section.index("</table>")]
    assert "<td>flagged</td>" in section
    assert '<td class="num">&lt;5</td>' in section
    assert f'<td class="num">{LARGE}</td>' in section
    md = (toy_run / "report.md").read_text()
    section = md[md.index(f"## Table 8. {TITLE}") :]
    section = section[: section.index("\n\n", section.index("|"))]
    assert f"| flagged | {LARGE} | \\<5 | 0 |" in section
    assert METHOD in md and METHOD in html


def test_the_toy_is_a_table_of_the_word_and_excel_outputs(toy_run: Path) -> None:
    for text in (docx_text(toy_run / "tables.docx"), xlsx_text(toy_run / "tables.xlsx")):
        assert f"Table 8. {TITLE}" in text
        tail = text[text.index(f"Table 8. {TITLE}") :]
        assert "<5" in tail and "[withheld]" in tail and str(LARGE) in tail


def test_registering_a_taken_name_or_an_incomplete_result_fails() -> None:
    with pytest.raises(ConfigError, match="'malignancy' is registered already"):
        register(Analysis("malignancy", flagged_by_group(set()), FlaggedByGroup, TITLE))
    with pytest.raises(ConfigError, match="has no to_dict, disclosure, method, json_schema"):
        register(Analysis("flagged", flagged_by_group(set()), dict, TITLE))
    with pytest.raises(ConfigError, match="no analysis 'flagged'"):
        unregister("flagged")


@pytest.fixture(autouse=True)
def _registry_unchanged() -> Iterator[None]:
    before = list(ANALYSES)
    yield
    assert before == ANALYSES
