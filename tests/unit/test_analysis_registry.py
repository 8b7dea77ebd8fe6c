"""The registry of analyses: placement, methods, declarations, tracked estimates, tables,
report sections and the generated summary schema all follow it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from imnm_cohort.analysis import ANALYSES, Analysis, CohortAnalysis, register, registered
from imnm_cohort.disclosure.declarations import Count, Declaration
from imnm_cohort.errors import ConfigError
from imnm_cohort.pipeline.changes import tracked
from imnm_cohort.pipeline.summary_schema import SCHEMA_PATH, schema_text, summary_schema
from imnm_cohort.report.manuscript import analysis_table
from imnm_cohort.report.render import TABLE_TEMPLATE, registered_sections, report_sections
from imnm_cohort.report.table_render import to_markdown

ROOT = Path(__file__).resolve().parents[2]
REMAKE = "run `python -m imnm_cohort.pipeline.summary_schema` and commit the result"


@dataclass(frozen=True)
class Stub:
    """A result with one count."""

    n: int
    done: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n}

    def disclosure(self) -> Declaration:
        return Declaration(counts=(Count(("n",)),))

    def method(self) -> str:
        return f"stub {self.n}"

    @staticmethod
    def json_schema() -> dict[str, Any]:
        return {"type": "object", "properties": {"n": {"$ref": "#/$defs/count"}}}


def stub(key: str, **kw: Any) -> Analysis:
    return Analysis(key, lambda c: Stub(1), Stub, key.title(), **kw)


def test_the_committed_summary_schema_is_generated_from_the_registry():
    assert (ROOT / SCHEMA_PATH).read_text() == schema_text(), REMAKE


def test_each_analysis_is_described_by_its_result_type_in_the_schema():
    schema = summary_schema()
    comparisons = schema["properties"]["comparisons"]
    nested = [a.key for a in ANALYSES if a.under == ("comparisons",)]
    assert (
        comparisons["required"]
        == nested
        == [
            "onset_age",
            "ck_peak",
            "statin_latency",
            "malignancy",
        ]
    )
    own = {"criteria", "counts", "groups", "comparisons", "tables"}  # tables: event tables
    assert set(schema["properties"]) == own | {a.key for a in ANALYSES if not a.under}
    # an analysis that may not run (the SIR without a rate file) may be null
    assert schema["properties"]["population_rates"]["oneOf"][0] == {"type": "null"}
    assert "$defs" not in schema["properties"]["fine_gray"]
    assert {"modelGroups", "groupSummary", "bands", "ratio", "bandRate"} <= set(schema["$defs"])


def test_cohort_analysis_places_results_in_registry_order_comparisons_first():
    analyses = (stub("first"), stub("inner", under=("comparisons",)), stub("off", name="o"))
    results: dict[str, Any] = {"first": Stub(1), "inner": Stub(2), "o": None}
    a = CohortAnalysis({"hmgcr": 3}, results, analyses)
    body = a.to_dict()
    assert list(body) == ["groups", "comparisons", "first", "off"]
    assert body["comparisons"] == {"inner": {"n": 2}}
    assert body["off"] is None
    assert a["inner"] == Stub(2)
    paths = [c.path for c in a.disclosure().counts]
    assert paths == [("groups", "hmgcr"), ("comparisons", "inner", "n"), ("first", "n")]
    assert a.methods() == ["stub 1", "stub 2"]
    not_done = CohortAnalysis({}, results, (stub("first", ran=lambda r: False),))
    assert not_done.methods() == []


def test_an_analysis_cannot_take_the_place_of_the_run_s_own_keys():
    for key in ("validation", "groups", "comparisons"):
        with pytest.raises(ConfigError, match=f"summary.json's '{key}' is the run's own"):
            register(stub(key))
    with pytest.raises(ConfigError, match="'counts' is the run's own"):
        register(stub("extra", under=("counts",)))
    with registered(stub("extra", under=("comparisons",))) as inner:
        assert inner.path == ("comparisons", "extra")
    assert "extra" not in [a.key for a in ANALYSES]


def test_tracked_estimates_are_the_registry_s():
    # the hand-written list that the registry replaced (pipeline/changes.py, TRACKED)
    assert tracked() == (
        "groups.*",
        "comparisons.onset_age.p_value",
        "comparisons.onset_age.groups.*.median",
        "comparisons.ck_peak.p_value",
        "comparisons.ck_peak.groups.*.median",
        "comparisons.statin_latency.p_value",
        "comparisons.statin_latency.groups.*.median",
        "comparisons.malignancy.p_value",
        "comparisons.malignancy.groups.*.cumulative_incidence",
        "comparisons.malignancy.groups.*.rate_per_1000py",
    )
    with registered(stub("extra", tracked=("n",))):
        assert tracked()[-1] == "extra.n"


def test_a_result_without_groups_is_a_table_of_its_values():
    summary = {"extra": {"n": "<5", "model": {"terms": [{"ratio": 1.25}]}}}
    table = analysis_table(summary, stub("extra"), 9)
    assert table.title == "Table 9. Extra"
    assert [r.label for r in table.rows] == ["n", "model.terms[0].ratio"]
    assert [r.cells[0][0].path for r in table.rows] == ["extra.n", "extra.model.terms[0].ratio"]
    assert [r.cell_text(0) for r in table.rows] == ["<5", "1.2"]


def test_a_result_with_groups_has_a_column_per_group_and_notes_for_the_rest():
    summary = {"extra": {"groups": {"hmgcr": {"n": 12}, "srp": {"n": "<5"}}, "p_value": 0.04}}
    table = analysis_table(summary, stub("extra"), 9)
    assert table.columns == ("anti-HMGCR", "anti-SRP")
    assert [table.rows[0].cell_text(i) for i in range(2)] == ["12", "<5"]
    assert table.footnotes == ("p value: 0.040.",)
    assert analysis_table({"extra": None}, stub("extra"), 9).footnotes == (
        "Not computed for this cohort.",
    )


def test_the_reports_show_a_registered_analysis_after_the_toolkit_s_own():
    own = [s.name for s in registered_sections()]
    assert [s.name for s in report_sections()] == own
    with registered(stub("extra")):
        sections = report_sections()
        assert [s.name for s in sections] == [*own, "extra"]
        # The section is the analysis's manuscript table, as Word and Excel show it.
        assert sections[-1].template == TABLE_TEMPLATE
        lines = to_markdown(analysis_table({"extra": {"n": 7}}, stub("extra"), 8), [])
        assert lines[:5] == ["### Table 8. Extra", "", "|  |  |", "|---|---|", "| n | 7 |"]
        assert sections[-1].markdown({"markdown": lines}) == lines
    assert [s.name for s in report_sections()] == own
