"""An analysis that reads event tables (``Analysis.tables``): it runs only when the run has
them, and otherwise leaves nothing in the summary, the tables, the sections or the methods;
the course analyses are registered that way."""

from __future__ import annotations

import pandas as pd

from imnm_cohort.analysis import ANALYSES, CohortAnalysis, registered
from imnm_cohort.analysis.malignancy import MalignancyOptions
from imnm_cohort.analysis.registry import Cohort
from imnm_cohort.report.render import report_sections
from imnm_cohort.validation.events import EventTables
from imnm_cohort.vocabulary import IMNM_GROUPS
from tests.unit.test_analysis_registry import Stub, stub

COURSE = {
    "ck_course": ("visits",),
    "strength": ("visits",),
    "response": ("visits",),
    "treatments": ("treatments",),
    "relapse": ("visits", "treatments"),
}


def _cohort(tables: EventTables | None) -> Cohort:
    return Cohort(pd.DataFrame(), IMNM_GROUPS, MalignancyOptions(), tables=tables)


def test_the_course_analyses_are_registered_with_the_tables_they_read():
    assert {a.key: a.tables for a in ANALYSES if a.tables} == COURSE


def test_an_analysis_runs_only_when_every_table_it_reads_is_given():
    relapse = next(a for a in ANALYSES if a.key == "relapse")
    visits_only = EventTables({"visits": object()})  # type: ignore[dict-item]
    both = EventTables({"visits": object(), "treatments": object()})  # type: ignore[dict-item]
    assert not relapse.runs_on(_cohort(None))
    assert not relapse.runs_on(_cohort(visits_only))
    assert relapse.runs_on(_cohort(both))
    table_one = next(a for a in ANALYSES if a.key == "table_one")
    assert table_one.runs_on(_cohort(None))  # an analysis of the patient table alone


def test_without_its_tables_it_has_no_key_no_table_no_section_and_no_method():
    entry = stub("rash", tables=("visits",))
    with registered(entry):
        absent = CohortAnalysis({}, {"rash": None}, (entry,))
        assert "rash" not in absent.to_dict()  # no key, not even a null
        assert absent.methods() == []
        summary = absent.to_dict()
        assert not entry.shown_in(summary)
        assert "rash" not in {s.name for s in report_sections(summary)}
        assert "rash" in {s.name for s in report_sections()}  # no summary: every section
        ran = CohortAnalysis({}, {"rash": Stub(7)}, (entry,))
        assert ran.to_dict()["rash"] == {"n": 7}
        assert entry.shown_in(ran.to_dict())
        assert "rash" in {s.name for s in report_sections(ran.to_dict())}


def test_an_analysis_that_does_not_apply_stays_a_null_as_before():
    entry = stub("rash", applies=lambda c: False)
    assert CohortAnalysis({}, {"rash": None}, (entry,)).to_dict()["rash"] is None
    assert entry.shown_in({"rash": None})
