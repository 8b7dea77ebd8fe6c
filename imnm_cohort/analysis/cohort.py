"""Run every analysis on a classified cohort."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from imnm_cohort.analysis.compare import ContinuousComparison
from imnm_cohort.analysis.course_options import CourseOptions
from imnm_cohort.analysis.describe import TableOne
from imnm_cohort.analysis.finegray import FineGrayModel
from imnm_cohort.analysis.malignancy import MalignancyOptions, MalignancyResult, group_labels
from imnm_cohort.analysis.rates import ReferenceRates
from imnm_cohort.analysis.registry import ANALYSES, Analysis, Cohort, Result
from imnm_cohort.analysis.sir import PopulationComparison
from imnm_cohort.analysis.statin import StatinLatency
from imnm_cohort.analysis.statin_rates import StatinPopulation
from imnm_cohort.analysis.survival import CauseSpecificCox, OverallSurvival
from imnm_cohort.analysis.table_spec import TableOneOptions
from imnm_cohort.analysis.time_since_onset import IncidenceByFollowUp
from imnm_cohort.classify.derived import derived_columns
from imnm_cohort.classify.registry import scored_classifiers
from imnm_cohort.contracts.coerce import coerce_extract
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS, column_kind
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Path, combine
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import GROUP_COLUMN, GROUPS, IMNM_GROUPS

if TYPE_CHECKING:
    from imnm_cohort.validation.events import EventTables


@dataclass(frozen=True)
class CohortAnalysis:
    """Every analysis of one classified cohort.

    The results are those of the analyses registered when :func:`analyse` ran
    (:data:`~imnm_cohort.analysis.registry.ANALYSES`), in its order; ``analysis[name]``
    gives any of them, and the toolkit's own are attributes too.

    Attributes
    ----------
    group_counts : dict
        Patients per group (all seven groups).
    results : dict
        Each analysis's result by its name (None for one that did not apply, as the SIR
        without a reference-rate file, or a course analysis without its event tables).
    analyses : tuple of Analysis
        The registry entries that made them.
    notes : tuple of str
        What was computed or left out for want of a column (a cohort built without
        :func:`~imnm_cohort.classify`): also under ``notes`` in :meth:`to_dict`.
    """

    group_counts: dict[str, int]
    results: dict[str, Result | None]
    analyses: tuple[Analysis, ...]
    notes: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> Any:
        """The result of the analysis ``name`` (KeyError when none ran under that name)."""
        return self.results[name]

    @property
    def table_one(self) -> TableOne:
        return cast(TableOne, self.results["table_one"])

    @property
    def onset_age(self) -> ContinuousComparison:
        return cast(ContinuousComparison, self.results["onset_age"])

    @property
    def ck_peak(self) -> ContinuousComparison:
        return cast(ContinuousComparison, self.results["ck_peak"])

    @property
    def statin_latency(self) -> StatinLatency:
        return cast(StatinLatency, self.results["statin_latency"])

    @property
    def malignancy(self) -> MalignancyResult:
        return cast(MalignancyResult, self.results["malignancy"])

    @property
    def survival(self) -> OverallSurvival:
        return cast(OverallSurvival, self.results["survival"])

    @property
    def cox(self) -> CauseSpecificCox:
        return cast(CauseSpecificCox, self.results["cox"])

    @property
    def fine_gray(self) -> FineGrayModel:
        return cast(FineGrayModel, self.results["fine_gray"])

    @property
    def time_since_onset(self) -> IncidenceByFollowUp:
        return cast(IncidenceByFollowUp, self.results["time_since_onset"])

    @property
    def population(self) -> PopulationComparison | None:
        """SIR and SMR against a reference-rate file (None without one)."""
        return cast(PopulationComparison | None, self.results.get("population"))

    def _placed(self) -> list[Analysis]:
        """The analyses in the order their results appear in :meth:`to_dict`: those placed
        under a key (the comparisons) come first, as that key follows ``groups``."""
        return sorted(self.analyses, key=lambda a: not a.under)

    def to_dict(self) -> dict[str, Any]:
        """The ``groups`` and ``comparisons`` of ``summary.json`` (contract section 4), then
        every other analysis under its key; one that did not apply is null, and one whose
        event tables were not given has no key at all."""
        out: dict[str, Any] = {"groups": self.group_counts, "comparisons": {}}
        for a in self._placed():
            result = self.results[a.name]
            if result is None and (a.tables or a.optional):
                continue  # no event tables, or a result only some inputs give: absent
            node = out
            for part in a.under:
                node = node.setdefault(part, {})
            node[a.key] = result.to_dict() if result is not None else None
        if self.notes:  # only a cohort built by hand has any (a run's never does)
            out["notes"] = list(self.notes)
        return out

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: every result's own, placed where
        :meth:`to_dict` puts it; group sizes add up to the valid rows (key ``valid_rows``)."""
        own = []
        for a in self._placed():
            result = self.results[a.name]
            if result is not None:
                own.append(result.disclosure().under(*a.path))
        return combine(
            [
                Declaration(
                    counts=tuple(Count(("groups", g), f"group:{g}") for g in self.group_counts),
                    margins=(
                        Margin(tuple(("groups", g) for g in self.group_counts), "valid_rows"),
                    ),
                ),
                *own,
                self._models_disclosure(),
            ]
        )

    def _models_disclosure(self) -> Declaration:
        """The models' group counts against the malignancy table's.

        A model's patients, cancers and deaths of a group are those of the malignancy
        table less the few a model leaves out (no follow-up after time zero, onset age
        unknown): equal counts, or counts whose small difference must not be shown alone.
        The model's count is the one withheld first.
        """
        if not isinstance(self.results.get("malignancy"), MalignancyResult):
            return Declaration()
        table = self.malignancy.groups
        at: Path = ("comparisons", "malignancy", "groups")
        same = {"n": "at_risk", "events": "events", "competing": "deaths"}
        margins = []
        for key, model in (
            ("cause_specific_cox", self.results.get("cox")),
            ("fine_gray", self.results.get("fine_gray")),
        ):
            if not isinstance(model, CauseSpecificCox | FineGrayModel):
                continue
            for g, counts in model.groups.items():
                if g not in table:
                    continue
                for k, v in counts.items():
                    mine: Path = (key, "groups", g, k)
                    rest = getattr(table[g], same[k]) - v
                    margins.append(Margin((mine,), (*at, g, same[k]), rest, prefer=mine))
        return Declaration(margins=tuple(margins))

    def methods(self) -> list[str]:
        """One or two sentences per analysis that ran, for a report's methods section.

        A test that was not done (too few patients or events; its ``reason`` says why) and
        a model that was not fitted are left out: the methods describe what was done.
        """
        out = []
        for a in self.analyses:
            result = self.results[a.name]
            if result is not None and a.ran(result):
                out.append(result.method())
        return out


