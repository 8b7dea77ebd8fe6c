"""The results of the statin-population analysis: rates per 100,000 person-years with exact
Poisson intervals, exact conditional rate ratios, and the result with its disclosure
declaration and JSON Schema. The database part is :mod:`imnm_cohort.analysis.statin_population`.

References
----------
Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II: The Design and Analysis
of Cohort Studies. IARC Scientific Publications 82, 1987, chapters 2 and 3.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.intervals import clopper_pearson, poisson_exact
from imnm_cohort.analysis.schema import ref
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, combine
from imnm_cohort.sources.omop_rules import STATIN_WINDOWS, StatinOptions
from imnm_cohort.vocabulary import IMNM_GROUPS

__all__ = [
    "ALL_IMNM", "ANY_STATIN", "ExposureSummary", "GroupRate", "RateRatio", "StatinPopulation",
    "StatinPopulationSettings", "rate_ratio",
]  # fmt: skip

#: The key of "any statin" beside the ingredients.
ANY_STATIN = "any_statin"
#: The key of all three IMNM groups together.
ALL_IMNM = "imnm"
PER = 100_000
WINDOWS = STATIN_WINDOWS


@dataclass(frozen=True)
class StatinPopulationSettings:
    """The choices of the analysis (``[omop]`` options, recorded in the manifest).

    Attributes
    ----------
    persistence_gap_days : int
        Two exposures at most this many days apart belong to one era (30).
    window : {"ever", "current"}
        Exposed time runs from the first era's start to the end of observation ("ever":
        onset during or after exposure), or only within eras ("current").
    age_bands : tuple of int
        Lower edges of the age bands, in years, from 0.
    alpha : float
        1 - the confidence level of the intervals.
    """

    persistence_gap_days: int = StatinOptions.persistence_gap_days
    window: str = StatinOptions.window
    age_bands: tuple[int, ...] = (0, 18, 40, 50, 60, 70, 80)
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if self.window not in WINDOWS:
            raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
        if self.persistence_gap_days < 0:
            raise ValueError("persistence_gap_days must be 0 or more")
        bands = self.age_bands
        if not bands or bands[0] != 0 or any(b <= a for a, b in itertools.pairwise(bands)):
            raise ValueError("age_bands must start at 0 and increase")

    def band_labels(self) -> tuple[str, ...]:
        """``0-17``, ``18-39``, ..., ``80+``."""
        b = self.age_bands
        return tuple(
            f"{lo}-{hi - 1}" if i + 1 < len(b) else f"{lo}+"
            for i, (lo, hi) in enumerate(zip(b, (*b[1:], 0), strict=True))
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings."""
        return {
            "persistence_gap_days": self.persistence_gap_days,
            "window": self.window,
            "age_bands": list(self.band_labels()),
            "alpha": self.alpha,
            "per_person_years": PER,
        }


@dataclass(frozen=True)
class GroupRate:
    """Events and person-time of one group in one exposure, with the rate per 100,000."""

    events: int
    person_years: float
    rate: float | None
    rate_ci: tuple[float, float] | None

    @classmethod
    def of(cls, events: int, person_years: float, alpha: float = 0.05) -> GroupRate:
        """The rate with its exact (Garwood) Poisson interval; None without person-time."""
        if person_years <= 0:
            return cls(int(events), float(person_years), None, None)
        lo, hi = poisson_exact(events, person_years, alpha)
        return cls(
            int(events), float(person_years), PER * events / person_years, (PER * lo, PER * hi)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "events": self.events,
            "rate": self.rate,
            "rate_ci": list(self.rate_ci) if self.rate_ci else None,
        }


@dataclass(frozen=True)
class RateRatio:
    """Exposed / unexposed rate ratio with its exact conditional interval and p-value."""

    ratio: float | None
    ci: tuple[float | None, float | None] | None
    p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "ratio": self.ratio,
            "ci": list(self.ci) if self.ci else None,
            "p_value": self.p_value,
        }


