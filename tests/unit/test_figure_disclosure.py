"""Figures follow the published numbers: curves read back from the SVG files.

Each cohort runs through the pipeline's own stages (read, validate, classify, analyse,
disclose); the figures are rendered to SVG and every curve is read back from its path,
mapped to data coordinates through the axis ticks. A curve must not show an estimate the
summary withholds, must stop where fewer than k patients remain at risk, and must drop
only by at least k events.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import analyse
from imnm_cohort.analysis.competing import EVENT
from imnm_cohort.analysis.malignancy import time_to_cancer
from imnm_cohort.analysis.plotdata import step_times
from imnm_cohort.disclosure.figures import FigureData
from imnm_cohort.disclosure.suppression import WITHHELD
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.report.figures import Figures
from tests.corpus.cohorts import patients, write_csv

SVG = "{http://www.w3.org/2000/svg}"
K = 5
ONSET = "2015-06-01"  # the base patient's onset date


# --------------------------------------------------------------------------- reading SVG


def _ticks(svg: ET.Element, axis: str) -> list[tuple[float, float]]:
    """(pixel, value) of each labelled tick of the curve axes (the at-risk table has none)."""
    out = []
    for tick in svg.iter(f"{SVG}g"):
        if not re.fullmatch(f"{axis}tick_\\d+", tick.get("id", "")):
            continue
        use = tick.find(f".//{SVG}use")
        text = tick.find(f".//{SVG}text")
        if use is None or text is None or not (text.text or "").strip():
            continue
        pixel = float(use.get("x" if axis == "x" else "y", "nan"))
        out.append((pixel, float(text.text.replace("\u2212", "-"))))
    return out


def _linear(ticks: list[tuple[float, float]]) -> tuple[float, float]:
    pixels, values = np.array(ticks).T
    slope, intercept = np.polyfit(pixels, values, 1)
    assert np.allclose(slope * pixels + intercept, values, atol=1e-6)  # a linear axis
    return slope, intercept


def read_curves(svg_text: str) -> dict[str, np.ndarray]:
    """Every curve of a curve figure, by group: its path's points in data coordinates."""
    svg = ET.fromstring(svg_text)
    lines = [g for g in svg.iter(f"{SVG}g") if g.get("id", "").startswith("curve-")]
    if not lines:
        return {}
    (ax, bx), (ay, by) = _linear(_ticks(svg, "x")), _linear(_ticks(svg, "y"))
    curves = {}
    for group in lines:
        gid = group.get("id", "")
        path = group.find(f"{SVG}path")
        assert path is not None
        numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        pixels = np.array(numbers).reshape(-1, 2)
        curves[gid.removeprefix("curve-")] = np.column_stack(
            (ax * pixels[:, 0] + bx, ay * pixels[:, 1] + by)
        )
    return curves


def drops(points: np.ndarray, start: float) -> list[tuple[float, float]]:
    """(time, value) where a step curve changes value: its drops (or rises)."""
    out, last = [], start
    for t, v in points:
        if not np.isclose(v, last, atol=1e-6):
            out.append((t, v))
            last = v
    return out


# --------------------------------------------------------------------------- cohorts


@dataclass(frozen=True)
class Run:
    classified: Any
    raw: dict[str, Any]  # the summary before disclosure control
    published: dict[str, Any]
    figures: FigureData
    svg: dict[str, str]


def run_stages(tmp_path: Path, rows: list[dict[str, Any]], rounding: int = 0) -> Run:
    extract = write_csv(rows, tmp_path / "cohort.csv")
    config = PipelineConfig(
        source=None, extract=extract, output_root=tmp_path / "out", rounding=rounding
    )
    result = stages.validate(config, stages.read(config))
    _, classified = stages.classify(config, result)
    analysis = analyse(classified, config.malignancy, n_boot=20)
    disclosed = stages.disclose(config, result, classified, analysis)
    raw = stages.build_summary(config, result, classified, analysis)
    figures = Figures(disclosed.figures)
    svg = {name: figures.svg(name) for name in ("survival", "cancer_incidence")}
    return Run(classified, raw, disclosed.summary.data, disclosed.figures, svg)


