"""The course figures: built from the published summary alone (a withheld value or a bin
without enough patients is not drawn), drawn without error, and held by the self-check to
values the summary publishes."""

from __future__ import annotations

import dataclasses

from imnm_cohort.analysis.course_plotdata import course_figures
from imnm_cohort.disclosure.figures import CourseFigure, FigureData, Panel
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


def test_the_ck_series_draws_bins_with_the_minimum_count_of_patients_only():
    ck = {
        **SUMMARY["ck_course"],
        "series": {
            "statistic": "median",
            "groups": {
                "hmgcr": {
                    "0-3": {"patients": 9, "estimate": 1.25, "ci": [1.1, 1.4]},
                    "3-6": {"patients": "<5", "estimate": None, "ci": None},
                    "6-12": {"patients": 4, "estimate": 0.5, "ci": None},  # below k = 5
                    "12-18": {"patients": 7, "estimate": "[withheld]", "ci": None},
                    "18-24": {"patients": 6, "estimate": 0.2, "ci": None},
                },
                "srp": {"0-3": {"patients": "<5", "estimate": None, "ci": None}},
            },
        },
    }
    figures = {f.name: f for f in course_figures({"ck_course": ck}, 5)}
    assert list(figures) == ["ck_normalisation", "ck_series"]
    (line,) = figures["ck_series"].panels[0].lines
    assert (line.label, line.x, line.y) == ("hmgcr", (1.5, 21.0), (1.25, 0.2))
    assert (line.lower, line.upper) == ((1.1, None), (1.4, None))
    assert "median log10(CK / ULN)" in figures["ck_series"].title
    drawn = Figures(_data(tuple(figures.values())))
    assert 'id="ck_series--hmgcr' in drawn.svg("ck_series")
    assert check_figures(_data(tuple(figures.values())), {"ck_course": ck}).findings == ()


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


#: The response, relapse and titre parts of a published summary (hand-written): a
#: landmark or month whose count of patients is below the minimum (5) or withheld, and a
#: withheld value, beside published ones.
MORE = {
    "response": {
        "groups": {
            "hmgcr": {"landmarks_months": {
                "6": {"assessed": 20, "categories": {
                    "none": {"n": 5, "percent": 25.0, "ci": [8.7, 49.1]},
                    "minimal": {"n": "<5", "percent": "[withheld]", "ci": "[withheld]"},
                    "moderate": {"n": 11, "percent": 55.0, "ci": [31.5, 76.9]},
                    "major": {"n": 0, "percent": 0.0, "ci": [0.0, 16.8]}}},
                "12": {"assessed": 3, "categories": {  # below 5 (control was off)
                    "none": {"n": 0, "percent": 0.0, "ci": [0.0, 70.8]},
                    "minimal": {"n": 1, "percent": 33.3, "ci": [0.8, 90.6]},
                    "moderate": {"n": 1, "percent": 33.3, "ci": [0.8, 90.6]},
                    "major": {"n": 1, "percent": 33.3, "ci": [0.8, 90.6]}}},
                "24": {"assessed": "[withheld]", "categories": {
                    "none": {"n": 6, "percent": 40.0, "ci": [16.3, 67.7]}}},
            }},
            "srp": {"landmarks_months": {}},
        }
    },
    "relapse": {
        "min_count": 5,
        "groups": {
            "hmgcr": {"mcf": {
                "6": {"at_risk": 40, "estimate": 0.0, "se": 0.0, "ci": None},
                "12": {"at_risk": 30, "estimate": 0.2, "se": 0.05, "ci": [0.12, 0.33]},
                "24": {"at_risk": 4, "estimate": 0.5, "se": 0.2, "ci": [0.23, 1.1]},
                "36": {"at_risk": None, "estimate": None, "se": None, "ci": None},
            }},
            "srp": {"mcf": {
                "6": {"at_risk": "<5", "estimate": "[withheld]", "se": "[withheld]",
                      "ci": "[withheld]"},
            }},
        },
    },
    "titres": {
        "groups": {
            "hmgcr": {"n": 30, "with_level": 12, "with_cutoff": 12, "unit": "cu",
                      "value": {"median": 160.0, "q1": 110.0, "q3": 240.0},
                      "times_cutoff": {"median": 8.0, "q1": 5.5, "q3": 12.0}},
            "srp": {"n": 9, "with_level": 3, "with_cutoff": 3, "unit": "cu",
                    "value": {"median": 7.0, "q1": 5.0, "q3": 9.0},
                    "times_cutoff": {"median": 0.35, "q1": 0.25, "q3": 0.45}},
            "seronegative": {"n": 20, "with_level": "<5", "with_cutoff": "<5", "unit": None,
                             "value": "[withheld]", "times_cutoff": "[withheld]"},
        }
    },
}  # fmt: skip


def _more(min_count: int = 5) -> dict[str, CourseFigure]:
    return {f.name: f for f in course_figures(MORE, min_count)}