def _as_classified(frame: pd.DataFrame) -> pd.DataFrame:
    """The cohort as the analyses read it: ``frame`` itself when it is typed as
    :func:`~imnm_cohort.classify` returns it, else a copy with its text parsed."""
    repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
    if repeated:
        more = f" and {len(repeated) - 3} more" if len(repeated) > 3 else ""
        raise ConfigError(
            "the cohort has more than one column named "
            + ", ".join(repr(c) for c in repeated[:3])
            + more
            + ": a classified file was read as an extract and classified again; analyse "
            "the classified file as it is, or classify the extract it came from"
        )
    if GROUP_COLUMN not in frame.columns:
        raise ConfigError(
            f"the cohort has no column '{GROUP_COLUMN}': classify it first (imnm_cohort.classify)"
        )
    groups = frame[GROUP_COLUMN]
    unknown = sorted({str(g) for g in groups.dropna().unique()} - set(GROUPS))
    if unknown or groups.isna().any():
        shown = repr(unknown[0]) if unknown else "an empty cell"
        raise ConfigError(
            f"column '{GROUP_COLUMN}' holds {shown}, which is not a group; "
            f"groups are: {', '.join(GROUPS)}"
        )
    present = [name for name in CONTRACT_COLUMNS if name in frame.columns]
    untyped = [name for name in present if not _typed_as(frame[name], column_kind(name))]
    categories = _scored_categories(frame)
    if not untyped and not categories:
        return frame
    out = frame.copy(deep=False)
    if untyped:
        empty = pd.Series(pd.NA, index=frame.index, dtype=object)
        raw = pd.DataFrame({n: frame[n] if n in frame.columns else empty for n in CONTRACT_COLUMNS})
        typed, failures = coerce_extract(raw)
        failures = failures[failures["column"].isin(untyped)]
        if len(failures):
            bad = failures.iloc[0]
            raise ConfigError(
                f"column '{bad['column']}' holds {bad['value']!r} at row {int(bad['index']) + 1}"
                f" of the cohort: {str(bad['rule']).replace('_', ' ')} (dates are read as "
                "YYYY-MM-DD, booleans as true/false, as in an extract)"
            )
        for name in untyped:
            out[name] = typed[name]
    for name, dtype in categories.items():
        values = out[name]
        outside = sorted({str(v) for v in values.dropna().unique()} - set(dtype.categories))
        if outside:
            raise ConfigError(
                f"column '{name}' holds {outside[0]!r}, which is not one of its categories: "
                + ", ".join(str(c) for c in dtype.categories)
            )
        out[name] = values.astype(dtype)
    return out