def group_rows(rows: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["patient_id"].startswith(prefix)]


def eleven_with_one_death() -> list[dict[str, Any]]:
    """The reported case: 11 anti-HMGCR patients, one death at half a year with 9 at risk
    (two left follow-up before it), so that survival at 3 years is 8/9; and 24
    seronegative patients without a death."""
    rows = patients({"hmgcr": 11, "seronegative": 24})
    hmgcr = group_rows(rows, "HM")
    for r in hmgcr:
        r["last_followup_date"] = "2020-06-01"
    hmgcr[0]["last_followup_date"] = "2015-07-01"
    hmgcr[1]["last_followup_date"] = "2015-08-01"
    hmgcr[2].update(death_date="2015-12-01", last_followup_date="2015-12-01")
    return rows


def shown_and_small() -> list[dict[str, Any]]:
    """30 anti-HMGCR patients (10 deaths before 3 years, 6 cancers; a monthly grid) and
    12 seronegative patients (6 deaths, 4 of them in the first year; a yearly grid)."""
    rows = patients({"hmgcr": 30, "seronegative": 12})
    hmgcr = group_rows(rows, "HM")
    for i, r in enumerate(hmgcr):
        r["last_followup_date"] = f"{2016 + i % 6}-0{1 + i % 9}-15"
    deaths = ["2016-01-10", "2016-03-10", "2016-05-10", "2016-08-10", "2016-11-10"]
    deaths += ["2017-02-10", "2017-08-10", "2017-10-20", "2018-01-01", "2018-03-15"]
    for r, d in zip(hmgcr, deaths, strict=False):
        r.update(death_date=d, last_followup_date=d)
    cancers = ["2016-02-01", "2016-04-01", "2016-09-01", "2017-01-01", "2017-03-01"]
    for r, c in zip(hmgcr[10:], [*cancers, "2018-01-01"], strict=False):
        r.update(cancer_date=c, cancer_icd10="C50.9")
    sero = group_rows(rows, "SE")
    for r in sero:
        r["last_followup_date"] = "2021-06-01"
    deaths = ["2015-09-01", "2016-02-01", "2016-03-01", "2016-04-01", "2017-08-01", "2018-02-01"]
    for r, d in zip(sero, deaths, strict=False):
        r.update(death_date=d, last_followup_date=d)
    return rows


# --------------------------------------------------------------------------- the checks


def _survival_inputs(run: Run, g: str) -> tuple[np.ndarray, np.ndarray]:
    member = (run.classified["imnm_group"].astype(str) == g).to_numpy()
    follow = run.classified["followup_years"].to_numpy(dtype=float)[member]
    died = run.classified["death_date"].notna().to_numpy()[member]
    return follow, follow[died]


def _incidence_inputs(run: Run, g: str) -> tuple[np.ndarray, np.ndarray]:
    from imnm_cohort.analysis.malignancy import MalignancyOptions

    tte = time_to_cancer(run.classified, MalignancyOptions())
    member = (run.classified["imnm_group"].astype(str) == g).to_numpy()
    member &= tte["at_risk"].to_numpy(bool)
    time = tte["time_years"].to_numpy()
    return time[member], time[member & (tte["event"].to_numpy() == EVENT)]


def withheld_estimates(run: Run) -> list[float]:
    """Every estimate at the horizon that the published summary withholds (raw values)."""
    out = []
    tables = (
        ("survival", run.raw["survival"], run.published["survival"], "survival_at_horizon"),
        (
            "malignancy",
            run.raw["comparisons"]["malignancy"],
            run.published["comparisons"]["malignancy"],
            "cumulative_incidence",
        ),
    )
    for _, raw, published, key in tables:
        for g, row in published["groups"].items():
            value = raw["groups"][g][key]
            if row[key] == WITHHELD and isinstance(value, float):
                out.append(value)
    return out