def test_the_response_figure_draws_published_shares_of_enough_assessed_patients():
    figure = _more()["response_categories"]
    assert [p.title for p in figure.panels] == ["no improvement", "minimal", "moderate", "major"]
    none, minimal, moderate, major = figure.panels
    # 12 months: 3 assessed, below the minimum count; 24 months: the count is withheld.
    (line,) = none.lines
    assert (line.label, line.x, line.y, line.lower, line.upper) == (
        "hmgcr", (6.0,), (25.0,), (8.7,), (49.1,),
    )  # fmt: skip
    assert minimal.lines == ()  # withheld at 6 months
    assert [(p.x, p.y) for p in moderate.lines] == [((6.0,), (55.0,))]
    assert [(p.x, p.y) for p in major.lines] == [((6.0,), (0.0,))]
    # with control off (minimum count 0), the 12-month landmark of 3 patients is drawn
    (line,) = _more(0)["response_categories"].panels[1].lines
    assert (line.x, line.y) == ((12.0,), (33.3,))


def test_the_relapse_figure_draws_the_published_mcf_where_enough_patients_are_followed():
    figure = _more()["relapse_mcf"]
    assert figure.kind == "steps"
    (line,) = figure.panels[0].lines  # srp: withheld
    # 24 months: 4 under observation, below the minimum count; 36: not given
    assert (line.label, line.x, line.y) == ("hmgcr", (6.0, 12.0), (0.0, 0.2))
    assert (line.lower, line.upper) == ((None, 0.12), (None, 0.33))
    (line,) = _more(4)["relapse_mcf"].panels[0].lines
    assert line.x == (6.0, 12.0, 24.0)


def test_the_titre_figure_draws_group_medians_with_their_iqr_never_a_patient():
    figure = _more()["hmgcr_titre"]
    assert figure.kind == "groups" and figure.log
    (line,) = figure.panels[0].lines  # srp: 3 patients; seronegative: withheld
    assert (line.label, line.y, line.lower, line.upper) == ("hmgcr", (8.0,), (5.5,), (12.0,))
    assert figure.ylabel == "multiple of the lab's cut-off"


def test_without_cutoffs_the_titre_figure_shows_values_of_one_shared_unit_only():
    groups = {
        g: {**r, "times_cutoff": {"median": None, "q1": None, "q3": None}, "with_cutoff": 0}
        for g, r in MORE["titres"]["groups"].items()
    }
    (figure,) = course_figures({"titres": {"groups": groups}}, 3)
    assert [(p.label, p.y) for p in figure.panels[0].lines] == [
        ("hmgcr", (160.0,)),
        ("srp", (7.0,)),
    ]
    assert figure.ylabel == "level (cu)"
    groups["srp"] = {**groups["srp"], "unit": "U/mL"}  # two units: not on one axis
    (figure,) = course_figures({"titres": {"groups": groups}}, 3)
    assert figure.panels[0].lines == ()


def test_a_figure_with_nothing_published_says_so_rather_than_failing():
    withheld = {
        "response": {"groups": {"hmgcr": {"landmarks_months": {"6": {"assessed": "<5"}}}}},
        "relapse": {"groups": {"hmgcr": {"mcf": {"6": {"at_risk": None, "estimate": None}}}}},
        "titres": {"groups": {"hmgcr": {"with_cutoff": "<5", "times_cutoff": "[withheld]",
                                        "with_level": "<5", "value": "[withheld]"}}},
    }  # fmt: skip
    published = course_figures(withheld, 5)
    assert [f.name for f in published] == ["response_categories", "relapse_mcf", "hmgcr_titre"]
    assert all(not p.lines for f in published for p in f.panels)
    figures = Figures(_data(published))
    for name in ("response_categories", "relapse_mcf", "hmgcr_titre"):
        assert "No value to show" in figures.svg(name), name
    assert not figures.two_columns("hmgcr_titre") and figures.two_columns("relapse_mcf")
    assert check_figures(_data(published), withheld).findings == ()


def test_the_new_figures_draw_and_the_self_check_holds_them_to_published_values():
    published = course_figures({**SUMMARY, **MORE}, 5)
    figures = Figures(_data(published))
    assert figures.names[-6:] == (
        "ck_normalisation", "strength", "drug_classes", "response_categories", "relapse_mcf",
        "hmgcr_titre",
    )  # fmt: skip
    assert 'id="relapse_mcf--hmgcr' in figures.svg("relapse_mcf")
    assert 'id="hmgcr_titre--hmgcr' in figures.svg("hmgcr_titre")
    assert 'id="response_categories-moderate-hmgcr' in figures.svg("response_categories")
    assert check_figures(_data(published), {**SUMMARY, **MORE}).findings == ()
    titre = published[-1]
    line = titre.panels[0].lines[0]
    forged = dataclasses.replace(titre, panels=(Panel("", (dataclasses.replace(line, y=(8.1,)),)),))
    (finding,) = check_figures(_data((*published[:-1], forged)), {**SUMMARY, **MORE}).findings
    assert finding.output == "figures/hmgcr_titre.svg"