def _typed_as(column: pd.Series, kind: str) -> bool:
    """Whether a contract column holds what the extract's parser gives for its kind."""
    dtype = column.dtype
    if kind == "date":
        return pd.api.types.is_datetime64_any_dtype(dtype)
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dtype)
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    return numeric if kind == "float" else not numeric


def _scored_categories(frame: pd.DataFrame) -> dict[str, pd.CategoricalDtype]:
    """The scored classifiers' category columns that ``frame`` holds as plain text, with the
    categories (and their order) the classifier gives them."""
    found: dict[str, pd.CategoricalDtype] = {}
    for classifier in scored_classifiers():
        if not all(c in frame.columns for c in classifier.columns_required):
            continue
        columns = [c for c in frame.columns if str(c).startswith(classifier.name + "_")]
        if all(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in columns):
            continue
        for name, dtype in classifier.classify(frame.iloc[:0]).dtypes.items():
            plain = name in frame.columns and not isinstance(frame[name].dtype, pd.CategoricalDtype)
            if isinstance(dtype, pd.CategoricalDtype) and plain:
                found[str(name)] = dtype
    return found


AnalysisProgress = Callable[[int, int, str], None]
"""``progress(done, total, name)``: ``done`` analyses of ``total`` finished, ``name`` next."""


