"""Standardized incidence and mortality ratios (SIR, SMR) against population rates.

Observed: cancers after time zero (the malignancy analysis's events; for an ICD-10 range
site, those whose code falls in the range), or deaths for the SMR. Expected: each
patient's follow-up is split by age band, sex and, where the rate file gives them,
calendar periods (a Lexis split), and each piece's person-years are multiplied by the
population rate of its cell; the sum over a group is its expected count. SIR = observed /
expected, with the exact Poisson interval of the observed count divided by the expected
(Breslow and Day 1987, chapter 2). Each ratio is also split by time since time zero (<1,
1-3, 3-5, >=5 years).

Follow-up for the SIR is the malignancy analysis's: from time zero to the first cancer,
death or end of observation, among patients without a counted cancer before time zero.
For the SMR it runs from time zero to death or end of observation. Person-time in cells
without a population rate (a sex other than female or male without an ``all`` row, ages or
years outside the table) is left out of both observed and expected, and reported.

References
----------
Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II: The Design and
Analysis of Cohort Studies. IARC Scientific Publications 82, 1987, chapters 2-3.
Garwood F. Fiducial limits for the Poisson distribution. Biometrika 1936;28:437-42.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import EVENT
from imnm_cohort.analysis.intervals import poisson_exact
from imnm_cohort.analysis.lexis import TimeScale, days, lexis_split, year_start_days
from imnm_cohort.analysis.malignancy import MalignancyOptions, cancer_risk_set
from imnm_cohort.analysis.rates import ALL_CAUSES, ALL_MALIGNANT, ReferenceRates, site_codes
from imnm_cohort.analysis.time_since_onset import (
    BANDS_SCHEMA,
    FOLLOW_UP_BANDS,
    band_sums,
    follow_up_scale,
)
from imnm_cohort.classify.derived import end_of_observation
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Share, combine
from imnm_cohort.vocabulary import DAYS_PER_YEAR, IMNM_GROUPS


@dataclass(frozen=True)
class Ratio:
    """Observed and expected counts and their ratio, for one group (or one band).

    Counts: ``observed`` (cancers, or deaths for the SMR).
    """

    observed: int
    expected: float
    person_years: float
    ratio: float | None
    ratio_ci: tuple[float, float] | None

    @staticmethod
    def disclosure() -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: the observed count gives the ratio
        and its interval back (the expected count reveals nothing about the patients)."""
        return Declaration(
            counts=(Count(("observed",), reveals=(("ratio",), ("ratio_ci",))),),
            shares=(Share(("ratio",), ("observed",), ("expected",), 1.0),),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "observed": self.observed,
            "expected": self.expected,
            "person_years": self.person_years,
            "ratio": self.ratio,
            "ratio_ci": list(self.ratio_ci) if self.ratio_ci else None,
        }


def ratio(observed: int, expected: float, person_years: float, alpha: float = 0.05) -> Ratio:
    """Observed / expected with the exact Poisson interval (None when nothing is expected).

    References
    ----------
    Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II, 1987, section 2.3.
    """
    if expected <= 0:
        return Ratio(observed, expected, person_years, None, None)
    lo, hi = poisson_exact(observed, expected, alpha)
    return Ratio(observed, expected, person_years, observed / expected, (lo, hi))


