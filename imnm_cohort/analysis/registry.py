"""The registry of analyses: one entry per analysis, in the order of ``summary.json``.

Everything that lists the analyses reads :data:`ANALYSES`: :func:`~imnm_cohort.analysis.analyse`
runs them, :class:`~imnm_cohort.analysis.CohortAnalysis` places their results, their
disclosure declarations and their methods, the summary's JSON Schema is generated from their
result types, the changes between runs follow their tracked estimates, and the reports show
each one (with its own section where it has one, else a table drawn from its results).

Adding an analysis is one module (a pure function of the cohort and a frozen result type
that follows :class:`Result`) and one line::

    register(Analysis("rash", rash_by_group, RashByGroup, title="Rash by IMNM group"))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from imnm_cohort.analysis.ck_course import CkCourse, ck_course
from imnm_cohort.analysis.compare import ContinuousComparison, compare_continuous
from imnm_cohort.analysis.course_options import CourseOptions
from imnm_cohort.analysis.describe import TableOne, table_one
from imnm_cohort.analysis.finegray import FineGrayModel, fine_gray
from imnm_cohort.analysis.malignancy import MalignancyOptions, MalignancyResult, malignancy
from imnm_cohort.analysis.rates import ReferenceRates
from imnm_cohort.analysis.relapse import Relapse, relapse
from imnm_cohort.analysis.response_course import ResponseCourse, response_course
from imnm_cohort.analysis.sir import PopulationComparison, population_comparison
from imnm_cohort.analysis.statin import StatinLatency, statin_latency
from imnm_cohort.analysis.statin_rates import StatinPopulation
from imnm_cohort.analysis.strength import StrengthCourse, strength_course
from imnm_cohort.analysis.survival import (
    CauseSpecificCox,
    OverallSurvival,
    cause_specific_cox,
    overall_survival,
)
from imnm_cohort.analysis.table_spec import TableOneOptions
from imnm_cohort.analysis.time_since_onset import IncidenceByFollowUp, incidence_by_follow_up
from imnm_cohort.analysis.titres import Titres, titres
from imnm_cohort.analysis.treatments import Treatments, treatments
from imnm_cohort.disclosure.declarations import Declaration
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.errors import ConfigError

if TYPE_CHECKING:
    from imnm_cohort.validation.events import EventTables


class Result(Protocol):
    """What an analysis returns: a frozen dataclass that describes itself.

    ``to_dict()`` is its part of ``summary.json`` (JSON-ready; never an identifier or a
    date); ``disclosure()`` declares its counts for disclosure control, with paths relative
    to ``to_dict()``; ``method()`` is one or two sentences for the report's methods;
    ``json_schema()`` (a static method) is the JSON Schema of ``to_dict()``, whose ``$defs``
    go to the root of ``schemas/summary.schema.json`` (values of
    :data:`~imnm_cohort.analysis.schema.VALUE_DEFS` are there already).
    """

    def to_dict(self) -> dict[str, Any]: ...

    def disclosure(self) -> Declaration: ...

    def method(self) -> str: ...

    @staticmethod
    def json_schema() -> dict[str, Any]: ...


@dataclass(frozen=True)
class Cohort:
    """What an analysis reads: the classified patients and the run's analysis settings.

    Attributes
    ----------
    patients : pandas.DataFrame
        The classified cohort (typed as :func:`~imnm_cohort.classify` returns it). Not to
        be modified.
    groups : tuple of str
        The groups compared (the three IMNM groups).
    options : MalignancyOptions
        Window, horizon, time zero, cancer-code and interval choices.
    seed, n_boot : int
        Seed and resamples of the bootstrap and permutation procedures.
    table_one : TableOneOptions or None
        Table 1's variables and conventions (the toolkit's defaults when None).
    reference_rates : ReferenceRates or None
        Population rates, when the pipeline names a file.
    statin_population : StatinPopulation or None
        IMNM incidence among statin users, computed in the OMOP CDM database the patients
        were found in (:mod:`~imnm_cohort.analysis.statin_population`); None for any other
        input.
    tables : EventTables or None
        The validated event tables of contract section 6 (``[input.tables]``), when the
        pipeline names any: an analysis reads a table's valid rows with
        ``cohort.tables.frame("visits")``. None without event tables.
    min_count : int
        The run's minimum count of patients (``[disclosure] min_cell_count``): the course
        analyses show a group's value in a time bin only where at least this many patients
        contribute.
    course : CourseOptions
        The course analyses' options (a pipeline's ``[analysis.course.NAME]`` sections;
        the toolkit's defaults otherwise). Each analysis takes the run's ``min_count``.
    """

    patients: pd.DataFrame
    groups: tuple[str, ...]
    options: MalignancyOptions
    seed: int = 0
    n_boot: int = 2000
    table_one: TableOneOptions | None = None
    reference_rates: ReferenceRates | None = None
    tables: EventTables | None = None
    min_count: int = DEFAULT_MIN_COUNT
    statin_population: StatinPopulation | None = None
    course: CourseOptions = field(default_factory=CourseOptions)

    def options_of(self, name: str) -> Any:
        """The options of the course analysis ``name`` (a field of :class:`CourseOptions`)
        with the run's minimum count of patients."""
        return dataclasses.replace(getattr(self.course, name), min_count=self.min_count)

    def has_tables(self, names: tuple[str, ...]) -> bool:
        """Whether every event table of ``names`` was given (none asked: True)."""
        return all(self.tables is not None and n in self.tables for n in names)