def check_figures(run: Run) -> dict[str, dict[str, np.ndarray]]:
    """The invariants on both curve figures, from the SVG; the curves read back."""
    read = {name: read_curves(text) for name, text in run.svg.items()}
    hidden = withheld_estimates(run)
    for name, start, inputs in (
        ("survival", 1.0, _survival_inputs),
        ("cancer_incidence", 0.0, _incidence_inputs),
    ):
        for g, points in read[name].items():
            durations, events = inputs(run, g)
            # Stops where fewer than k remain at risk: the k-th longest time at risk.
            assert points[:, 0].max() <= np.sort(durations)[-K] + 1e-6, (name, g)
            values = points[:, 1]
            for estimate in hidden:
                if not np.isclose(estimate, start):
                    assert not np.isclose(values, estimate, atol=1e-6).any(), (name, g)
            previous = -np.inf
            for t, _ in drops(points, start):
                between = int(((events > previous) & (events <= t + 1e-6)).sum())
                assert between >= K, (name, g, t, between)
                previous = t
    return read


# --------------------------------------------------------------------------- tests


def test_eleven_patients_with_one_death_draw_no_survival_curve(tmp_path):
    run = run_stages(tmp_path, eleven_with_one_death())
    hmgcr = run.published["survival"]["groups"]["hmgcr"]
    assert hmgcr["deaths"] == "<5" and hmgcr["survival_at_horizon"] == WITHHELD
    assert run.raw["survival"]["groups"]["hmgcr"]["survival_at_horizon"] == pytest.approx(8 / 9)
    read = check_figures(run)
    assert "hmgcr" not in read["survival"]  # no line, so no step in year 1 either
    assert "anti-HMGCR (not shown: fewer than 5 deaths)" in run.svg["survival"]
    assert "0.889" not in run.svg["survival"]
    (curve,) = (c for c in run.figures.survival if c.label == "hmgcr")
    # The group's size is shown (the death count is withheld, not the patients): the row
    # at risk starts at the summary's size and shows no count below the minimum.
    assert curve.at_risk[0] == run.published["survival"]["groups"]["hmgcr"]["n"] == 11
    assert all(n == WITHHELD or n >= K for n in curve.at_risk)


def test_curves_that_are_drawn_drop_only_by_k_events_and_meet_the_summary(tmp_path):
    run = run_stages(tmp_path, shown_and_small())
    read = check_figures(run)
    assert set(read["survival"]) == {"hmgcr", "seronegative"}
    assert "hmgcr" in read["cancer_incidence"]
    for g, points in read["survival"].items():
        published = run.published["survival"]["groups"][g]["survival_at_horizon"]
        at_three = points[points[:, 0] <= 3.0 + 1e-6][-1, 1]
        assert at_three == pytest.approx(published, abs=1e-6)  # the summary's own value
    # Four deaths in the first year of 12 patients: the yearly curve holds at 1 (it used to
    # drop by 4/12 at year 1), then drops at 3 years to the published estimate of 6/12.
    sero = read["survival"]["seronegative"]
    assert np.allclose(sero[sero[:, 0] < 3.0 - 1e-6, 1], 1.0)
    assert drops(sero, 1.0) == [(pytest.approx(3.0), pytest.approx(0.5))]
    # 30 patients: monthly steps, each of at least 5 deaths, none at a death's own time.
    steps = drops(read["survival"]["hmgcr"], 1.0)
    months = np.array([t for t, _ in steps]) * 12
    assert len(steps) == 2 and np.allclose(months, np.round(months), atol=1e-5)
    assert not np.isclose(steps[0][0], round(steps[0][0]), atol=1e-5)  # not a whole year
    _, died = _survival_inputs(run, "hmgcr")
    assert np.abs(np.subtract.outer(months / 12, died)).min() > 1e-3
    cancers = run.published["comparisons"]["malignancy"]["groups"]["hmgcr"]
    incidence = read["cancer_incidence"]["hmgcr"]
    at_three = incidence[incidence[:, 0] <= 3.0 + 1e-6][-1, 1]
    assert at_three == pytest.approx(cancers["cumulative_incidence"], abs=1e-6)


