"""The course figures: built from the published summary alone (a withheld value or a bin
without enough patients is not drawn), drawn without error, and held by the self-check to
values the summary publishes."""

from __future__ import annotations

import dataclasses

from imnm_cohort.analysis.course_plotdata import CourseFigure, Panel, course_figures
from imnm_cohort.analysis.plotdata import FigureData
from imnm_cohort.pipeline.selfcheck import check_figures
from imnm_cohort.report.figures import Figures

#: A published summary's course parts, as suppression leaves them (hand-written).
SUMMARY = {
    "ck_course": {
        "normalisation": {
            "times_months": [6.0, 12.0],
            "groups": {
                "hmgcr": {"at_months": {"6": {"estimate": 0.25, "ci": [0.1, 0.4]},
                                        "12": {"estimate": "[withheld]", "ci": None}}},
                "srp": {"at_months": {"6": {"estimate": None, "ci": None},
                                      "12": {"estimate": None, "ci": None}}},
            },
        }
    },
    "strength": {
        "series": {
            "statistic": "mean",
            "groups": {
                "hmgcr": {"0-3": {"patients": 9, "estimate": 70.5, "ci": [65.0, 76.0]},
                          "3-6": {"patients": "<5", "estimate": None, "ci": None}},
            },
        }
    },
    "treatments": {
        "classes_over_time": {
            "bins_months": [[0.0, 3.0], [3.0, 6.0]],
            "groups": {
                "hmgcr": [
                    {"bin": 0, "n": 9, "percent": {"glucocorticoid": 44.4, "ivig": "[withheld]"}},
                    {"bin": 1, "n": 8, "percent": {"glucocorticoid": 0.0, "ivig": 0.0}},
                ],
                "srp": [],
            },
        }
    },
}  # fmt: skip


def test_only_published_values_are_drawn():
    ck, strength, classes = course_figures(SUMMARY)
    (line,) = ck.panels[0].lines  # srp has no estimate: no line
    assert (line.label, line.x, line.y, line.lower, line.upper) == (
        "hmgcr", (6.0,), (0.25,), (0.1,), (0.4,),
    )  # fmt: skip
    (line,) = strength.panels[0].lines
    assert (line.x, line.y) == ((1.5,), (70.5,))  # the 3-6 bin has fewer than k patients
    hmgcr, srp = classes.panels
    assert [(p.label, p.x, p.y) for p in hmgcr.lines] == [
        ("glucocorticoid", (1.5, 4.5), (44.4, 0.0))
    ]
    assert srp.lines == ()  # ivig is all withheld or 0; srp shows no bin


def test_without_course_results_there_is_no_course_figure():
    assert course_figures({"survival": {}}) == ()


def _data(course: tuple[CourseFigure, ...]) -> FigureData:
    return FigureData((), (), (), (), (), tuple(range(6)), 5, course)


def test_the_figures_draw_and_name_each_course_figure():
    figures = Figures(_data(course_figures(SUMMARY)))
    assert figures.names[-3:] == ("ck_normalisation", "strength", "drug_classes")
    assert 'id="strength--hmgcr' in figures.svg("strength")
    assert figures.two_columns("drug_classes")


def test_the_self_check_finds_a_course_value_the_summary_does_not_publish():
    published = course_figures(SUMMARY)
    assert check_figures(_data(published), SUMMARY).findings == ()
    ck = published[0]
    line = ck.panels[0].lines[0]
    forged = dataclasses.replace(line, upper=(0.41,))
    bad = dataclasses.replace(ck, panels=(Panel("", (forged,)),))
    (finding,) = check_figures(_data((bad, *published[1:])), SUMMARY).findings
    assert finding.output == "figures/ck_normalisation.svg" and "hmgcr" in finding.path
