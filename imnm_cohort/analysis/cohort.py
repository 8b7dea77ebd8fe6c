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
from imnm_cohort.pipeline.declarations import Count, Declaration, Margin, Path, combine
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
        The output of :func:`~imnm_cohort.classify`. Not modified.
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
        A Table 1 variable names a column the cohort lacks, or a continuous one holds text.
    """
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
    return CohortAnalysis(group_counts={g: int(counts.get(g, 0)) for g in GROUPS}, **results)