def test_a_group_with_fewer_than_k_at_risk_at_one_year_draws_no_curve(tmp_path):
    rows = patients({"hmgcr": 12, "seronegative": 12})
    for r in group_rows(rows, "HM"):
        r["last_followup_date"] = "2016-03-01"  # three quarters of a year each
    run = run_stages(tmp_path, rows)
    assert run.published["survival"]["groups"]["hmgcr"]["deaths"] == 0  # shown
    assert "hmgcr" not in read_curves(run.svg["survival"])
    assert "not shown: fewer than 5 patients at risk at 1 year" in run.svg["survival"]


def test_no_curve_under_the_rounding_policy(tmp_path):
    run = run_stages(tmp_path, shown_and_small(), rounding=5)
    assert run.published["survival"]["groups"]["hmgcr"]["survival_at_horizon"] == WITHHELD
    for name in ("survival", "cancer_incidence"):
        assert read_curves(run.svg[name]) == {}
        assert "not shown: estimates are withheld under rounding" in run.svg[name]
    for curve in run.figures.survival:
        assert all(isinstance(n, str) or n % 5 == 0 for n in curve.at_risk)  # rounded


def test_box_whiskers_need_k_values_beyond_them(tmp_path):
    run = run_stages(tmp_path, patients({"hmgcr": 120, "seronegative": 12}))
    boxes = {b.label: b for b in run.figures.onset_age}
    big, small = boxes["hmgcr"], boxes["seronegative"]
    assert small.p5 is None and small.p95 is None  # 12 values: whiskers would be extremes
    assert big.p5 is not None and big.p95 is not None
    ages = run.classified.loc[
        run.classified["imnm_group"].astype(str) == "hmgcr", "age_at_onset_years"
    ].to_numpy(dtype=float)
    assert (ages < big.p5).sum() >= K and (ages > big.p95).sum() >= K
    published = run.published["comparisons"]["onset_age"]["groups"]
    for label, box in boxes.items():
        assert box.n == published[label]["n"]
        assert box.median == pytest.approx(published[label]["median"])
        assert box.q1 == pytest.approx(published[label]["q1"])


# --------------------------------------------------------------------------- properties


@settings(max_examples=100, deadline=None)
@given(
    events=st.lists(st.floats(0, 12, allow_nan=False), max_size=40),
    checkpoints=st.lists(st.sampled_from([1.0, 2.5, 3.0, 5.0]), max_size=3),
    per_year=st.sampled_from([1, 12]),
    k=st.integers(1, 6),
)
def test_every_piece_between_known_values_holds_none_or_at_least_k_events(
    events, checkpoints, per_year, k
):
    times = np.asarray(events)
    grid = np.arange(1, 12 * per_year + 1) / per_year
    made = step_times(times, grid, checkpoints, k)
    assert set(made) <= set(grid)
    known = np.union1d(made, checkpoints)
    edges = [-np.inf, *known, np.inf]
    for a, b in itertools.pairwise(edges):
        if a in made or b in made:  # two values from elsewhere are no business of the figure
            between = int(((times > a) & (times <= b)).sum())
            assert between == 0 or between >= k, (a, b, between)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sizes=st.tuples(st.integers(6, 24), st.integers(0, 12)),
    deaths=st.integers(0, 16),
    cancers=st.integers(0, 10),
    seed=st.integers(0, 10_000),
)
@pytest.mark.slow
def test_random_small_cohorts_keep_the_figure_invariants(tmp_path, sizes, deaths, cancers, seed):
    rng = np.random.default_rng(seed)
    rows = patients({"hmgcr": sizes[0], "seronegative": sizes[1]})
    onset = np.datetime64(ONSET)
    for row in rows:
        row["last_followup_date"] = str(onset + int(rng.integers(30, 2400)))
    for i in rng.choice(len(rows), size=min(cancers, len(rows)), replace=False):
        rows[i].update(cancer_date=str(onset + int(rng.integers(1, 2000))), cancer_icd10="C18.0")
        rows[i]["last_followup_date"] = max(rows[i]["last_followup_date"], rows[i]["cancer_date"])
    for i in rng.choice(len(rows), size=min(deaths, len(rows)), replace=False):
        rows[i]["death_date"] = rows[i]["last_followup_date"]
    folder = tmp_path / f"cohort{seed}"
    folder.mkdir(exist_ok=True)
    check_figures(run_stages(folder, rows))
