"""Run every analysis on a classified cohort."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from imnm_cohort.analysis.compare import ContinuousComparison, compare_continuous
from imnm_cohort.analysis.describe import TableOne, table_one
from imnm_cohort.analysis.finegray import FineGrayModel, fine_gray
from imnm_cohort.analysis.malignancy import MalignancyOptions, MalignancyResult, malignancy
from imnm_cohort.analysis.rates import ReferenceRates
from imnm_cohort.analysis.sir import PopulationComparison, population_comparison
from imnm_cohort.analysis.statin import StatinLatency, statin_latency
from imnm_cohort.analysis.survival import (
    CauseSpecificCox,
    OverallSurvival,
    cause_specific_cox,
    overall_survival,
)
from imnm_cohort.analysis.table_spec import TableOneOptions
from imnm_cohort.analysis.time_since_onset import IncidenceByFollowUp, incidence_by_follow_up
from imnm_cohort.classify.derived import derived_columns
from imnm_cohort.classify.registry import scored_classifiers
from imnm_cohort.contracts.coerce import coerce_extract
from imnm_cohort.contracts.patients import CONTRACT_COLUMNS, column_kind
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Path, combine
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import GROUP_COLUMN, GROUPS, IMNM_GROUPS


@dataclass(frozen=True)
class CohortAnalysis:
    """Every analysis of one classified cohort.

    Attributes
    ----------
    group_counts : dict
        Patients per group (all seven groups).
    table_one : TableOne
    onset_age, ck_peak : ContinuousComparison
        The three IMNM groups compared.
    statin_latency : StatinLatency
    malignancy : MalignancyResult
    survival : OverallSurvival
    cox : CauseSpecificCox
    time_since_onset : IncidenceByFollowUp
        Cancer incidence by band of time since time zero.
    fine_gray : FineGrayModel
    population : PopulationComparison or None
        SIR and SMR against a reference-rate file (None without one).
    notes : tuple of str
        What was computed or left out for want of a column (a cohort built without
        :func:`~imnm_cohort.classify`): also under ``notes`` in :meth:`to_dict`.
    """

    group_counts: dict[str, int]
    table_one: TableOne
    onset_age: ContinuousComparison
    ck_peak: ContinuousComparison
    statin_latency: StatinLatency
    malignancy: MalignancyResult
    survival: OverallSurvival
    cox: CauseSpecificCox
    time_since_onset: IncidenceByFollowUp
    fine_gray: FineGrayModel
    population: PopulationComparison | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The ``groups`` and ``comparisons`` of ``summary.json`` plus the other analyses."""
        return {
            "groups": self.group_counts,
            "comparisons": {
                "onset_age": self.onset_age.to_dict(),
                "ck_peak": self.ck_peak.to_dict(),
                "statin_latency": self.statin_latency.to_dict(),
                "malignancy": self.malignancy.to_dict(),
            },
            "table_one": self.table_one.to_dict(),
            "survival": self.survival.to_dict(),
            "cause_specific_cox": self.cox.to_dict(),
            "time_since_onset": self.time_since_onset.to_dict(),
            "fine_gray": self.fine_gray.to_dict(),
            "population_rates": self.population.to_dict() if self.population else None,
            "notes": list(self.notes),
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: every result's own, placed where
        :meth:`to_dict` puts it; group sizes add up to the valid rows (key ``valid_rows``)."""
        return combine(
            [
                Declaration(
                    counts=tuple(Count(("groups", g), f"group:{g}") for g in self.group_counts),
                    margins=(
                        Margin(tuple(("groups", g) for g in self.group_counts), "valid_rows"),
                    ),
                ),
                self.onset_age.disclosure().under("comparisons", "onset_age"),
                self.ck_peak.disclosure().under("comparisons", "ck_peak"),
                self.statin_latency.disclosure().under("comparisons", "statin_latency"),
                self.malignancy.disclosure().under("comparisons", "malignancy"),
                self.table_one.disclosure().under("table_one"),
                self.survival.disclosure().under("survival"),
                self.cox.disclosure().under("cause_specific_cox"),
                self.time_since_onset.disclosure().under("time_since_onset"),
                self.fine_gray.disclosure().under("fine_gray"),
                self.population.disclosure().under("population_rates")
                if self.population
                else Declaration(),
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
        table = self.malignancy.groups
        at: Path = ("comparisons", "malignancy", "groups")
        same = {"n": "at_risk", "events": "events", "competing": "deaths"}
        margins = []
        for key, model in (("cause_specific_cox", self.cox), ("fine_gray", self.fine_gray)):
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
        m = self.malignancy
        described = [
            (self.table_one.method(), True),
            (self.onset_age.method(), _tested(self.onset_age)),
            (self.ck_peak.method(), _tested(self.ck_peak)),
            (self.statin_latency.method(), self.statin_latency.p_value is not None),
            (m.method(), any(g.n for g in m.groups.values())),
            (self.survival.method(), any(c.n for c in self.survival.groups.values())),
            (self.cox.method(), bool(self.cox.terms)),
            (self.fine_gray.method(), bool(self.fine_gray.terms)),
            (self.time_since_onset.method(), any(self.time_since_onset.groups.values())),
            *([(self.population.method(), True)] if self.population else []),
        ]
        return [text for text, ran in described if ran]


def _tested(c: ContinuousComparison) -> bool:
    return c.p_value is not None or any(p.p_value is not None for p in c.pairwise)


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
) -> CohortAnalysis:
    """Run every analysis of the toolkit on a classified cohort.

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
    counts = classified[GROUP_COLUMN].astype(str).value_counts()
    steps: dict[str, Callable[[], Any]] = {
        "table_one": lambda: table_one(classified, IMNM_GROUPS, table_one_options, seed=seed),
        "onset_age": lambda: compare_continuous(
            classified, "age_at_onset_years", IMNM_GROUPS, n_boot=n_boot, seed=seed
        ),
        "ck_peak": lambda: compare_continuous(
            classified, "ck_peak", IMNM_GROUPS, n_boot=n_boot, seed=seed
        ),
        "statin_latency": lambda: statin_latency(classified),
        "malignancy": lambda: malignancy(classified, IMNM_GROUPS, options),
        "survival": lambda: overall_survival(
            classified, IMNM_GROUPS, options.horizon_years, options.alpha
        ),
        "cox": lambda: cause_specific_cox(classified, IMNM_GROUPS, options),
        "time_since_onset": lambda: incidence_by_follow_up(classified, IMNM_GROUPS, options),
        "fine_gray": lambda: fine_gray(classified, IMNM_GROUPS, options),
    }
    if reference_rates is not None:
        rates = reference_rates
        steps["population"] = lambda: population_comparison(classified, rates, IMNM_GROUPS, options)
    report = progress or (lambda done, total, name: None)
    results = {}
    for done, (name, step) in enumerate(steps.items()):
        report(done, len(steps), name)
        results[name] = step()
    report(len(steps), len(steps), "")
    notes = (*computed, *results["table_one"].notes)
    return CohortAnalysis(
        group_counts={g: int(counts.get(g, 0)) for g in GROUPS}, **results, notes=notes
    )


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