def analyse(
    classified: pd.DataFrame,
    options: MalignancyOptions | None = None,
    *,
    seed: int = 0,
    n_boot: int = 2000,
    table_one_options: TableOneOptions | None = None,
    reference_rates: ReferenceRates | None = None,
    progress: AnalysisProgress | None = None,
    tables: EventTables | None = None,
    min_count: int = DEFAULT_MIN_COUNT,
    statin_population: StatinPopulation | None = None,
    course: CourseOptions | None = None,
) -> CohortAnalysis:
    """Run every registered analysis on a classified cohort.

    The analyses are those of :data:`~imnm_cohort.analysis.registry.ANALYSES`, in its
    order (the toolkit's own and any added with
    :func:`~imnm_cohort.analysis.registry.register`).

    Parameters
    ----------
    classified : pandas.DataFrame
        The output of :func:`~imnm_cohort.classify`, or a classified file read back as it
        is (``pandas.read_csv("classified.csv")``): contract columns held as text (dates
        ``YYYY-MM-DD``, booleans ``true``/``false``) are parsed as an extract's are, and the
        scored classifiers' categories get back their order. A frame built another way
        needs the contract's columns and ``imnm_group``; the derived columns it lacks
        (``age_at_onset_years``, ``statin_latency_months``, ``followup_years``) are
        computed. Not modified.
    options : MalignancyOptions, optional
        Window, horizon, time zero, cancer-code and interval choices.
    seed, n_boot : int
        Seed and resamples of the bootstrap and permutation procedures: the same data and
        seed give the same numbers.
    table_one_options : TableOneOptions, optional
        Table 1's variables, missing-value convention and SMDs (a pipeline's
        ``[table_one]``); the toolkit's defaults when None.
    reference_rates : ReferenceRates, optional
        Population rates (:func:`~imnm_cohort.analysis.rates.read_reference_rates`); given,
        the SIR and SMR are computed.
    progress : callable, optional
        Called as ``progress(done, total, name)`` before each analysis (``name`` the one
        starting) and once at the end (``done == total``, ``name`` empty). Nothing is
        printed here: the caller decides how to show it.
    tables : EventTables, optional
        The validated event tables (contract section 6,
        :func:`~imnm_cohort.validation.events.validate_events`). The course analyses run
        only with the tables they read (:attr:`~imnm_cohort.analysis.registry.Analysis.tables`);
        without them they leave no key in :meth:`CohortAnalysis.to_dict`.
    min_count : int
        The fewest patients a course analysis shows a group's value in a time bin for (the
        run's ``min_cell_count``).
    statin_population : StatinPopulation, optional
        IMNM incidence among statin users, computed in an OMOP CDM database
        (:func:`~imnm_cohort.analysis.statin_population.statin_population`): shown as its
        analysis's result.
    course : CourseOptions, optional
        The course analyses' options (a pipeline's ``[analysis.course.NAME]`` sections,
        :func:`~imnm_cohort.analysis.course_options.course_options`); the toolkit's
        defaults when None.

    Returns
    -------
    CohortAnalysis

    Raises
    ------
    ConfigError
        A Table 1 variable given in ``table_one_options`` names a column the cohort lacks,
        or a continuous one holds text (a default row whose column is absent is left out,
        and :attr:`CohortAnalysis.notes` says so);
        the cohort has no ``imnm_group`` column, a group that is not one of the seven, a
        column name twice (a classified file classified again), or a contract column whose
        text cannot be parsed (the column, the row and the value are named).
    """
    classified, computed = _with_derived(_as_classified(classified))
    options = options or MalignancyOptions()
    counts = pd.Series(group_labels(classified)).value_counts()
    cohort = Cohort(
        classified, IMNM_GROUPS, options, seed, n_boot, table_one_options, reference_rates,
        tables, min_count, statin_population, course or CourseOptions(),
    )  # fmt: skip
    analyses = tuple(ANALYSES)
    steps = [a for a in analyses if a.runs_on(cohort)]
    report = progress or (lambda done, total, name: None)
    results: dict[str, Result | None] = {a.name: None for a in analyses}
    for done, a in enumerate(steps):
        report(done, len(steps), a.name)
        results[a.name] = a.compute(cohort)
    report(len(steps), len(steps), "")
    table_one = cast(TableOne, results["table_one"])
    notes = (*computed, *table_one.notes)
    return CohortAnalysis({g: int(counts.get(g, 0)) for g in GROUPS}, results, analyses, notes)


def _with_derived(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The cohort with the contract's derived columns (section 2) it lacks computed from its
    dates, and a note naming them; the frame itself when it has them all."""
    try:
        derived = derived_columns(frame.iloc[:0])
    except KeyError:  # a date it is computed from is absent: the analyses needing it say so
        return frame, ()
    absent = [c for c in derived.columns if c not in frame.columns]
    if not absent:
        return frame, ()
    out = frame.copy(deep=False)
    computed = derived_columns(frame)
    for name in absent:
        out[name] = computed[name]
    note = f"Computed from the cohort's dates, as the contract defines them: {', '.join(absent)}."
    return out, (note,)