#: The keys of ``summary.json`` that are the run's own (contract section 4): an analysis
#: goes under ``comparisons`` or beside these, never in their place.
RUN_KEYS = (
    "criteria",
    "contract_version",
    "counts",
    "groups",
    "comparisons",
    "classification_reasons",
    "validation",
    "disclosure",
)
#: The run's own keys that only some runs have: ``tables``, the event tables' counts of rows
#: (contract section 6), when the pipeline names any.
OPTIONAL_RUN_KEYS = ("tables",)


def _always(result: Any) -> bool:
    return True


@dataclass(frozen=True)
class Analysis:
    """One analysis: where its result goes, how it is computed and what it returns.

    Attributes
    ----------
    key : str
        Its key in ``summary.json`` (under :attr:`under`).
    compute : callable
        ``compute(cohort) -> Result``: a pure function of a :class:`Cohort`.
    result : type
        The result type (follows :class:`Result`); its ``json_schema()`` describes ``key``.
    title : str
        A title for the reports (the heading of a section or table drawn from the result).
    name : str, optional
        Its name in progress messages and as an attribute of
        :class:`~imnm_cohort.analysis.CohortAnalysis`; ``key`` when not given.
    under : tuple of str
        Where ``key`` sits in ``summary.json``: ``()`` at the top, ``("comparisons",)``
        among the group comparisons of contract section 4.
    applies : callable, optional
        ``applies(cohort) -> bool``: whether it runs at all (the SIR needs a rate file).
        One that does not run is null in ``summary.json`` (the schema allows the null).
    ran : callable
        ``ran(result) -> bool``: whether its method is described (a test not done because
        too few patients is left out of the methods).
    tracked : tuple of str
        Estimates compared with the previous run (``changes.json``), as dotted paths within
        the result, ``*`` for any key.
    tables : tuple of str
        The event tables (contract section 6) it reads. It runs only when the run was given
        every one of them, and otherwise leaves no trace in any output: no key in
        ``summary.json`` (not even a null), no table, section or method, so that a run
        without those tables is the same as before the analysis existed.
    optional : bool
        Whether ``summary.json``, the report and its tables leave it out altogether when it
        does not apply (a result only some inputs can give), rather than showing it as null:
        as an analysis whose event tables were not given (:meth:`shown_in`).
    """

    key: str
    compute: Callable[[Cohort], Result]
    result: type[Result]
    title: str
    name: str = ""
    under: tuple[str, ...] = ()
    applies: Callable[[Cohort], bool] | None = None
    ran: Callable[[Any], bool] = _always
    tracked: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    optional: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.key)

    @property
    def path(self) -> tuple[str, ...]:
        """Its path in ``summary.json``."""
        return (*self.under, self.key)

    def runs_on(self, cohort: Cohort) -> bool:
        """Whether it runs on ``cohort``: its event tables are given and it applies."""
        return cohort.has_tables(self.tables) and (self.applies is None or self.applies(cohort))

    def shown_in(self, summary: dict[str, Any]) -> bool:
        """Whether an output built from ``summary`` shows it: always, unless it reads event
        tables or is optional and ``summary`` has no key for it (the tables were not given,
        or it did not apply)."""
        node: Any = summary
        for part in self.path:
            if not isinstance(node, dict) or part not in node:
                return not (self.tables or self.optional)
            node = node[part]
        return True


