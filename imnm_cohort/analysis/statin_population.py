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

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from imnm_cohort.analysis.statin_rates import (
    ALL_IMNM,
    ANY_STATIN,
    ExposureSummary,
    GroupRate,
    RateRatio,
    StatinPopulation,
    StatinPopulationSettings,
    rate_ratio,
)
from imnm_cohort.vocabulary import IMNM_GROUPS

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: ``small(frame) -> ibis Table``: a small frame as a table of the database.
SmallTable = Callable[[pd.DataFrame], "ir.Table"]

__all__ = [
    "ANY_STATIN", "GroupRate", "RateRatio", "StatinPopulation", "StatinPopulationSettings",
    "rate_ratio", "statin_population",
]  # fmt: skip

FEMALE, MALE = 8532, 8507
#: Calendar years the split covers (person-time outside them is an error, not lost).
YEARS = range(1900, 2101)


# --------------------------------------------------------------------------- in SQL
def _statin_rows(
    drug_exposure: ir.Table,
    concept_ancestor: ir.Table | None,
    ingredients: Mapping[str, int],
    small: SmallTable,
) -> ir.Table:
    """Statin exposures: person, ingredient key, start and end as day numbers."""
    import ibis

    ids = {int(v): k for k, v in ingredients.items()}
    self_rows = small(
        pd.DataFrame(
            {"ancestor": list(ids), "descendant": list(ids), "ingredient": list(ids.values())}
        )
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
    small: SmallTable | None = None,
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
    small : callable, optional
        ``small(frame) -> ibis Table``: how a small frame (the cases, the calendar years,
        the ingredient ids) enters the database; ``ibis.memtable`` by default. A read-only
        PostgreSQL session cannot create the temporary table a memtable becomes: there, the
        OMOP source writes the rows into the query (``VALUES``).

    Returns
    -------
    StatinPopulation
    """
    import ibis

    settings = settings or StatinPopulationSettings()
    small = small or ibis.memtable
    if not ingredients:
        raise ValueError("no statin ingredient ids given")
    if ANY_STATIN in ingredients:
        raise ValueError(f"{ANY_STATIN!r} is not an ingredient name")
    person, op = tables["person"], tables["observation_period"]
    rows = _statin_rows(tables["drug_exposure"], tables.get("concept_ancestor"), ingredients, small)
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
    onsets = small(case_table)
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
    years = small(_year_table())

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
