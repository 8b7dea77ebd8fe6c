"""The course analyses' options from a pipeline (``[analysis.course.NAME]``): each option
reaches its analysis (a number of its result changes with it), a bad section, key or value
is refused with one line (exit 2 from the command line), and the manifest records the
options given (and nothing when none is given, so that earlier runs keep their digest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imnm_cohort.analysis.course_options import CourseOptions, course_options
from imnm_cohort.analysis.malignancy import MalignancyOptions
from imnm_cohort.analysis.registry import ANALYSES, Cohort
from imnm_cohort.classify.procedure import classify
from imnm_cohort.errors import ConfigError
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.synth_events import synthesize_events
from imnm_cohort.validation.derive import derive_patients
from imnm_cohort.validation.events import validate_events
from imnm_cohort.validation.validate import validate_extract
from imnm_cohort.vocabulary import IMNM_GROUPS
from tests.pipeline.readers import run


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    registry = synthesize_events(250, seed=5)
    result = validate_extract(registry.patients)
    tables = validate_events(dict(registry.tables), result)
    derived = derive_patients(result, tables)
    return Cohort(classify(derived.valid), IMNM_GROUPS, MalignancyOptions(), tables=tables)


def _result(cohort: Cohort, key: str, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The registry entry ``key`` run on the cohort with the options of ``given``."""
    (entry,) = (a for a in ANALYSES if a.key == key)
    options = course_options({key: given}) if given is not None else CourseOptions()
    return entry.compute(Cohort(**{**cohort.__dict__, "course": options})).to_dict()


def _hmgcr(result: dict[str, Any], *path: str) -> Any:
    node = result
    for part in path:
        node = node[part]
    return node


#: (analysis, option given, what of its result changes).
CASES = [
    ("ck_course", {"horizon_months": 6}, ("model", "slopes", "hmgcr", "estimate")),
    ("ck_course", {"times_months": [3]}, ("normalisation", "groups", "hmgcr", "at_months")),
    ("strength", {"full_percent": 60}, ("full_strength", "12", "hmgcr", "full")),
    ("strength", {"statistic": "median"}, ("series", "statistic")),
    ("response", {"change": "baseline"}, ("groups", "hmgcr", "landmarks_months", "12",
                                          "categories", "major", "n")),
    ("response", {"partial": True}, ("visits", "lower_bound")),
    ("response", {"landmark_window_days": 1}, ("groups", "hmgcr", "landmarks_months", "12",
                                                "assessed")),
    ("treatments", {"second_line_drugs": ["rituximab"]},
     ("second_line", "groups", "hmgcr", "events")),
    ("relapse", {"glucocorticoid_increase": False}, ("groups", "hmgcr", "relapses")),
    ("relapse", {"merge_days": 365}, ("groups", "hmgcr", "relapses")),
    ("relapse", {"mcf_months": [12, 24]}, ("groups", "hmgcr", "mcf")),
    ("titres", {"window_days": 3}, ("groups", "hmgcr", "with_level")),
]  # fmt: skip


@pytest.fixture(scope="module")
def defaults(cohort) -> dict[str, dict[str, Any]]:
    """Each course analysis's result with the toolkit's defaults, and with its section
    given empty (the same defaults)."""
    keys = dict.fromkeys(key for key, _, _ in CASES)
    return {
        **{key: _result(cohort, key) for key in keys},
        **{f"{key}, empty": _result(cohort, key, {}) for key in keys},
    }


@pytest.mark.parametrize(("key", "given", "path"), CASES, ids=lambda v: str(v)[:40])
def test_each_option_reaches_its_analysis(cohort, defaults, key, given, path):
    before = _hmgcr(defaults[key], *path)
    after = _hmgcr(_result(cohort, key, given), *path)
    assert before != after, (key, given, before)
    # An empty section is the defaults themselves: nothing changes.
    assert _hmgcr(defaults[f"{key}, empty"], *path) == before


def test_the_result_says_which_options_were_used(cohort):
    response = _result(cohort, "response", {"change": "baseline", "partial": True})
    assert response["options"]["change"] == "baseline" and response["options"]["partial"]
    relapse = _result(cohort, "relapse", {"k": 3})
    assert relapse["definition"]["k"] == 3.0


PIPELINE = """[input]
path = "patients.csv"

[input.tables]
visits = "visits.csv"

{course}
"""


