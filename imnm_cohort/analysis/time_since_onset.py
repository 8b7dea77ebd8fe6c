"""Cancer incidence by time since onset: an early excess shows in the first bands.

Cancer-associated myositis clusters around onset: the excess risk is highest in the first
year and fades over three to five years. Follow-up after time zero (onset by default) is
split into bands, <1, 1-3, 3-5 and >=5 years, and cancers and person-years are counted in
each band (a Lexis split on one time scale); each band's rate has an exact Poisson
interval.

References
----------
Hill CL, Zhang Y, Sigurgeirsson B, et al. Frequency of specific cancer types in
dermatomyositis and polymyositis: a population-based study. Lancet 2001;357:96-100 (the
excess by time since diagnosis).
Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II. IARC Scientific
Publications 82, 1987, chapter 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.competing import EVENT
from imnm_cohort.analysis.lexis import TimeScale, lexis_split
from imnm_cohort.analysis.malignancy import (
    MalignancyOptions,
    cancer_risk_set,
    rate_per_1000py,
)
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, Share, combine
from imnm_cohort.vocabulary import DAYS_PER_YEAR, IMNM_GROUPS

#: Band edges of time since time zero, in years, and the bands' names.
FOLLOW_UP_BREAKS = (0.0, 1.0, 3.0, 5.0)
FOLLOW_UP_BANDS = ("<1", "1-3", "3-5", ">=5")

#: JSON Schema of the bands of time since time zero in ``summary.json``.
BANDS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": f"By time since time zero, in years: {', '.join(FOLLOW_UP_BANDS)}.",
    "propertyNames": {"enum": list(FOLLOW_UP_BANDS)},
}


def follow_up_scale(entry: np.ndarray, breaks: Sequence[float] = FOLLOW_UP_BREAKS) -> TimeScale:
    """The time-since-entry scale for :func:`~imnm_cohort.analysis.lexis.lexis_split`:
    bands of follow-up from each patient's ``entry`` (in days)."""
    return TimeScale(entry, np.asarray(breaks, dtype=float) * DAYS_PER_YEAR)


def band_sums(
    cell: np.ndarray, weights: pd.Series | np.ndarray, shape: tuple[int, int]
) -> np.ndarray:
    """Sums of ``weights`` per (group, band) cell ``group * bands + band``, as an array."""
    flat = np.bincount(
        cell, weights=np.asarray(weights, dtype=float), minlength=shape[0] * shape[1]
    )
    return flat.reshape(shape)


@dataclass(frozen=True)
class BandRate:
    """Cancers and person-years in one follow-up band.

    Counts: ``events`` (cancers in the band).
    """

    events: int
    person_years: float
    rate_per_1000py: float | None
    rate_ci: tuple[float, float] | None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "events": self.events,
            "person_years": self.person_years,
            "rate_per_1000py": self.rate_per_1000py,
            "rate_ci": list(self.rate_ci) if self.rate_ci else None,
        }


def band_rate(events: int, person_years: float, alpha: float) -> BandRate:
    """Rate per 1,000 person-years with its exact Poisson interval (None without time)."""
    return BandRate(events, person_years, *rate_per_1000py(events, person_years, alpha))


@dataclass(frozen=True)
class IncidenceByFollowUp:
    """Cancer incidence by group and band of time since time zero.

    Attributes
    ----------
    time_zero : str
    bands : tuple of str
    groups : dict
        Group -> band -> :class:`BandRate`.
    """

    time_zero: str
    bands: tuple[str, ...]
    groups: dict[str, dict[str, BandRate]]

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        return {
            "type": "object",
            "description": ("Cancer incidence by band of time since time zero, per IMNM group."),
            "required": ["time_zero", "bands_years", "groups"],
            "properties": {
                "time_zero": {"enum": ["onset", "diagnosis"]},
                "bands_years": {"type": "array", "items": {"type": "string"}},
                "groups": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["by_follow_up"],
                        "properties": {
                            "by_follow_up": {
                                "allOf": [{"$ref": "#/$defs/bands"}],
                                "additionalProperties": {"$ref": "#/$defs/bandRate"},
                            }
                        },
                    },
                },
            },
            "$defs": {
                "bands": BANDS_SCHEMA,
                "bandRate": {
                    "type": "object",
                    "required": ["events", "person_years", "rate_per_1000py", "rate_ci"],
                    "properties": {
                        "events": {"$ref": "#/$defs/count"},
                        "person_years": {"$ref": "#/$defs/number"},
                        "rate_per_1000py": {"$ref": "#/$defs/number"},
                        "rate_ci": {"$ref": "#/$defs/interval"},
                    },
                },
            },
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON."""
        return {
            "time_zero": self.time_zero,
            "bands_years": list(self.bands),
            "groups": {
                g: {"by_follow_up": {band: r.to_dict() for band, r in by.items()}}
                for g, by in self.groups.items()
            },
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: each band's cancers give back its
        rate; a group's bands add up to its cancers in the malignancy table (key
        ``cancers:<group>``)."""
        parts = []
        for g, by in self.groups.items():
            at = ("groups", g, "by_follow_up")
            parts.append(
                Declaration(
                    counts=tuple(
                        Count(
                            (*at, b, "events"),
                            reveals=((*at, b, "rate_per_1000py"), (*at, b, "rate_ci")),
                        )
                        for b in by
                    ),
                    margins=(Margin(tuple((*at, b, "events") for b in by), f"cancers:{g}"),),
                    shares=tuple(
                        Share(
                            (*at, b, "rate_per_1000py"),
                            (*at, b, "events"),
                            (*at, b, "person_years"),
                            1000.0,
                        )
                        for b in by
                    ),
                )
            )
        return combine(parts)

    def method(self) -> str:
        """The method in one sentence."""
        return (
            f"Cancer incidence after {self.time_zero} was split by time since "
            f"{self.time_zero} (<1, 1-3, 3-5 and >=5 years; a Lexis split of each "
            "patient's follow-up) with exact Poisson intervals per band."
        )


def incidence_by_follow_up(
    frame: pd.DataFrame,
    groups: Sequence[str] = IMNM_GROUPS,
    options: MalignancyOptions | None = None,
) -> IncidenceByFollowUp:
    """Cancers, person-years and rates by band of time since time zero.

    Patients at risk, follow-up and events are those of the malignancy analysis
    (:func:`~imnm_cohort.analysis.malignancy.time_to_cancer`).

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients. Not modified.
    groups : sequence of str
    options : MalignancyOptions, optional

    Returns
    -------
    IncidenceByFollowUp
    """
    options = options or MalignancyOptions()
    _, tte, label, keep = cancer_risk_set(frame, groups, options)
    stop = tte["time_years"].to_numpy()[keep] * DAYS_PER_YEAR
    event = (tte["event"].to_numpy()[keep] == EVENT).astype(np.int64)
    entry = np.zeros(len(stop))
    pieces = lexis_split(entry, stop, event, {"band": follow_up_scale(entry)})
    code = pd.Categorical(label[keep], categories=list(groups)).codes
    shape = (len(groups), len(FOLLOW_UP_BANDS))
    cell = code[pieces["patient"].to_numpy()] * shape[1] + pieces["band"].to_numpy()
    events = band_sums(cell, pieces["event"], shape)
    years = band_sums(cell, pieces["person_years"], shape)
    result = {
        g: {
            band: band_rate(int(events[i, j]), float(years[i, j]), options.alpha)
            for j, band in enumerate(FOLLOW_UP_BANDS)
        }
        for i, g in enumerate(groups)
    }
    return IncidenceByFollowUp(options.time_zero, FOLLOW_UP_BANDS, result)