@dataclass(frozen=True)
class StandardizedRatio:
    """One SIR (a cancer site) or the SMR (all causes), by group and by follow-up band.

    Attributes
    ----------
    measure : {"SIR", "SMR"}
    site : str
        ``all_malignant``, an ICD-10 range, or ``all_causes``.
    groups : dict
        Group -> :class:`Ratio`.
    by_follow_up : dict
        Group -> band (``<1``, ``1-3``, ``3-5``, ``>=5`` years) -> :class:`Ratio`.
    person_years_without_rate : float
        Person-years of the groups in cells the rate file does not cover.
    patients_without_rate : int
        Patients with some of that person-time (a count: with it withheld, the
        person-years are withheld too).
    """

    measure: Literal["SIR", "SMR"]
    site: str
    groups: dict[str, Ratio]
    by_follow_up: dict[str, dict[str, Ratio]]
    person_years_without_rate: float
    patients_without_rate: int = 0

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: each group's ratio and its bands,
        the bands' observed counts adding up to the group's."""
        parts = [
            Declaration(
                counts=(
                    Count(("patients_without_rate",), reveals=(("person_years_without_rate",),)),
                )
            )
        ]
        for g, by in self.by_follow_up.items():
            at = ("groups", g)
            parts.append(Ratio.disclosure().under(*at))
            parts += [Ratio.disclosure().under(*at, "by_follow_up", b) for b in by]
            parts.append(
                Declaration(
                    margins=(
                        Margin(
                            tuple((*at, "by_follow_up", b, "observed") for b in by),
                            (*at, "observed"),
                        ),
                    )
                )
            )
        return combine(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "measure": self.measure,
            "site": self.site,
            "person_years_without_rate": self.person_years_without_rate,
            "patients_without_rate": self.patients_without_rate,
            "groups": {
                g: {
                    **r.to_dict(),
                    "by_follow_up": {b: x.to_dict() for b, x in self.by_follow_up[g].items()},
                }
                for g, r in self.groups.items()
            },
        }


@dataclass(frozen=True)
class PopulationComparison:
    """SIRs and SMR of the groups against a reference-rate file.

    Attributes
    ----------
    rates_file : str
        The file's name.
    sources : tuple of str
        The sources the file names.
    time_zero : str
    ratios : tuple of StandardizedRatio
        One per site of the file, in file order.
    """

    rates_file: str
    sources: tuple[str, ...]
    time_zero: str
    ratios: tuple[StandardizedRatio, ...]

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        return {
            "description": (
                "SIR and SMR against a reference-rate file (contract v1.2); null when the "
                "pipeline names none."
            ),
            "type": "object",
            "required": ["rates_file", "sources", "time_zero", "bands_years", "ratios"],
            "properties": {
                "rates_file": {"type": "string"},
                "sources": {"type": "array", "items": {"type": "string"}},
                "time_zero": {"enum": ["onset", "diagnosis"]},
                "bands_years": {"type": "array", "items": {"type": "string"}},
                "ratios": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "measure",
                            "site",
                            "person_years_without_rate",
                            "patients_without_rate",
                            "groups",
                        ],
                        "properties": {
                            "measure": {"enum": ["SIR", "SMR"]},
                            "site": {"type": "string"},
                            "person_years_without_rate": {"$ref": "#/$defs/number"},
                            "patients_without_rate": {"$ref": "#/$defs/count"},
                            "groups": {
                                "type": "object",
                                "additionalProperties": {
                                    "allOf": [{"$ref": "#/$defs/ratio"}],
                                    "required": ["by_follow_up"],
                                    "properties": {
                                        "by_follow_up": {
                                            "allOf": [{"$ref": "#/$defs/bands"}],
                                            "additionalProperties": {"$ref": "#/$defs/ratio"},
                                        }
                                    },
                                },
                            },
                        },
                    },
                },
            },
            "$defs": {
                "bands": BANDS_SCHEMA,
                "ratio": {
                    "type": "object",
                    "required": ["observed", "expected", "person_years", "ratio", "ratio_ci"],
                    "properties": {
                        "observed": {"$ref": "#/$defs/count"},
                        "expected": {"$ref": "#/$defs/number"},
                        "person_years": {"$ref": "#/$defs/number"},
                        "ratio": {"$ref": "#/$defs/number"},
                        "ratio_ci": {"$ref": "#/$defs/interval"},
                    },
                },
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "rates_file": self.rates_file,
            "sources": list(self.sources),
            "time_zero": self.time_zero,
            "bands_years": list(FOLLOW_UP_BANDS),
            "ratios": [r.to_dict() for r in self.ratios],
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`."""
        return combine(r.disclosure().under("ratios", i) for i, r in enumerate(self.ratios))

    def method(self) -> str:
        """The method in two sentences, with references. Toolkit text only: the rate
        file's name comes from the user and is shown, escaped, with the results."""
        return (
            "Standardized incidence (SIR) and mortality (SMR) ratios compare observed cancers "
            f"and deaths after {self.time_zero} with those expected from population rates "
            "(the reference-rate file named with the results), by a Lexis split of follow-up "
            "into age band, sex and "
            "calendar period; intervals are exact Poisson (Breslow and Day 1987), and each "
            f"ratio is also split by time since {self.time_zero} (<1, 1-3, 3-5, >=5 years)."
        )


