"""Measurements and conditions: everyone's routine rows and the planted persons' CK,
antibody tests, myositis conditions and cancers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from imnm_cohort.synth_omop.design import (
    ANTIBODY_CONCEPT,
    ANTIBODY_LOCAL_CODE,
    CANCERS,
    CK,
    EHR,
    HMGCR_LOINC,
    MYOSITIS,
    NEGATIVE,
    NOISE_CONDITIONS,
    NOISE_LABS,
    OPERATOR_LT,
    POSITIVE,
    SRP_IFA_LOINC,
    SRP_IP_LOINC,
    U_PER_UKAT,
    UNIT_IU_L,
    UNIT_U_L,
    UNIT_UKAT_L,
    OmopPlan,
)
from imnm_cohort.synth_omop.tables import NO_DAY, RowIds, arrow_table, place_days, text_codes

if TYPE_CHECKING:
    import pyarrow as pa


#: Every text the measurement and condition tables carry, decoded by Arrow from an index.
_TEXT: tuple[str, ...] = (
    *dict.fromkeys(
        [lab[1] for lab in NOISE_LABS]
        + list(ANTIBODY_CONCEPT)
        + list(ANTIBODY_LOCAL_CODE.values())
        + ["U/L", "[iU]/L", "ukat/L", "mg/dL", "mmol/L", "g/dL", "%", "U", "{titer}"]
        + [code for _, code in NOISE_CONDITIONS]
        + list(CANCERS)
        + list(MYOSITIS)
    ),
)
_AT = {text: i for i, text in enumerate(_TEXT)}
_UNIT_TEXT = {8645: "U/L", 8923: "[iU]/L", 32995: "ukat/L", 8840: "mg/dL", 8753: "mmol/L",
              8713: "g/dL", 8554: "%", 8525: "{titer}", 0: "U"}  # fmt: skip
#: CK units by index: U/L, IU/L, µkat/L.
_CK_UNITS = np.array([UNIT_U_L, UNIT_IU_L, UNIT_UKAT_L])


def _unit_text(units: np.ndarray) -> np.ndarray:
    keys = np.array(sorted(_UNIT_TEXT))
    at = np.array([_AT[_UNIT_TEXT[k]] for k in keys])
    return at[np.searchsorted(keys, units)]


def measurement_rows(
    rng: np.random.Generator,
    plan: OmopPlan,
    person_id: np.ndarray,
    s1: np.ndarray,
    len1: np.ndarray,
    s2: np.ndarray,
    observed: np.ndarray,
    planted: np.ndarray,
    p: np.ndarray,
    onset: np.ndarray,
    period_end: np.ndarray,
    group: np.ndarray,
    ck_unit: np.ndarray,
    peak_value: np.ndarray,
    mapped: np.ndarray,
    ids: RowIds,
) -> pa.Table:
    """Common labs and CK for everyone; CK at onset, later CK and the two antibody tests
    for the planted persons."""
    m = len(person_id)
    count = rng.poisson(plan.measurements, m)
    rep = np.repeat(np.arange(m), count)
    r = len(rep)
    day = place_days(rng.random(r) * observed[rep], s1[rep], len1[rep], s2[rep])
    shares = np.array([lab[5] for lab in NOISE_LABS])
    lab = rng.choice(len(NOISE_LABS), r, p=shares / shares.sum())
    table = np.array([(a, 0, c, d, e) for a, _, c, d, e, _ in NOISE_LABS], dtype=float)
    value = table[lab, 3] * np.exp(table[lab, 4] * rng.standard_normal(r))
    is_ck = table[lab, 0] == CK
    value = np.where(is_ck & ~planted[rep] & (rng.random(r) < 0.005), value * 20, value)
    # A planted person's routine CK stays normal: onset and peak are the planted ones.
    value = np.where(is_ck & planted[rep], np.minimum(value, 190.0), value)
    unit_draw = rng.random(r)
    noise_ck_unit = np.where(unit_draw < 0.8, 0, np.where(unit_draw < 0.9, 1, 2))
    unit = np.where(is_ck, _CK_UNITS[noise_ck_unit], table[lab, 2].astype(np.int64))
    below = is_ck & (value < 20) & (noise_ck_unit == 0)
    value = np.where(below, 20.0, value)
    value = np.round(np.where(is_ck & (noise_ck_unit == 2), value / U_PER_UKAT, value), 2)
    operator = np.where(below, OPERATOR_LT, NO_DAY)
    high = np.where(is_ck, np.where(noise_ck_unit == 2, 3.33, 200.0), np.nan)
    source = np.array([_AT[lab[1]] for lab in NOISE_LABS])[lab]

    # Planted: CK at onset (the peak) and up to two later, lower values.
    k = len(p)
    follow = np.stack([onset + rng.integers(30, 181, k), onset + rng.integers(200, 401, k)])
    ck_day = np.concatenate([onset, follow[0], follow[1]])
    ck_who = np.tile(p, 3)
    ck_end = np.tile(period_end, 3)
    ck_u = np.tile(ck_unit, 3)
    ck_value = np.concatenate(
        [peak_value, *(np.round(peak_value * rng.uniform(0.05, 0.6, k), 2) for _ in range(2))]
    )
    keep = ck_day <= ck_end
    ck_day, ck_who, ck_u, ck_value = ck_day[keep], ck_who[keep], ck_u[keep], ck_value[keep]
    c = len(ck_day)

    # Planted: anti-HMGCR and anti-SRP, mapped (concept, lab code) or not (0, LOINC).
    ab_day = np.minimum(onset + rng.integers(0, 31, k), period_end)
    hmgcr_pos, srp_pos = group == 0, group == 1
    numeric = rng.random(k) < 0.7
    h_value = np.where(
        numeric,
        np.round(np.where(hmgcr_pos, rng.uniform(40, 300, k), rng.uniform(1, 15, k)), 1),
        np.nan,
    )
    pick = rng.integers(0, 2, (2, k))
    h_concept = np.where(hmgcr_pos, np.array(POSITIVE)[pick[0]], np.array(NEGATIVE)[pick[0]])
    s_concept = np.where(srp_pos, np.array(POSITIVE)[pick[1]], np.array(NEGATIVE)[pick[1]])
    ifa = rng.random(k) < 0.4
    s_value = np.where(ifa, np.where(srp_pos, rng.choice([160.0, 320.0, 640.0], k), 40.0), np.nan)
    s_operator = np.where(ifa & ~srp_pos, OPERATOR_LT, NO_DAY)
    s_loinc = np.where(ifa, SRP_IFA_LOINC, SRP_IP_LOINC)

    def concept_and_code(loinc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        concept = np.array([ANTIBODY_CONCEPT[x] for x in loinc], dtype=np.int64)
        local = np.array([_AT[ANTIBODY_LOCAL_CODE[x]] for x in loinc])
        return np.where(mapped, concept, 0), np.where(mapped, local, [_AT[x] for x in loinc])

    h_loinc = np.full(k, HMGCR_LOINC)
    h_mc, h_src = concept_and_code(h_loinc)
    s_mc, s_src = concept_and_code(s_loinc) if k else (h_mc, h_src)

    parts = {
        "person": [person_id[rep], person_id[ck_who], person_id[p], person_id[p]],
        "concept": [table[lab, 0].astype(np.int64), np.full(c, CK), h_mc, s_mc],
        "day": [day, ck_day, ab_day, ab_day],
        "operator": [operator, np.full(c, NO_DAY), np.full(k, NO_DAY), s_operator],
        "value": [value, ck_value, h_value, s_value],
        "value_concept": [np.full(r, NO_DAY), np.full(c, NO_DAY), h_concept, s_concept],
        "unit": [unit, _CK_UNITS[ck_u], np.zeros(k, dtype=np.int64), np.where(ifa, 8525, 0)],
        "high": [
            high, np.where(ck_u == 2, 3.33, 200.0), np.full(k, 20.0), np.where(ifa, 40.0, np.nan),
        ],
        "source": [source, np.full(c, _AT["2157-6"]), h_src, s_src],
    }  # fmt: skip
    col = {name: np.concatenate(values) for name, values in parts.items()}
    n = len(col["person"])

    def nullable(values: np.ndarray) -> Any:
        import pyarrow as pa

        return pa.array(values.astype(np.int64), mask=values == NO_DAY)

    return arrow_table(
        "measurement",
        {
            "measurement_id": ids.take("measurement", n),
            "person_id": col["person"],
            "measurement_concept_id": col["concept"],
            "measurement_date": col["day"],
            "measurement_type_concept_id": np.full(n, EHR),
            "operator_concept_id": nullable(col["operator"]),
            "value_as_number": col["value"],
            "value_as_concept_id": nullable(col["value_concept"]),
            "unit_concept_id": col["unit"],
            "range_high": col["high"],
            "measurement_source_value": text_codes(col["source"], _TEXT),
            "measurement_source_concept_id": np.zeros(n, dtype=np.int64),
            "unit_source_value": text_codes(_unit_text(col["unit"]), _TEXT),
        },
        n,
    )


def condition_rows(
    rng: np.random.Generator,
    plan: OmopPlan,
    person_id: np.ndarray,
    s1: np.ndarray,
    e1: np.ndarray,
    len1: np.ndarray,
    s2: np.ndarray,
    observed: np.ndarray,
    planted: np.ndarray,
    p: np.ndarray,
    onset: np.ndarray,
    period_end: np.ndarray,
    group: np.ndarray,
    cancer_case: np.ndarray,
    cancer_day: np.ndarray,
    ids: RowIds,
) -> pa.Table:
    """Common conditions; cancers; the planted persons' myositis conditions and cancers."""
    m = len(person_id)
    rep = np.repeat(np.arange(m), rng.poisson(2.0, m))
    r = len(rep)
    noise = rng.integers(0, len(NOISE_CONDITIONS), r)
    noise_day = place_days(rng.random(r) * observed[rep], s1[rep], len1[rep], s2[rep])
    c = np.flatnonzero(~planted & (rng.random(m) < plan.cancer))
    c_day = s1[c] + np.floor(rng.random(len(c)) * (e1[c] - s1[c])).astype(np.int64)
    codes = list(CANCERS)
    c_code = rng.integers(0, len(codes), len(c))
    pc = np.flatnonzero(cancer_case)
    pc_code = rng.integers(0, len(codes), len(pc))
    k = len(p)
    imnm_code = rng.choice(3, k, p=(0.5, 0.3, 0.2))  # G72.49, M33.2, M60.8
    myositis_code = np.where(group == 3, 3, np.array([0, 2, 1])[imnm_code])
    myositis_day = np.where(
        group == 3, onset, np.minimum(onset + rng.integers(0, 61, k), period_end)
    )
    myositis_concept = np.array(list(MYOSITIS.values()))[myositis_code]
    myositis_concept = np.where(rng.random(k) < 0.8, myositis_concept, 0)
    cancer_concepts = np.array(list(CANCERS.values()))
    at_noise = np.array([_AT[code] for _, code in NOISE_CONDITIONS])
    at_cancer = np.array([_AT[code] for code in codes])
    at_myositis = np.array([_AT[code] for code in MYOSITIS])
    person = np.concatenate([person_id[rep], person_id[c], person_id[p[pc]], person_id[p]])
    n = len(person)
    return arrow_table(
        "condition_occurrence",
        {
            "condition_occurrence_id": ids.take("condition_occurrence", n),
            "person_id": person,
            "condition_concept_id": np.concatenate(
                [
                    np.array([x for x, _ in NOISE_CONDITIONS])[noise],
                    cancer_concepts[c_code],
                    cancer_concepts[pc_code],
                    myositis_concept,
                ]
            ),
            "condition_start_date": np.concatenate(
                [noise_day, c_day, cancer_day[pc], myositis_day]
            ),
            "condition_type_concept_id": np.full(n, EHR),
            "condition_source_value": text_codes(
                np.concatenate(
                    [
                        at_noise[noise],
                        at_cancer[c_code],
                        at_cancer[pc_code],
                        at_myositis[myositis_code],
                    ]
                ),
                _TEXT,
            ),
            "condition_source_concept_id": np.zeros(n, dtype=np.int64),
        },
        n,
    )
