"""Persons, observation periods, statin courses and planted onsets: one chunk of persons
drawn as whole arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from imnm_cohort.synth_omop.design import (
    CONCEPTS,
    EHR,
    GENDER,
    OTHER_DRUGS,
    STATIN_INGREDIENTS,
    STATIN_WEIGHTS,
    TRUE_GROUPS,
    U_PER_UKAT,
    OmopPlan,
)
from imnm_cohort.synth_omop.events import condition_rows, measurement_rows
from imnm_cohort.synth_omop.tables import (
    CUTOFF_DAY,
    DAY0,
    NO_DAY,
    RowIds,
    arrow_table,
    date_days,
    masked_codes,
    place_days,
    text_codes,
)

if TYPE_CHECKING:
    import pyarrow as pa


def draw_chunk(
    rng: np.random.Generator, first_person: int, m: int, plan: OmopPlan, ids: RowIds
) -> dict[str, pa.Table]:
    """Every table's rows for persons ``first_person`` to ``first_person + m - 1``."""
    person_id = np.arange(first_person, first_person + m, dtype=np.int64)
    female = rng.random(m) < 0.52
    yob = rng.integers(1930, 1996, m)
    mob, dob = rng.integers(1, 13, m), rng.integers(1, 29, m)
    birth = date_days(yob, mob, dob)

    # Observation periods: one, or two with a gap (end dates inclusive).
    s1 = DAY0 + rng.integers(0, 12 * 365, m)
    e1 = np.minimum(s1 + rng.integers(2 * 365, 12 * 365, m), CUTOFF_DAY)
    s2 = e1 + rng.integers(180, 720, m)
    e2 = np.minimum(s2 + rng.integers(365, 6 * 365, m), CUTOFF_DAY)
    two = (rng.random(m) < plan.two_periods) & (s2 + 30 <= e2)
    len1 = e1 + 1 - s1
    len2 = np.where(two, e2 + 1 - s2, 0)
    last_end = np.where(two, e2, e1)

    # Statin users: the first course inside the first period, sometimes a switch.
    age = (s1 - birth) / 365.25
    share = np.where(age >= 45, plan.statin_share_older, plan.statin_share_younger)
    user = rng.random(m) < np.where(age >= 18, share, 0.0)  # no statins for children
    first = s1 + np.floor(rng.random(m) * 0.7 * (e1 - s1)).astype(np.int64)
    ingredient = rng.choice(len(STATIN_WEIGHTS), m, p=STATIN_WEIGHTS)
    switch_day = first + rng.integers(180, 1500, m)
    switch = user & (rng.random(m) < 0.15) & (switch_day < e1)
    second = (ingredient + 1 + rng.integers(0, len(STATIN_WEIGHTS) - 1, m)) % len(STATIN_WEIGHTS)

    # Planted onsets: a Poisson process before and from the first statin.
    per_day = 1 / (100_000 * 365.25)
    unexposed_time = np.where(user, first - s1, len1 + len2)
    exposed_time = np.where(user, e1 + 1 - first + len2, 0)
    t0 = rng.exponential(1 / (plan.unexposed_rate * per_day), m) if plan.unexposed_rate else None
    t1 = rng.exponential(1 / (plan.exposed_rate * per_day), m) if plan.exposed_rate else None
    td = rng.exponential(1 / (plan.decoy_rate * per_day), m) if plan.decoy_rate else None
    inf = np.full(m, np.inf)
    t0 = inf if t0 is None else t0
    t1 = inf if t1 is None else t1
    td = inf if td is None else td
    case0 = t0 < unexposed_time
    case1 = ~case0 & user & (t1 < exposed_time)
    decoy = ~case0 & ~case1 & (td < len1 + len2)
    onset = np.full(m, NO_DAY, dtype=np.int64)
    onset[case0] = place_days(t0, s1, len1, s2)[case0]
    after_first = e1 + 1 - first
    onset[case1] = place_days(t1, first, after_first, s2)[case1]
    onset[decoy] = place_days(td, s1, len1, s2)[decoy]
    planted = case0 | case1 | decoy
    group = np.full(m, 3)  # not_imnm
    group[case0] = rng.choice(3, int(case0.sum()), p=plan.unexposed_groups)
    group[case1] = rng.choice(3, int(case1.sum()), p=plan.exposed_groups)

    tables: dict[str, Any] = {}
    tables["person"] = arrow_table(
        "person",
        {
            "person_id": person_id,
            "gender_concept_id": np.where(female, GENDER["female"], GENDER["male"]),
            "year_of_birth": yob,
            "month_of_birth": mob,
            "day_of_birth": dob,
            "race_concept_id": np.zeros(m, dtype=np.int64),
            "ethnicity_concept_id": np.zeros(m, dtype=np.int64),
            "gender_source_value": text_codes(female.astype(np.int64), ("M", "F")),
            "gender_source_concept_id": np.zeros(m, dtype=np.int64),
            "race_source_concept_id": np.zeros(m, dtype=np.int64),
            "ethnicity_source_concept_id": np.zeros(m, dtype=np.int64),
        },
        m,
    )
    op_person = np.concatenate([person_id, person_id[two]])
    tables["observation_period"] = arrow_table(
        "observation_period",
        {
            "observation_period_id": ids.take("observation_period", len(op_person)),
            "person_id": op_person,
            "observation_period_start_date": np.concatenate([s1, s2[two]]),
            "observation_period_end_date": np.concatenate([e1, e2[two]]),
            "period_type_concept_id": np.full(len(op_person), EHR),
        },
        len(op_person),
    )
    tables["drug_exposure"] = drug_rows(
        rng, person_id, user, first, ingredient, switch, switch_day, second, s1, e1, ids,
    )  # fmt: skip

    # Details of the planted persons (index p into the chunk).
    p = np.flatnonzero(planted)
    k = len(p)
    period_end = np.where(onset[p] <= e1[p], e1[p], e2[p])
    unit_draw = rng.random(k)
    ck_unit = np.where(
        unit_draw < plan.ukat_share, 2, np.where(unit_draw < plan.ukat_share + 0.1, 1, 0)
    )
    median = np.array([7000.0, 6000.0, 4000.0, 0.0])[group[p]]
    peak = np.clip(
        np.exp(np.log(np.maximum(median, 1)) + 0.6 * rng.standard_normal(k)), 1050, 25000
    )
    peak = np.where(group[p] == 3, rng.uniform(200, 900, k), peak)
    peak_value = np.where(ck_unit == 2, np.round(peak / U_PER_UKAT, 2), np.round(peak))
    peak_u = np.where(ck_unit == 2, peak_value * U_PER_UKAT, peak_value)
    mapped = rng.random(k) >= plan.unmapped_share
    cancer_case = rng.random(k) < plan.case_cancer
    cancer_day = np.clip(onset[p] + rng.integers(-3 * 365, 3 * 365, k), s1[p], period_end)
    cancer_day = np.where(two[p] & (cancer_day > e1[p]) & (cancer_day < s2[p]), e1[p], cancer_day)
    dies = rng.random(m) < plan.death
    dies[p] = rng.random(k) < 0.1

    tables["measurement"] = measurement_rows(
        rng, plan, person_id, s1, len1, s2, len1 + len2, planted, p, onset[p], period_end,
        group[p], ck_unit, peak_value, mapped, ids,
    )  # fmt: skip
    tables["condition_occurrence"] = condition_rows(
        rng, plan, person_id, s1, e1, len1, s2, len1 + len2, planted, p, onset[p], period_end,
        group[p], cancer_case, cancer_day, ids,
    )  # fmt: skip
    dead = np.flatnonzero(dies)
    tables["death"] = arrow_table(
        "death",
        {
            "person_id": person_id[dead],
            "death_date": last_end[dead],
            "death_type_concept_id": np.full(len(dead), EHR),
        },
        len(dead),
    )
    names = tuple(STATIN_INGREDIENTS)
    first_day = np.where(user[p], first[p], NO_DAY)
    tables["planted_truth"] = arrow_table(
        "planted_truth",
        {
            "person_id": person_id[p],
            "true_group": text_codes(group[p], TRUE_GROUPS),
            "onset_date": onset[p],
            "exposed_at_onset": user[p] & (first[p] <= onset[p]),
            "first_statin_date": first_day,
            "first_statin": masked_codes(ingredient[p], names, ~user[p]),
            "ck_unit": text_codes(ck_unit, ("U/L", "IU/L", "ukat/L")),
            "peak_ck_u_per_l": peak_u,
            "antibodies_mapped": mapped,
            "two_periods": two[p],
            "statin_after_onset": user[p] & (first[p] > onset[p]),
            "cancer_before_onset": cancer_case & (cancer_day < onset[p]),
            "death_date": np.where(dies[p], last_end[p], NO_DAY),
        },
        k,
    )
    return tables