def population_comparison(
    frame: pd.DataFrame,
    rates: ReferenceRates,
    groups: Sequence[str] = IMNM_GROUPS,
    options: MalignancyOptions | None = None,
) -> PopulationComparison:
    """SIR for every cancer site and the SMR (``all_causes``) in a reference-rate file.

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients. Not modified.
    rates : ReferenceRates
        From :func:`~imnm_cohort.analysis.rates.read_reference_rates`.
    groups : sequence of str
    options : MalignancyOptions, optional
        Time zero, which cancers count, and ``alpha``.

    Returns
    -------
    PopulationComparison
    """
    options = options or MalignancyOptions()
    frame, tte, label, at_risk = cancer_risk_set(frame, groups, options)
    t0 = days(options.time_zero_dates(frame))
    member = np.isin(label, list(groups))
    group = pd.Categorical(label, categories=list(groups)).codes  # -1 outside the groups
    ratios = []
    cancer_pieces = death_pieces = None
    measure: Literal["SIR", "SMR"]
    for site in rates.sites:
        if site == ALL_CAUSES:
            if death_pieces is None:
                end = days(end_of_observation(frame))
                keep = member & ~np.isnan(t0) & (end >= np.nan_to_num(t0, nan=np.inf))
                died = frame["death_date"].notna().to_numpy(dtype=bool)
                death_pieces = _split(frame, rates, keep, t0, end, died)
            pieces, measure = death_pieces, "SMR"
        else:
            if cancer_pieces is None:
                stop = t0 + tte["time_years"].to_numpy() * DAYS_PER_YEAR
                cancer = tte["event"].to_numpy() == EVENT
                cancer_pieces = _split(frame, rates, at_risk, t0, stop, cancer)
            pieces, measure = cancer_pieces, "SIR"
            if site != ALL_MALIGNANT:
                in_site = site_codes(site, frame["cancer_icd10"])
                pieces = pieces.assign(event=pieces["event"] * in_site[pieces["row"]])
        ratios.append(_ratio_for_site(pieces, rates, site, measure, group, groups, options.alpha))
    return PopulationComparison(rates.name, rates.sources, options.time_zero, tuple(ratios))


def _split(
    frame: pd.DataFrame,
    rates: ReferenceRates,
    keep: np.ndarray,
    entry: np.ndarray,
    stop: np.ndarray,
    event: np.ndarray,
) -> pd.DataFrame:
    """Lexis pieces of the kept patients by age, calendar year and time since entry."""
    rows = np.flatnonzero(keep)
    birth = days(frame["birth_date"]).astype(float)[rows]
    start, end = entry[rows], stop[rows]
    scales = {
        "age": TimeScale(birth, rates.age_breaks() * DAYS_PER_YEAR),
        "year": TimeScale(np.zeros(len(rows)), year_start_days(rates.year_breaks())),
        "band": follow_up_scale(start),
    }
    pieces = lexis_split(start, end, np.asarray(event)[rows].astype(np.int64), scales)
    sex = frame["sex"].astype("string").to_numpy(dtype=object, na_value="")[rows]
    sex_index = np.select([sex == "female", sex == "male"], [0, 1], 2)
    pieces["row"] = rows[pieces["patient"].to_numpy()]
    pieces["sex"] = sex_index[pieces["patient"].to_numpy()]
    return pieces


def _ratio_for_site(
    pieces: pd.DataFrame,
    rates: ReferenceRates,
    site: str,
    measure: Literal["SIR", "SMR"],
    group: np.ndarray,
    groups: Sequence[str],
    alpha: float,
) -> StandardizedRatio:
    grid = rates.grid(site)
    rate = grid[pieces["sex"], pieces["age"] + 1, pieces["year"] + 1]
    covered = np.isfinite(rate)
    years = pieces["person_years"].to_numpy()
    shape = (len(groups), len(FOLLOW_UP_BANDS))
    cell = group[pieces["row"].to_numpy()] * shape[1] + pieces["band"].to_numpy()
    observed = band_sums(cell, np.where(covered, pieces["event"], 0), shape)
    expected = band_sums(cell, np.where(covered, years * np.nan_to_num(rate), 0.0), shape)
    person_years = band_sums(cell, np.where(covered, years, 0.0), shape)
    by_group = {
        g: ratio(
            int(observed[i].sum()), float(expected[i].sum()), float(person_years[i].sum()), alpha
        )
        for i, g in enumerate(groups)
    }
    by_band = {
        g: {
            band: ratio(
                int(observed[i, j]), float(expected[i, j]), float(person_years[i, j]), alpha
            )
            for j, band in enumerate(FOLLOW_UP_BANDS)
        }
        for i, g in enumerate(groups)
    }
    uncovered = float(years[~covered].sum())
    patients = len(np.unique(pieces["patient"].to_numpy()[~covered]))
    return StandardizedRatio(measure, site, by_group, by_band, uncovered, patients)