def rate_ratio(
    exposed_events: int,
    exposed_time: float,
    unexposed_events: int,
    unexposed_time: float,
    alpha: float = 0.05,
) -> RateRatio:
    """Rate ratio with the exact interval conditional on the total number of events.

    Given ``n = x1 + x0`` events, ``x1`` is binomial with ``p = RR t1 / (RR t1 + t0)``; the
    Clopper-Pearson interval for ``p`` gives the interval ``p / (1 - p) * t0 / t1`` for the
    ratio, and the two-sided exact binomial test of ``p = t1 / (t1 + t0)`` the p-value (as
    R's ``poisson.test(c(x1, x0), c(t1, t0))``). Undefined parts are None: the ratio and
    upper limit without unexposed events, everything without events or time.

    References
    ----------
    Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II, 1987, section 3.4.
    """
    from scipy import stats

    x1, x0 = int(exposed_events), int(unexposed_events)
    t1, t0 = float(exposed_time), float(unexposed_time)
    n = x1 + x0
    if n == 0 or t1 <= 0 or t0 <= 0:
        return RateRatio(None, None, None)
    p_lo, p_hi = clopper_pearson(x1, n, alpha)

    def ratio(p: float) -> float | None:
        return None if p >= 1 else p / (1 - p) * t0 / t1

    estimate = ratio(x1 / n)
    p_value = float(stats.binomtest(x1, n, t1 / (t1 + t0)).pvalue)
    return RateRatio(estimate, (ratio(p_lo) or 0.0, ratio(p_hi)), p_value)


@dataclass(frozen=True)
class ExposureSummary:
    """One ingredient (or any statin): who took it, its eras, and the exposed rates."""

    persons: int
    eras: int
    era_years: float
    person_years: float
    groups: dict[str, GroupRate]
    ratios: dict[str, RateRatio]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "persons": self.persons,
            "eras": self.eras,
            "era_years": self.era_years,
            "person_years": self.person_years,
            "groups": {g: r.to_dict() for g, r in self.groups.items()},
            "rate_ratios": {g: r.to_dict() for g, r in self.ratios.items()},
        }