def _tested(c: ContinuousComparison) -> bool:
    return c.p_value is not None or any(p.p_value is not None for p in c.pairwise)


def _continuous(column: str) -> Callable[[Cohort], Result]:
    def compute(c: Cohort) -> Result:
        return compare_continuous(c.patients, column, c.groups, n_boot=c.n_boot, seed=c.seed)

    return compute


def _population(c: Cohort) -> Result:
    assert c.reference_rates is not None  # see applies
    return population_comparison(c.patients, c.reference_rates, c.groups, c.options)


def _statin_population(c: Cohort) -> Result:
    # Computed in the database before the analyses (it reads the CDM, not the cohort).
    assert c.statin_population is not None  # see applies
    return c.statin_population


_BY_GROUP_MEDIAN = ("p_value", "groups.*.median")


def _table(c: Cohort, name: str) -> pd.DataFrame:
    """The valid rows of event table ``name`` (an empty frame where the run has none)."""
    assert c.tables is not None  # see Analysis.tables
    return c.tables.frame(name)


#: The analyses, in the order of ``summary.json`` and of the report's methods.
ANALYSES: list[Analysis] = [
    Analysis(
        "table_one",
        lambda c: table_one(c.patients, c.groups, c.table_one, seed=c.seed),
        TableOne,
        "Table 1: patients by IMNM group",
    ),
    Analysis(
        "onset_age",
        _continuous("age_at_onset_years"),
        ContinuousComparison,
        "Onset age",
        under=("comparisons",),
        ran=_tested,
        tracked=_BY_GROUP_MEDIAN,
    ),
    Analysis(
        "ck_peak",
        _continuous("ck_peak"),
        ContinuousComparison,
        "Peak CK",
        under=("comparisons",),
        ran=_tested,
        tracked=_BY_GROUP_MEDIAN,
    ),
    Analysis(
        "statin_latency",
        lambda c: statin_latency(c.patients),
        StatinLatency,
        "Statin latency",
        under=("comparisons",),
        ran=lambda r: r.p_value is not None,
        tracked=_BY_GROUP_MEDIAN,
    ),
    Analysis(
        "malignancy",
        lambda c: malignancy(c.patients, c.groups, c.options),
        MalignancyResult,
        "Malignancy",
        under=("comparisons",),
        ran=lambda r: any(g.n for g in r.groups.values()),
        tracked=("p_value", "groups.*.cumulative_incidence", "groups.*.rate_per_1000py"),
    ),
    Analysis(
        "survival",
        lambda c: overall_survival(c.patients, c.groups, c.options.horizon_years, c.options.alpha),
        OverallSurvival,
        "Overall survival",
        ran=lambda r: any(s.n for s in r.groups.values()),
    ),
    Analysis(
        "cause_specific_cox",
        lambda c: cause_specific_cox(c.patients, c.groups, c.options),
        CauseSpecificCox,
        "Cause-specific Cox model for cancer",
        name="cox",
        ran=lambda r: bool(r.terms),
    ),
    Analysis(
        "fine_gray",
        lambda c: fine_gray(c.patients, c.groups, c.options),
        FineGrayModel,
        "Fine-Gray model for cancer (death competing)",
        ran=lambda r: bool(r.terms),
    ),
    Analysis(
        "time_since_onset",
        lambda c: incidence_by_follow_up(c.patients, c.groups, c.options),
        IncidenceByFollowUp,
        "Cancer by time since time zero",
        ran=lambda r: any(r.groups.values()),
    ),
    Analysis(
        "population_rates",
        _population,
        PopulationComparison,
        "Against population rates (SIR, SMR)",
        name="population",
        applies=lambda c: c.reference_rates is not None,
    ),
    # The course of the disease (contract section 6): each runs only with its event tables.
    Analysis(
        "ck_course",
        lambda c: ck_course(c.patients, _table(c, "visits"), c.options_of("ck_course"), c.groups),
        CkCourse,
        "CK course: time to a normal CK and log10(CK/ULN) over time",
        tables=("visits",),
    ),
    Analysis(
        "titres",
        # with the visits where the run has them (else every correlation has no patient)
        lambda c: titres(
            c.patients,
            _table(c, "antibody_tests"),
            _table(c, "visits"),
            c.groups,
            c.options_of("titres"),
        ),
        Titres,
        "Anti-HMGCR titres at diagnosis and their correlation with CK and strength",
        tables=("antibody_tests",),
    ),
    Analysis(
        "strength",
        lambda c: strength_course(
            c.patients, _table(c, "visits"), c.options_of("strength"), c.groups
        ),
        StrengthCourse,
        "Strength: MMT as a percentage of its scale over time",
        tables=("visits",),
    ),
    Analysis(
        "response",
        lambda c: response_course(
            c.patients, _table(c, "visits"), c.groups, c.options_of("response")
        ),
        ResponseCourse,
        "Response by the 2016 ACR/EULAR criteria (Total Improvement Score)",
        tables=("visits",),
    ),
    Analysis(
        "treatments",
        lambda c: treatments(
            c.patients, _table(c, "treatments"), c.groups, c.options_of("treatments")
        ),
        Treatments,
        "Treatments: immunotherapies, second line and drug classes over time",
        tables=("treatments",),
    ),
    Analysis(
        "relapse",
        lambda c: relapse(
            c.patients,
            _table(c, "visits"),
            _table(c, "treatments"),
            c.groups,
            c.course.relapse,
            mcf_months=c.course.mcf_months,
            min_count=c.min_count,
        ),
        Relapse,
        "Relapse (the toolkit's convention): rates and mean cumulative function",
        tables=("visits", "treatments"),
    ),
    Analysis(
        "statin_population",
        _statin_population,
        StatinPopulation,
        "IMNM incidence among statin users",
        applies=lambda c: c.statin_population is not None,
        optional=True,
    ),
]