def _pipeline(folder: Path, course: str) -> Path:
    (folder / "patients.csv").write_text("patient_id\n")
    (folder / "visits.csv").write_text("patient_id\n")
    path = folder / "pipeline.toml"
    path.write_text(PIPELINE.format(course=course))
    return path


def test_a_pipeline_sets_the_options_and_the_manifest_records_them(tmp_path):
    plain = load_pipeline(_pipeline(tmp_path, ""))
    assert plain.course == CourseOptions()
    assert "course" not in plain.to_dict()["analysis"]
    config = load_pipeline(
        _pipeline(
            tmp_path,
            '[analysis.course.response]\nchange = "baseline"\nbaseline_window_days = [-60, 30]\n'
            "[analysis.course.relapse]\nk = 3\nmcf_months = [12, 24]\n"
            '[analysis.course.ck_course]\nhorizon_months = "all"\n',
        )
    )
    assert config.course.response.change == "baseline"
    assert config.course.response.baseline_window_days == (-60.0, 30.0)
    assert (config.course.relapse.k, config.course.mcf_months) == (3.0, (12.0, 24.0))
    assert config.course.ck_course.horizon_months is None
    recorded = config.to_dict()["analysis"]["course"]
    assert list(recorded) == ["ck_course", "response", "relapse"]
    assert recorded["response"]["change"] == "baseline"
    assert recorded["relapse"]["mcf_months"] == [12.0, 24.0]
    assert config.digest() != plain.digest()


BAD = [
    ('[analysis.course.response]\nchange = "range"', "[analysis.course.response] change"),
    ("[analysis.course.response]\nchnage = 1", "unknown key 'chnage'"),
    ("[analysis.course.relapse]\nk = 0.5", "[analysis.course.relapse] relapse k must be"),
    ("[analysis.course.relapse]\nk = nan", "k = nan is out of range"),
    ("[analysis.course.rash]\nk = 1", "unknown section [analysis.course.rash]"),
    ('[analysis.course.ck_course]\nstatistic = "mode"', "statistic must be one of"),
    ("[analysis.course.strength]\nbins_months = [0, 3, 3]", "bins_months must be"),
    ('[analysis.course.strength]\nhorizon_months = "none"', 'a number or "all"'),
    ('[analysis.course.titres]\nmethods = ["blot"]', "methods must be quantitative"),
    ("[analysis.course.response]\nbaseline_window_days = [30]", "a list of 2 numbers"),
    ('[analysis.course.treatments]\nsecond_line_drugs = ["x"]', "unknown drug x"),
    ("[analysis.course.ck_course]\nbaseline_window_days = 1.5", "a whole number"),
    ('[analysis.course.relapse]\nck_rise = "yes"', "ck_rise must be true or false"),
    ("[analysis.course.relapse]\nmcf_months = [12, 6]", "months above 0, increasing"),
    ("[analysis.course.response]\nlandmark_window_days = 1e9", "out of range"),
    ("[analysis]\ncourse = 3", "[analysis] course must be"),
]


@pytest.mark.parametrize(("course", "words"), BAD, ids=[w for _, w in BAD])
def test_a_bad_option_is_refused_in_one_line(tmp_path, course, words):
    path = _pipeline(tmp_path, course)
    with pytest.raises(ConfigError) as caught:
        load_pipeline(path)
    message = str(caught.value)
    assert words in message and message.startswith(str(path)) and "\n" not in message


def test_the_command_line_refuses_a_bad_option_with_exit_2(tmp_path):
    path = _pipeline(tmp_path, '[analysis.course.response]\nchange = "range"')
    code, _, err = run("run", str(path))
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "[analysis.course.response]" in err


def test_the_run_s_analyse_stage_passes_the_pipeline_s_options(cohort):
    from imnm_cohort.pipeline.config import PipelineConfig
    from imnm_cohort.pipeline.stages import analyse

    course = course_options({"response": {"change": "baseline"}, "relapse": {"k": 4}})
    config = PipelineConfig(source=None, extract=None, course=course)
    analysis = analyse(config, cohort.patients, tables=cohort.tables)
    summary = analysis.to_dict()
    assert summary["response"]["options"]["change"] == "baseline"
    assert summary["relapse"]["definition"]["k"] == 4.0
    # The report's methods say which percent-change basis and which k were used.
    methods = " ".join(analysis.methods())
    assert "percent change: every measure relative to baseline" in methods
    assert "above 4 x ULN" in methods