def drug_rows(
    rng: np.random.Generator,
    person_id: np.ndarray,
    user: np.ndarray,
    first: np.ndarray,
    ingredient: np.ndarray,
    switch: np.ndarray,
    switch_day: np.ndarray,
    second: np.ndarray,
    s1: np.ndarray,
    e1: np.ndarray,
    ids: RowIds,
) -> pa.Table:
    """Statin fills (courses of refills with gaps; a second ingredient after a switch) and
    a few other drugs."""
    ingredients = np.array(list(STATIN_INGREDIENTS.values()))
    u = np.flatnonzero(user)
    w = np.flatnonzero(switch)
    who = np.concatenate([u, w])
    start = np.concatenate([first[u], switch_day[w]])
    limit = np.concatenate([np.where(switch[u], switch_day[u], e1[u] + 1), e1[w] + 1])
    drug = ingredients[np.concatenate([ingredient[u], second[w]])]
    courses = len(who)
    product = drug.copy()
    draw = rng.random(courses)
    atorva, simva = (
        drug == STATIN_INGREDIENTS["atorvastatin"],
        drug == STATIN_INGREDIENTS["simvastatin"],
    )
    product[atorva & (draw < 0.5)] = 1545959
    product[simva & (draw < 0.35)] = 1539411
    product[simva & (draw >= 0.35) & (draw < 0.7)] = 1539463
    fills = np.minimum(1 + rng.geometric(0.1, courses), 60)
    supply = np.where(rng.random(courses) < 0.7, 30, 90)
    rep = np.repeat(np.arange(courses), fills)
    rows = len(rep)
    late = np.where(rng.random(rows) < 0.85, rng.integers(0, 21, rows), rng.integers(31, 366, rows))
    step = supply[rep] + late
    before = np.cumsum(step) - step
    course_first = np.cumsum(fills) - fills
    fill_start = start[rep] + before - before[course_first][rep]
    keep = fill_start < limit[rep]
    rep, fill_start = rep[keep], fill_start[keep]
    fill_end = np.minimum(fill_start + supply[rep] - 1, e1[who[rep]])

    other_n = rng.poisson(1.0, len(person_id))
    orep = np.repeat(np.arange(len(person_id)), other_n)
    other_start = s1[orep] + np.floor(rng.random(len(orep)) * (e1[orep] - s1[orep])).astype(
        np.int64
    )
    other_drug = np.array(OTHER_DRUGS)[rng.integers(0, len(OTHER_DRUGS), len(orep))]

    n = len(rep) + len(orep)
    days = np.concatenate([supply[rep], np.full(len(orep), 30)])
    name_index = np.concatenate(
        [np.searchsorted(_DRUG_NAME_IDS, drug[rep]), np.searchsorted(_DRUG_NAME_IDS, other_drug)]
    )
    return arrow_table(
        "drug_exposure",
        {
            "drug_exposure_id": ids.take("drug_exposure", n),
            "person_id": np.concatenate([person_id[who[rep]], person_id[orep]]),
            "drug_concept_id": np.concatenate([product[rep], other_drug]),
            "drug_exposure_start_date": np.concatenate([fill_start, other_start]),
            "drug_exposure_end_date": np.concatenate(
                [fill_end, np.minimum(other_start + 29, e1[orep])]
            ),
            "drug_type_concept_id": np.full(n, EHR),
            "quantity": days.astype(float),
            "days_supply": days,
            "drug_source_value": text_codes(name_index, _DRUG_NAMES),
            "drug_source_concept_id": np.zeros(n, dtype=np.int64),
        },
        n,
    )


_DRUG_NAME_IDS = np.array(sorted([*STATIN_INGREDIENTS.values(), *OTHER_DRUGS]))
_DRUG_NAMES = tuple(next(c[1] for c in CONCEPTS if c[0] == i) for i in _DRUG_NAME_IDS)
