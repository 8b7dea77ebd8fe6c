"""IMNM incidence among statin users, computed inside an OMOP CDM database.

Every step up to the aggregates runs in the database as ibis expressions (DuckDB,
PostgreSQL, or any ibis backend); only counts of events and sums of person-time by stratum
leave it. The steps (``docs/omop.md``, "IMNM incidence among statin users"):

1. **Statin exposures**: ``drug_exposure`` rows whose ``drug_concept_id`` is a statin
   ingredient or a descendant of one in ``concept_ancestor`` (the ingredient ids alone
   where ``concept_ancestor`` is empty). A row's end is ``drug_exposure_end_date``, else
   start + ``days_supply`` - 1, else its start.
2. **Eras** by ingredient and for any statin: rows sorted by start; a row opens a new era
   when it starts more than the persistence gap (30 days by default) after the latest end
   so far.
3. **Person-time** in each observation period: *unexposed* from the period's start to the
   first statin (the whole period for a person who never takes one); *exposed* to an
   ingredient (or to any statin) from its first era's start to the period's end (window
   ``"ever"``: onset during or after exposure), or within its eras only (``"current"``).
   Follow-up stops at IMNM onset. Person-time is split by calendar year, age band (age =
   calendar year - year of birth, the age reached during the year) and sex.
4. **Incident IMNM** by group: a case counts in the interval that holds its onset day
   (start <= onset < end); a case whose onset lies outside every observation period, or
   before its period's start, adds no event and no time from that period on.
5. **Rates** per 100,000 person-years with exact Poisson intervals, and **rate ratios**
   exposed / unexposed with exact intervals conditional on the total number of events
   (the binomial method of R's ``poisson.test``).

References
----------
Breslow NE, Day NE. Statistical Methods in Cancer Research, vol. II: The Design and Analysis
of Cohort Studies. IARC Scientific Publications 82, 1987, chapters 2 and 3.
Ryan P. Drug eras (OHDSI CDM drug_era: persistence window of 30 days), OHDSI, 2014.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.intervals import clopper_pearson, poisson_exact
from imnm_cohort.analysis.schema import ref
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, combine
from imnm_cohort.vocabulary import IMNM_GROUPS

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = [
    "ANY_STATIN", "GroupRate", "RateRatio", "StatinPopulation", "StatinPopulationSettings",
    "rate_ratio", "statin_population",
]  # fmt: skip

#: The key of "any statin" beside the ingredients.
ANY_STATIN = "any_statin"
#: The key of all three IMNM groups together.
ALL_IMNM = "imnm"
PER = 100_000
FEMALE, MALE = 8532, 8507
WINDOWS = ("ever", "current")
#: Calendar years the split covers (person-time outside them is an error, not lost).
YEARS = range(1900, 2101)


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

    persistence_gap_days: int = 30
    window: str = "ever"
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


# --------------------------------------------------------------------------- in SQL
def _statin_rows(
    drug_exposure: ir.Table, concept_ancestor: ir.Table | None, ingredients: Mapping[str, int]
) -> ir.Table:
    """Statin exposures: person, ingredient key, start and end as day numbers."""
    import ibis

    ids = {int(v): k for k, v in ingredients.items()}
    self_rows = ibis.memtable(
        {"ancestor": list(ids), "descendant": list(ids), "ingredient": list(ids.values())}
    )
    mapping = self_rows
    if concept_ancestor is not None:
        ca = concept_ancestor.filter(concept_ancestor.ancestor_concept_id.isin(list(ids)))
        ca = ca.select(
            ancestor=ca.ancestor_concept_id.cast("int64"),
            descendant=ca.descendant_concept_id.cast("int64"),
        )
        named = ca.join(self_rows.select("ancestor", "ingredient"), "ancestor")
        mapping = ibis.union(
            self_rows, named.select("ancestor", "descendant", "ingredient"), distinct=True
        )
    de = drug_exposure
    rows = de.join(mapping, de.drug_concept_id.cast("int64") == mapping.descendant)
    start = rows.drug_exposure_start_date.epoch_days()
    end = rows.drug_exposure_end_date.epoch_days().coalesce(
        start + rows.days_supply.cast("int64") - 1, start
    )
    rows = rows.select(
        person_id=rows.person_id.cast("int64"),
        ingredient=rows.ingredient,
        exposure_id=rows.drug_exposure_id.cast("int64"),
        start=start,
        end=ibis.greatest(end, start),
    )
    return rows.filter(rows.start.notnull())


def _eras(rows: ir.Table, gap: int) -> ir.Table:
    """Eras per person and key (``ingredient``): start, end (inclusive day numbers)."""
    import ibis

    # Of rows starting the same day only the first can open an era; the row id makes the
    # order total, so that both passes see the same one.
    keys, order = ["person_id", "ingredient"], ["start", "exposure_id"]
    before = ibis.window(group_by=keys, order_by=order, rows=(None, -1))
    upto = ibis.window(group_by=keys, order_by=order, rows=(None, 0))
    t = rows.mutate(before=rows.end.max().over(before))
    t = t.mutate(opens=ibis.ifelse(t.before.isnull() | (t.start > t.before + gap), 1, 0))
    t = t.mutate(era=t.opens.sum().over(upto))
    return t.group_by(["person_id", "ingredient", "era"]).aggregate(
        start=t.start.min(), end=t.end.max()
    )


def statin_population(
    tables: Mapping[str, ir.Table],
    ingredients: Mapping[str, int],
    cases: pd.DataFrame,
    settings: StatinPopulationSettings | None = None,
) -> StatinPopulation:
    """IMNM incidence among statin users, by ingredient and group, in the database.

    Parameters
    ----------
    tables : mapping of str to ibis Table
        The CDM tables ``person``, ``observation_period``, ``drug_exposure`` and, when the
        database has it, ``concept_ancestor`` (absent or empty: the ingredient ids alone).
    ingredients : mapping of str to int
        Statin ingredient name -> concept id (RxNorm ingredients under ATC C10AA).
    cases : pandas.DataFrame
        The IMNM cases found: ``person_id``, ``onset_date`` and ``group`` (``hmgcr``,
        ``srp``, ``seronegative``; other groups are left out). A person's earliest onset
        counts. Sent to the database as a small table.
    settings : StatinPopulationSettings, optional

    Returns
    -------
    StatinPopulation
    """
    import ibis

    settings = settings or StatinPopulationSettings()
    if not ingredients:
        raise ValueError("no statin ingredient ids given")
    if ANY_STATIN in ingredients:
        raise ValueError(f"{ANY_STATIN!r} is not an ingredient name")
    person, op = tables["person"], tables["observation_period"]
    rows = _statin_rows(tables["drug_exposure"], tables.get("concept_ancestor"), ingredients)
    rows = ibis.union(rows, rows.mutate(ingredient=ibis.literal(ANY_STATIN)))
    eras = _eras(rows, settings.persistence_gap_days)
    first = eras.group_by(["person_id", "ingredient"]).aggregate(first=eras.start.min())
    any_first = first.filter(first.ingredient == ANY_STATIN).select("person_id", any_first="first")

    periods = op.select(
        person_id=op.person_id.cast("int64"),
        op_start=op.observation_period_start_date.epoch_days(),
        op_end=op.observation_period_end_date.epoch_days() + 1,  # exclusive
    )
    # Unexposed: a period's start to the first statin (or the period's end).
    un = periods.left_join(any_first, "person_id")
    un = un.select(
        person_id=un.person_id,
        key=ibis.literal("unexposed"),
        start=un.op_start,
        end=ibis.least(un.op_end, un.any_first.coalesce(un.op_end)),
    )
    # Exposed: from the first era ("ever") or each era ("current"), within the period.
    if settings.window == "ever":
        source = first.select("person_id", "ingredient", start="first")
    else:
        source = eras.select("person_id", "ingredient", "start", end=eras.end + 1)
    ex = periods.join(source, "person_id")
    if settings.window == "ever":
        stop = ex.op_end
        ex = ex.filter(ex.start < ex.op_end)
    else:
        ex = ex.filter((ex.start < ex.op_end) & (ex.end > ex.op_start))
        stop = ibis.least(ex.op_end, ex.end)
    ex = ex.select(
        person_id=ex.person_id,
        key=ex.ingredient,
        start=ibis.greatest(ex.op_start, ex.start),
        end=stop,
    )
    intervals = ibis.union(un, ex).filter(lambda t: t.end > t.start)

    case_table = _case_table(cases)
    onsets = ibis.memtable(case_table)
    t = intervals.left_join(onsets, "person_id")
    t = t.mutate(
        event=t.onset.notnull() & (t.onset >= t.start) & (t.onset < t.end),
        stop=ibis.least(t.end, t.onset.coalesce(t.end)),
    )
    people = person.select(
        person_id=person.person_id.cast("int64"),
        year_of_birth=person.year_of_birth.cast("int64"),
        sex=ibis.cases(
            (person.gender_concept_id == FEMALE, "female"),
            (person.gender_concept_id == MALE, "male"),
            else_="unknown",
        ),
    )
    t = t.join(people, "person_id")
    years = ibis.memtable(_year_table())

    timed = t.filter(t.stop > t.start)
    split = timed.join(years, (timed.start < years.year_end) & (timed.stop > years.year_start))
    split = split.mutate(
        days=ibis.least(split.stop, split.year_end) - ibis.greatest(split.start, split.year_start),
        age=split.year - split.year_of_birth,
    )
    split = split.mutate(age_band=_band(split.age, settings))
    time_cells = split.group_by(["key", "age_band", "sex", "year"]).aggregate(a=split.days.sum())
    hits = t.filter(t.event)
    hits = hits.join(years, (hits.onset >= years.year_start) & (hits.onset < years.year_end))
    hits = hits.mutate(age_band=_band(hits.year - hits.year_of_birth, settings))
    event_cells = hits.group_by(["key", "age_band", "sex", "year", "group"]).aggregate(
        a=hits.person_id.count()
    )
    era_counts = eras.group_by(key="ingredient").aggregate(
        a=eras.person_id.nunique(), b=eras.person_id.count(), c=(eras.end + 1 - eras.start).sum()
    )
    unexposed = intervals.filter(intervals.key == "unexposed")
    # One query: every aggregate as rows of one shape (one compilation, one round trip).
    parts = {
        "time": time_cells,
        "events": event_cells,
        "eras": era_counts,
        "unexposed": unexposed.aggregate(a=unexposed.person_id.nunique()),
        "counted": hits.aggregate(a=hits.person_id.nunique()),
    }
    shape = {
        "key": "string", "age_band": "string", "sex": "string", "year": "int64",
        "group": "string", "a": "int64", "b": "int64", "c": "int64",
    }  # fmt: skip
    rows = ibis.union(
        *(
            part.select(
                kind=ibis.literal(kind),
                **{
                    c: (part[c] if c in part.columns else ibis.null()).cast(dtype)
                    for c, dtype in shape.items()
                },
            )
            for kind, part in parts.items()
        )
    ).to_pandas()
    of = {kind: rows[rows["kind"] == kind] for kind in parts}
    return _summarise(
        settings,
        list(ingredients),
        of["time"].rename(columns={"a": "days"}),
        of["events"].rename(columns={"a": "events"}),
        of["eras"].rename(
            columns={"key": "ingredient", "a": "persons", "b": "eras", "c": "era_days"}
        ),
        int(of["unexposed"]["a"].fillna(0).sum()),
        int(len(case_table) - of["counted"]["a"].fillna(0).sum()),
    )


def _case_table(cases: pd.DataFrame) -> pd.DataFrame:
    """The earliest onset of each person in an IMNM group, onset as a day number."""
    missing = [c for c in ("person_id", "onset_date", "group") if c not in cases.columns]
    if missing:
        raise ValueError(f"cases lack column {missing[0]!r}")
    frame = cases.loc[cases["group"].isin(IMNM_GROUPS), ["person_id", "onset_date", "group"]]
    onset = pd.to_datetime(frame["onset_date"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
    out = pd.DataFrame(
        {
            "person_id": frame["person_id"].to_numpy(dtype=np.int64),
            "onset": onset,
            "group": frame["group"].astype(str).to_numpy(),
        }
    )
    return out.sort_values(["person_id", "onset"]).drop_duplicates("person_id", keep="first")


def _year_table() -> pd.DataFrame:
    years = np.array(YEARS)
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return pd.DataFrame(
        {"year": years, "year_start": start, "year_end": np.r_[start[1:], start[-1] + 366]}
    )


def _band(age: ir.IntegerValue, settings: StatinPopulationSettings) -> ir.StringValue:
    import ibis

    labels = settings.band_labels()
    edges = settings.age_bands
    cases = [(age.isnull(), "unknown")]
    cases += [(age < edges[i + 1], labels[i]) for i in range(len(edges) - 1)]
    return ibis.cases(*cases, else_=labels[-1])


def _summarise(
    settings: StatinPopulationSettings,
    names: Sequence[str],
    time_cells: pd.DataFrame,
    event_cells: pd.DataFrame,
    era_counts: pd.DataFrame,
    unexposed_persons: int,
    cases_outside: int,
) -> StatinPopulation:
    """Rates and ratios from the aggregates that left the database."""
    years = time_cells.groupby("key")["days"].sum() / 365.25
    events = event_cells.groupby(["key", "group"])["events"].sum()

    def count(key: str, group: str) -> int:
        if group == ALL_IMNM:
            return int(sum(count(key, g) for g in IMNM_GROUPS))
        return int(events.get((key, group), 0))

    def rates(key: str) -> dict[str, GroupRate]:
        py = float(years.get(key, 0.0))
        return {
            g: GroupRate.of(count(key, g), py, settings.alpha) for g in (*IMNM_GROUPS, ALL_IMNM)
        }

    base = rates("unexposed")
    unexposed = ExposureSummary(
        unexposed_persons, 0, 0.0, float(years.get("unexposed", 0.0)), base, {}
    )
    eras = {
        str(k): (int(p), int(n), int(d))
        for k, p, n, d in zip(
            era_counts["ingredient"],
            era_counts["persons"].to_numpy(dtype=np.int64),
            era_counts["eras"].to_numpy(dtype=np.int64),
            era_counts["era_days"].to_numpy(dtype=np.int64),
            strict=True,
        )
    }
    exposures = {}
    for key in (ANY_STATIN, *names):
        groups = rates(key)
        ratios = {
            g: rate_ratio(
                r.events, r.person_years, base[g].events, base[g].person_years, settings.alpha
            )
            for g, r in groups.items()
        }
        persons, count_eras, era_days = eras.get(key, (0, 0, 0))
        exposures[key] = ExposureSummary(
            persons,
            count_eras,
            era_days / 365.25,
            float(years.get(key, 0.0)),
            groups,
            ratios,
        )
    strata = _strata(time_cells, event_cells, settings)
    return StatinPopulation(settings, exposures, unexposed, strata, cases_outside)


def _strata(
    time_cells: pd.DataFrame, event_cells: pd.DataFrame, settings: StatinPopulationSettings
) -> pd.DataFrame:
    """Any statin and unexposed person-years and events by age band, sex and year."""
    keys = ["key", "age_band", "sex", "year"]
    t = time_cells[time_cells["key"].isin([ANY_STATIN, "unexposed"])]
    e = event_cells[event_cells["key"].isin([ANY_STATIN, "unexposed"])]
    summed = e.groupby(keys)["events"].sum().reset_index()
    out = t.merge(summed, on=keys, how="outer")
    out["events"] = out["events"].fillna(0).astype(np.int64)
    out["person_years"] = out["days"].fillna(0) / 365.25
    out["exposure"] = np.where(out["key"] == "unexposed", "unexposed", "exposed")
    order = {label: i for i, label in enumerate(settings.band_labels())}
    out["_band"] = out["age_band"].map(order)
    out = out.sort_values(["exposure", "_band", "sex", "year"], kind="stable")
    return out[["exposure", "age_band", "sex", "year", "person_years", "events"]].reset_index(
        drop=True
    )