def register(analysis: Analysis) -> Analysis:
    """Add an analysis after the others; it then runs, and shows in every output.

    Returns
    -------
    Analysis
        ``analysis`` itself (for :func:`unregister`).

    Raises
    ------
    ConfigError
        Another analysis has the same key or name, it would take the place of one of the
        run's own keys (:data:`RUN_KEYS`, :data:`OPTIONAL_RUN_KEYS`), or the result type
        lacks part of :class:`Result`.
    """
    taken = {a.key for a in ANALYSES} | {a.name for a in ANALYSES}
    for word in dict.fromkeys((analysis.key, analysis.name)):
        if word in taken:
            raise ConfigError(f"an analysis named '{word}' is registered already")
    head = analysis.path[0]
    if head in (*RUN_KEYS, *OPTIONAL_RUN_KEYS) and analysis.under != ("comparisons",):
        raise ConfigError(
            f"analysis '{analysis.key}': summary.json's '{head}' is the run's own; place it "
            "at a key of its own or under ('comparisons',)"
        )
    missing = [
        m
        for m in ("to_dict", "disclosure", "method", "json_schema")
        if not callable(getattr(analysis.result, m, None))
    ]
    if missing:
        raise ConfigError(
            f"analysis '{analysis.key}': its result type {analysis.result.__name__} has no "
            + ", ".join(missing)
        )
    ANALYSES.append(analysis)
    return analysis


def unregister(key: str) -> None:
    """Remove the analysis with this key (what :func:`register` added).

    Raises
    ------
    ConfigError
        No analysis has this key.
    """
    for i, analysis in enumerate(ANALYSES):
        if analysis.key == key:
            del ANALYSES[i]
            return
    raise ConfigError(f"no analysis '{key}' is registered")


@contextmanager
def registered(analysis: Analysis) -> Iterator[Analysis]:
    """Register ``analysis`` for the ``with`` block only."""
    register(analysis)
    try:
        yield analysis
    finally:
        unregister(analysis.key)