@dataclass(frozen=True)
class StatinPopulation:
    """IMNM incidence among statin users and the unexposed, by ingredient and group.

    Attributes
    ----------
    settings : StatinPopulationSettings
    exposures : dict
        ``any_statin`` then each ingredient -> :class:`ExposureSummary`.
    unexposed : ExposureSummary
        Person-time before any statin (``persons``: persons with such time; no eras).
    strata : pandas.DataFrame
        Any statin: ``exposure`` (exposed, unexposed), ``age_band``, ``sex``, ``year``,
        ``person_years``, ``events`` (all IMNM).
    cases_outside : int
        Cases given whose onset lies in no counted person-time (outside observation, or
        before the period's start).
    """

    settings: StatinPopulationSettings
    exposures: dict[str, ExposureSummary]
    unexposed: ExposureSummary
    strata: pd.DataFrame
    cases_outside: int

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        rate = {
            "type": "object",
            "required": ["events", "rate", "rate_ci"],
            "properties": {
                "events": ref("count"),
                "rate": ref("number"),
                "rate_ci": ref("interval"),
            },
        }
        ratio = {
            "type": "object",
            "required": ["ratio", "ci", "p_value"],
            "properties": {"ratio": ref("number"), "ci": ref("interval"), "p_value": ref("pValue")},
        }
        exposure = {
            "type": "object",
            "required": ["persons", "eras", "person_years", "groups", "rate_ratios"],
            "properties": {
                "persons": ref("count"),
                "eras": ref("count"),
                "era_years": ref("number"),
                "person_years": ref("number"),
                "groups": {"type": "object", "additionalProperties": ref("statinGroupRate")},
                "rate_ratios": {
                    "type": "object",
                    "additionalProperties": ref("statinRateRatio"),
                },
            },
        }
        stratum = {
            "type": "object",
            "required": ["exposure", "age_band", "sex", "year", "person_years", "events"],
            "properties": {
                "exposure": {"enum": ["exposed", "unexposed"]},
                "age_band": {"type": "string"},
                "sex": {"enum": ["female", "male", "unknown"]},
                "year": {"type": "string"},
                "person_years": ref("number"),
                "events": ref("count"),
            },
        }
        return {
            "type": "object",
            "required": ["settings", "exposed", "unexposed", "cases_outside", "strata"],
            "properties": {
                "settings": {"type": "object"},
                "exposed": {"type": "object", "additionalProperties": ref("statinExposure")},
                "unexposed": ref("statinExposure"),
                "cases_outside": ref("count"),
                "strata": {"type": "array", "items": ref("statinStratum")},
            },
            "$defs": {
                "statinGroupRate": rate,
                "statinRateRatio": ratio,
                "statinExposure": exposure,
                "statinStratum": stratum,
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: aggregates only (no identifier, no date)."""
        s = self.strata
        text = [s[c].astype(str).tolist() for c in ("exposure", "age_band", "sex", "year")]
        strata = [
            {
                "exposure": exposure,
                "age_band": band,
                "sex": sex,
                "year": year,
                "person_years": float(py),
                "events": int(events),
            }
            for exposure, band, sex, year, py, events in zip(
                *text,
                s["person_years"].to_numpy(dtype=float),
                s["events"].to_numpy(dtype=np.int64),
                strict=True,
            )
        ]
        return {
            "settings": self.settings.to_dict(),
            "exposed": {k: e.to_dict() for k, e in self.exposures.items()},
            "unexposed": self.unexposed.to_dict(),
            "cases_outside": self.cases_outside,
            "strata": strata,
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`.

        Each event count gives its rate and interval back and the rate ratios it enters;
        the IMNM groups add up to the IMNM total; the strata's events add up to the any-
        statin totals, exposed and unexposed. Persons and eras are counts too.
        """
        groups = (*IMNM_GROUPS, ALL_IMNM)
        parts = [Declaration(cleared=(("settings",),))]
        parts.append(Declaration(counts=(Count(("cases_outside",)),)))
        summaries: dict[tuple[str, ...], ExposureSummary] = {
            ("exposed", k): e for k, e in self.exposures.items()
        }
        summaries[("unexposed",)] = self.unexposed
        for at, summary in summaries.items():
            counts = [Count((*at, "persons")), Count((*at, "eras"))]
            for g in summary.groups:
                if at == ("unexposed",):
                    ratios = tuple((*k, "rate_ratios", g) for k in summaries if k != ("unexposed",))
                else:
                    ratios = ((*at, "rate_ratios", g),)
                counts.append(
                    Count(
                        (*at, "groups", g, "events"),
                        reveals=((*at, "groups", g, "rate"), (*at, "groups", g, "rate_ci")),
                        dependents=ratios,
                    )
                )
            margins = (
                Margin(
                    tuple((*at, "groups", g, "events") for g in IMNM_GROUPS),
                    (*at, "groups", ALL_IMNM, "events"),
                ),
            )
            rounded = tuple((*at, "rate_ratios", g, "p_value") for g in groups)
            parts.append(Declaration(counts=tuple(counts), margins=margins, rounded=rounded))
        rows = range(len(self.strata))
        exposure = self.strata["exposure"].to_numpy(dtype=str)
        parts.append(
            Declaration(
                counts=tuple(Count(("strata", i, "events")) for i in rows),
                margins=tuple(
                    Margin(
                        tuple(("strata", i, "events") for i in rows if exposure[i] == side),
                        total,
                    )
                    for side, total in (
                        ("exposed", ("exposed", ANY_STATIN, "groups", ALL_IMNM, "events")),
                        ("unexposed", ("unexposed", "groups", ALL_IMNM, "events")),
                    )
                ),
                cleared=tuple(("strata", i, "year") for i in rows),
            )
        )
        return combine(parts)

    def method(self) -> str:
        """The method in one sentence."""
        s = self.settings
        when = (
            "from the first statin on (onset during or after exposure)"
            if s.window == "ever"
            else "within exposure eras"
        )
        return (
            "IMNM incidence among statin users was computed in the OMOP CDM database: "
            f"statin exposure eras from drug_exposure (persistence gap {s.persistence_gap_days} "
            f"days), person-time counted exposed {when} and unexposed before any statin, "
            "split by calendar year, age band and sex and stopped at onset; rates per "
            "100,000 person-years with exact Poisson intervals and exposed/unexposed rate "
            "ratios with exact intervals conditional on the number of events."
        )
