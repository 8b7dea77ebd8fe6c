"""Synthetic event tables (contract section 6) with planted effects, deterministic for a seed.

Beside the patient table of :func:`imnm_cohort.synth.synthesize`, :func:`synthesize_events`
makes the four event tables, ``visits``, ``treatments``, ``antibody_tests`` and ``cancers``,
and plants known effects that the course analyses must recover. Each effect is built to
follow the definition of the analysis that estimates it, so that the planted value is that
analysis's estimand (``docs/synthetic.md``):

* **CK course** (:func:`~imnm_cohort.analysis.ck_course.ck_course`): each patient's
  log10(CK/ULN) is a straight line in years since time zero for the first two years (the
  model's horizon), flat after, plus bounded noise; the line's slope is the group's slope
  (:data:`CK_SLOPE`, anti-SRP normalising slower) plus a patient's own deviation of mean 0.
  The mixed model's group slope is then the planted slope.
* **Strength** (:func:`~imnm_cohort.analysis.strength.strength_course`): MMT as a percentage
  of its scale the same way, with less recovery in anti-SRP (:data:`MMT_SLOPE`).
* **Two or more immunotherapies** (:func:`~imnm_cohort.analysis.treatments.treatments`):
  a statin-exposed anti-HMGCR patient receives two or more distinct non-glucocorticoid
  immunotherapies with probability :data:`TWO_OR_MORE` ``["statin_exposed_hmgcr"]``, every
  other patient with ``["other"]``; the founding claim's odds ratio is planted with them.
* **Relapse** (:func:`~imnm_cohort.analysis.relapse.relapse`, the toolkit's convention):
  once a patient's CK has been normal at a visit it never again exceeds twice the ULN (the
  noise is bounded, the line never rises), so every relapse is a glucocorticoid course at a
  higher dose than the course before it. Relapses fall at :data:`RELAPSE_RATE` per 100
  person-years of follow-up after that first normal CK. The analysis's rate is per 100
  person-years of all follow-up from time zero, so its estimand is the planted rate times
  the share of follow-up after a normal CK; :class:`PlantedEffects` records it per group.

No row loop: every table is built over whole columns. Rows are sorted by patient and date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.contracts.patients import CK_ULN_DEFAULT
from imnm_cohort.contracts.visits import MMT_MAX_DEFAULT, MMT_SCALES
from imnm_cohort.vocabulary import DAYS_PER_YEAR, IMNM_GROUPS

#: Planted slope of log10(CK/ULN) per year over the first two years, by design group.
CK_SLOPE: Mapping[str, float] = MappingProxyType(
    {"hmgcr": -0.9, "srp": -0.45, "seronegative": -0.8}
)
#: Planted slope of MMT (percent of the scale's maximum) per year, by design group.
MMT_SLOPE: Mapping[str, float] = MappingProxyType({"hmgcr": 12.0, "srp": 5.0, "seronegative": 11.0})
#: Slopes of the groups that are not IMNM (not an estimand).
OTHER_CK_SLOPE, OTHER_MMT_SLOPE = -0.6, 8.0
#: Half-widths of the uniform deviations: a patient's slopes, and the noise of each visit.
CK_SLOPE_SPREAD, MMT_SLOPE_SPREAD = 0.3, 4.0
CK_NOISE, MMT_NOISE = 0.14, 4.0
#: Years of linear change (the course analyses' default horizon of 24 months).
LINEAR_YEARS = 2.0
#: Probability of two or more distinct immunotherapies.
TWO_OR_MORE: Mapping[str, float] = MappingProxyType({"statin_exposed_hmgcr": 0.7, "other": 0.35})
#: Relapses per 100 person-years of follow-up after the first normal CK.
RELAPSE_RATE = 20.0
#: Relapses can fall only on days this far apart (more than the definition's 30-day merge).
RELAPSE_SLOT_DAYS = 60
#: Days between visits (uniform, inclusive) after the visit at time zero.
VISIT_GAP_DAYS = (60, 120)
IMMUNOTHERAPIES = (
    "methotrexate", "azathioprine", "mycophenolate", "tacrolimus", "ivig", "rituximab",
    "cyclophosphamide",
)  # fmt: skip
IMMUNOTHERAPY_WEIGHTS = (0.3, 0.15, 0.15, 0.08, 0.2, 0.1, 0.02)
#: Rule-breaking defects that ``dirty`` plants in each event table, with the rule caught.
EVENT_DEFECTS: Mapping[str, tuple[tuple[str, str, str], ...]] = MappingProxyType(
    {
        "visits": (
            ("unknown_patient", "patient_id", "unknown_patient"),
            ("after_observation", "visit_date", "outside_observation"),
            ("ck_negative", "ck", "out_of_range"),
            ("haq_range", "haq", "out_of_range"),
        ),
        "treatments": (
            ("unknown_patient", "patient_id", "unknown_patient"),
            ("after_observation", "start_date", "outside_observation"),
            ("dose_range", "dose_mg_per_day", "out_of_range"),
            ("drug_unknown", "drug", "not_allowed"),
        ),
        "antibody_tests": (
            ("unknown_patient", "patient_id", "unknown_patient"),
            ("before_birth", "test_date", "outside_observation"),
            ("value_negative", "value", "out_of_range"),
        ),
        "cancers": (
            ("unknown_patient", "patient_id", "unknown_patient"),
            ("after_observation", "cancer_date", "outside_observation"),
        ),
    }
)


@dataclass(frozen=True)
class PlantedEffects:
    """The true values planted in one synthetic registry (module docstring).

    Attributes
    ----------
    ck_slope, mmt_slope : Mapping[str, float]
        Each IMNM group's slope per year over the first two years since time zero
        (log10(CK/ULN); MMT percent of maximum).
    two_or_more : Mapping[str, float]
        Probability of two or more immunotherapies: ``statin_exposed_hmgcr`` and ``other``.
    two_or_more_odds_ratio : float
        The founding claim's odds ratio, statin-exposed anti-HMGCR against the rest.
    relapse_rate_in_remission : float
        Relapses per 100 person-years after the first normal CK.
    relapse_rate_per_100py : Mapping[str, float]
        The relapse analysis's estimand in this registry, per IMNM group: the expected
        relapses per 100 person-years of follow-up from time zero (the rate above times
        the group's share of follow-up after a normal CK). NaN for a group without
        follow-up.
    """

    ck_slope: Mapping[str, float]
    mmt_slope: Mapping[str, float]
    two_or_more: Mapping[str, float]
    two_or_more_odds_ratio: float
    relapse_rate_in_remission: float
    relapse_rate_per_100py: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON (no identifier, no date)."""
        return {
            "ck_slope_log10_per_year": dict(self.ck_slope),
            "mmt_slope_percent_per_year": dict(self.mmt_slope),
            "two_or_more_probability": dict(self.two_or_more),
            "two_or_more_odds_ratio": self.two_or_more_odds_ratio,
            "relapse_rate_in_remission_per_100py": self.relapse_rate_in_remission,
            "relapse_rate_per_100py": {
                g: (None if np.isnan(v) else v) for g, v in self.relapse_rate_per_100py.items()
            },
        }


@dataclass(frozen=True)
class SyntheticRegistry:
    """A synthetic patient table with its event tables and the effects planted in them.

    Attributes
    ----------
    patients : pandas.DataFrame
        As :func:`~imnm_cohort.synth.synthesize` gives it (text cells).
    tables : Mapping[str, pandas.DataFrame]
        ``visits``, ``treatments``, ``antibody_tests``, ``cancers``: text cells, contract
        section 6's columns in contract order (with ``synth_defect`` when dirty).
    planted : PlantedEffects
    """

    patients: pd.DataFrame
    tables: Mapping[str, pd.DataFrame]
    planted: PlantedEffects


def _odds(p: float) -> float:
    return p / (1.0 - p)


def _text(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Numbers, strings or dates as text cells (None where ``missing`` or NaT), formatted
    by Arrow (whole floats without a decimal point, dates as YYYY-MM-DD)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(np.asarray(values), mask=missing)
    if not pa.types.is_string(array.type):
        array = pc.cast(array, pa.string())
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=object)


def _dates(values: np.ndarray) -> np.ndarray:
    return _text(values.astype("datetime64[D]"))


def _decimal(values: np.ndarray) -> np.ndarray:
    """Floats with one decimal as text (None where NaN)."""
    rounded = np.round(values, 1)
    return _text(rounded, np.isnan(rounded))


def _as_days(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_datetime(frame[column]).to_numpy(dtype="datetime64[D]")


def synthesize_events(n: int, seed: int = 0, dirty: float = 0.0) -> SyntheticRegistry:
    """A synthetic registry with event tables and planted effects.

    Parameters
    ----------
    n, seed, dirty
        As for :func:`~imnm_cohort.synth.synthesize`; the patient table is the one it
        gives. With ``dirty > 0`` each event table also gets that share of its rows (at
        least one each of :data:`EVENT_DEFECTS`, when there are enough rows) given one
        rule-breaking defect, named in a column ``synth_defect``; and the rows of patients
        whose own row is quarantined are quarantined with them.

    Returns
    -------
    SyntheticRegistry
    """
    from imnm_cohort.synth import design_groups, synthesize

    clean = synthesize(n, seed=seed)
    patients = synthesize(n, seed=seed, dirty=dirty) if dirty > 0 else clean
    group = design_groups(n, seed)
    rng = np.random.default_rng([seed, 6])
    ids = clean["patient_id"].to_numpy(dtype=object)
    onset = _as_days(clean, "onset_date")
    diagnosis = _as_days(clean, "diagnosis_date")
    t0 = np.where(np.isnat(diagnosis), onset, diagnosis)
    end = np.where(
        np.isnat(d := _as_days(clean, "death_date")), _as_days(clean, "last_followup_date"), d
    )
    follow = (end - t0).astype(np.int64)  # days; < 0: no follow-up from time zero
    statin = (clean["statin_exposed"] == "true").to_numpy(dtype=bool)
    uln = pd.to_numeric(clean["ck_uln"]).to_numpy(dtype=float)
    lab_uln = np.where(np.isnan(uln), CK_ULN_DEFAULT, uln)
    peak = pd.to_numeric(clean["ck_peak"]).to_numpy(dtype=float)  # NaN: no CK recorded

    visits, first_normal = _visits(rng, group, t0, follow, lab_uln, uln, peak, ids)
    courses, relapse_share = _treatments(rng, group, statin, t0, follow, first_normal, ids)
    tables = {
        "visits": visits,
        "treatments": courses,
        "antibody_tests": _antibody_tests(rng, clean, t0),
        "cancers": _cancers(rng, clean, end),
    }
    if dirty > 0:
        birth = _as_days(clean, "birth_date")
        tables = {
            name: _make_dirty(name, frame, rng, dirty, ids, birth, end)
            for name, frame in tables.items()
        }
    planted = PlantedEffects(
        ck_slope=MappingProxyType(dict(CK_SLOPE)),
        mmt_slope=MappingProxyType(dict(MMT_SLOPE)),
        two_or_more=MappingProxyType(dict(TWO_OR_MORE)),
        two_or_more_odds_ratio=_odds(TWO_OR_MORE["statin_exposed_hmgcr"])
        / _odds(TWO_OR_MORE["other"]),
        relapse_rate_in_remission=RELAPSE_RATE,
        relapse_rate_per_100py=MappingProxyType(
            {g: RELAPSE_RATE * relapse_share[g] for g in IMNM_GROUPS}
        ),
    )
    return SyntheticRegistry(patients, MappingProxyType(tables), planted)


def _visits(
    rng: np.random.Generator,
    group: np.ndarray,
    t0: np.ndarray,
    follow: np.ndarray,
    lab_uln: np.ndarray,
    uln: np.ndarray,
    peak: np.ndarray,
    ids: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Visits from time zero to the end of follow-up, and each patient's day of the first
    normal CK (a large number where never)."""
    n = len(group)
    low, high = VISIT_GAP_DAYS
    most = np.where(follow >= 0, follow // low + 1, 0)  # enough gaps to pass the end
    patient = np.repeat(np.arange(n), most)
    gap = rng.integers(low, high + 1, len(patient))
    start = np.cumsum(most) - most
    first = np.zeros(len(patient), dtype=bool)
    first[start[most > 0]] = True
    gap[first] = 0  # the first visit is at time zero
    total = np.cumsum(gap)
    day = total - np.repeat(total[start[most > 0]], most[most > 0])
    keep = day <= follow[patient]
    patient, day = patient[keep], day[keep]
    rows = len(patient)
    years = np.minimum(day / DAYS_PER_YEAR, LINEAR_YEARS)

    ck_slope = np.array([CK_SLOPE.get(g, OTHER_CK_SLOPE) for g in group])
    mmt_slope = np.array([MMT_SLOPE.get(g, OTHER_MMT_SLOPE) for g in group])
    ck_b = ck_slope + rng.uniform(-CK_SLOPE_SPREAD, CK_SLOPE_SPREAD, n)
    # The line starts below the peak CK by more than the noise: no visit exceeds ck_peak.
    ck_a = np.log10(peak / lab_uln) - CK_NOISE - 0.02
    log_ck = ck_a[patient] + ck_b[patient] * years + rng.uniform(-CK_NOISE, CK_NOISE, rows)
    ck = np.round(lab_uln[patient] * 10.0**log_ck)
    # A record without a peak CK has no CK at all (it stays unclassified: CK missing).
    no_ck = ((rng.random(rows) < 0.05) & (day > 0)) | np.isnan(peak[patient])
    ck[no_ck] = np.nan
    mmt_a = rng.uniform(47.0, 63.0, n)
    mmt_b = mmt_slope + rng.uniform(-MMT_SLOPE_SPREAD, MMT_SLOPE_SPREAD, n)
    percent = mmt_a[patient] + mmt_b[patient] * years + rng.uniform(-MMT_NOISE, MMT_NOISE, rows)
    scale = rng.choice(np.array(MMT_SCALES), n, p=[0.8, 0.1, 0.1])[patient]
    mmt = np.round(percent * scale / 100.0)
    no_mmt = (rng.random(rows) < 0.05) & (day > 0)
    mmt[no_mmt] = np.nan
    # The default scale is often left empty (the contract fills it in).
    scale_text = _text(
        scale.astype(np.int64), no_mmt | ((scale == MMT_MAX_DEFAULT) & (rng.random(rows) < 0.3))
    )
    # Activity and disability ease as strength returns (not planted effects).
    recovery = (percent - 40.0) / 60.0
    physician = np.clip(8.0 - 7.0 * recovery + rng.normal(0, 0.8, rows), 0, 10)
    patient_global = np.clip(8.0 - 6.0 * recovery + rng.normal(0, 1.2, rows), 0, 10)
    haq = np.clip(2.2 - 2.0 * recovery + rng.normal(0, 0.25, rows), 0, 3)
    extramuscular = np.clip(3.0 - 2.5 * recovery + rng.normal(0, 0.8, rows), 0, 10)
    gone = rng.random(rows) < 0.1
    haq[gone] = np.nan
    extramuscular[rng.random(rows) < 0.15] = np.nan
    date = t0[patient] + day.astype("timedelta64[D]")
    frame = pd.DataFrame(
        {
            "patient_id": ids[patient],
            "visit_date": _dates(date),
            "ck": _text(np.nan_to_num(ck).astype(np.int64), np.isnan(ck)),
            "ck_uln": _text(np.nan_to_num(uln[patient]).astype(np.int64), np.isnan(uln[patient])),
            "mmt": _text(np.nan_to_num(mmt).astype(np.int64), np.isnan(mmt)),
            "mmt_max": scale_text,
            "physician_global": _decimal(physician),
            "patient_global": _decimal(patient_global),
            "haq": _decimal(np.round(haq * 8) / 8),
            "extramuscular_global": _decimal(extramuscular),
        }
    )  # fmt: skip
    normal = ~np.isnan(ck) & (ck <= lab_uln[patient])
    first_normal = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_normal, patient[normal], day[normal])
    return frame, first_normal


def _courses_frame(
    ids: np.ndarray,
    patient: np.ndarray,
    drug: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    dose: np.ndarray,
    t0: np.ndarray,
) -> pd.DataFrame:
    """Treatment rows from days since time zero (``stop`` NaN: still taken)."""
    has_stop = ~np.isnan(stop)
    stop_date = t0[patient] + np.nan_to_num(stop).astype(np.int64).astype("timedelta64[D]")
    stop_date = np.where(has_stop, stop_date, np.datetime64("NaT"))
    return pd.DataFrame(
        {
            "patient_id": ids[patient],
            "drug": drug.astype(object),
            "start_date": _dates(t0[patient] + start.astype("timedelta64[D]")),
            "stop_date": _dates(stop_date),
            "dose_mg_per_day": _text(dose, np.isnan(dose)),
        }
    )


def _treatments(
    rng: np.random.Generator,
    group: np.ndarray,
    statin: np.ndarray,
    t0: np.ndarray,
    follow: np.ndarray,
    first_normal: np.ndarray,
    ids: np.ndarray,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Glucocorticoid tapers, immunotherapies (all started before the second visit, so
    before any normal CK) and the relapses' glucocorticoid courses; and per IMNM design
    group the share of follow-up after the first normal CK."""
    n = len(group)
    followed = follow >= 0
    base = np.where(followed, 0, follow)  # without follow-up: everything on the last day
    room = np.maximum(follow, 0)
    parts = []
    # Glucocorticoids: a high dose, then a low one from 4 to 8 weeks.
    switch = rng.integers(28, 57, n)
    gc = rng.choice(np.array(["prednisone", "prednisolone"]), n, p=[0.8, 0.2])
    high = rng.choice(np.array([40.0, 50.0, 60.0]), n)
    everyone = np.arange(n)
    parts.append((everyone, gc, base, base + switch - 1.0, high))
    low = np.flatnonzero(followed & (switch <= follow))
    stop = np.where(
        rng.random(len(low)) < 0.5, np.nan, switch[low] + rng.integers(180, 721, len(low))
    )
    parts.append((low, gc[low], switch[low], stop, np.full(len(low), 10.0)))
    # Immunotherapies: two or more with the planted probability.
    planted = np.where((group == "hmgcr") & statin, TWO_OR_MORE["statin_exposed_hmgcr"],
                       TWO_OR_MORE["other"])  # fmt: skip
    two = rng.random(n) < planted
    k = np.where(two, np.where(rng.random(n) < 0.8, 2, 3), np.where(rng.random(n) < 0.85, 1, 0))
    keys = np.log(np.array(IMMUNOTHERAPY_WEIGHTS)) + rng.gumbel(size=(n, len(IMMUNOTHERAPIES)))
    ranked = np.argsort(-keys, axis=1)
    names = np.array(IMMUNOTHERAPIES, dtype=object)
    for j, (lo, hi) in enumerate(((0, 14), (0, 45), (15, 59))):
        who = np.flatnonzero(k > j)
        day = np.minimum(rng.integers(lo, hi + 1, len(who)), room[who]) + base[who] * (
            ~followed[who]
        )
        drug = names[ranked[who, j]]
        stop = np.where(rng.random(len(who)) < 0.4, np.nan, day + rng.integers(90, 901, len(who)))
        parts.append((who, drug, day, stop, np.full(len(who), np.nan)))
        again = np.isin(drug, ["ivig", "rituximab"]) & (day + 180 <= follow[who])
        parts.append((who[again], drug[again], day[again] + 180, day[again] + 181.0,
                      np.full(int(again.sum()), np.nan)))  # fmt: skip
    # Relapses: on days RELAPSE_SLOT_DAYS apart (a random phase), after the first normal CK.
    chance = RELAPSE_RATE / 100.0 * RELAPSE_SLOT_DAYS / DAYS_PER_YEAR
    phase = rng.integers(0, RELAPSE_SLOT_DAYS, n)
    normal = followed & (first_normal < follow)
    fn = np.where(normal, first_normal, 0)
    first_slot = np.maximum(np.floor_divide(fn - phase, RELAPSE_SLOT_DAYS) + 1, 0)
    last_slot = np.floor_divide(follow - phase, RELAPSE_SLOT_DAYS)
    slots = np.where(normal, np.maximum(last_slot - first_slot + 1, 0), 0)
    who = np.repeat(np.arange(n), slots)
    offset = np.arange(len(who)) - np.repeat(np.cumsum(slots) - slots, slots)
    day = phase[who] + (first_slot[who] + offset) * RELAPSE_SLOT_DAYS
    hit = rng.random(len(who)) < chance
    who, day = who[hit], day[hit]
    parts.append((who, gc[who], day, day + 29.0, np.full(len(who), 30.0)))
    after = day + 30 <= follow[who]
    stop = np.where(rng.random(len(who)) < 0.5, np.nan, day + 30 + rng.integers(90, 361, len(who)))
    parts.append((who[after], gc[who][after], day[after] + 30, stop[after],
                  np.full(int(after.sum()), 7.5)))  # fmt: skip

    patient, drug, start, stop, dose = (np.concatenate([p[i] for p in parts]) for i in range(5))
    order = np.lexsort((drug.astype(str), start, patient))
    frame = _courses_frame(ids, patient[order], drug[order], start[order].astype(np.int64),
                           stop[order].astype(float), dose[order].astype(float), t0)  # fmt: skip
    remission = np.where(normal, follow - fn, 0)
    share = {}
    for g in IMNM_GROUPS:
        m = (group == g) & followed
        total = float(follow[m].sum())
        share[g] = float(remission[m].sum()) / total if total > 0 else float("nan")
    return frame, share


def _antibody_tests(rng: np.random.Generator, clean: pd.DataFrame, t0: np.ndarray) -> pd.DataFrame:
    """Assays agreeing with the patient table's antibodies: an ELISA (or a line blot graded
    moderate or strong) near time zero for each tested antibody, repeat anti-HMGCR titres in
    follow-up, and a line blot of the other myositis antibody named."""
    ids = clean["patient_id"].to_numpy(dtype=object)
    end = _as_days(clean, "last_followup_date")
    parts = []
    for antigen, column in (("hmgcr", "anti_hmgcr"), ("srp", "anti_srp")):
        status = clean[column].to_numpy(dtype=object)
        tested = np.flatnonzero(pd.notna(status))
        positive = status[tested] == "positive"
        blot = rng.random(len(tested)) < 0.3
        date = t0[tested] - rng.integers(0, 31, len(tested)).astype("timedelta64[D]")
        value = np.where(positive, np.exp(rng.normal(np.log(150), 0.7, len(tested))) + 21,
                         rng.uniform(0, 15, len(tested)))  # fmt: skip
        grade = np.where(positive, np.where(rng.random(len(tested)) < 0.6, "strong", "moderate"),
                         "negative").astype(object)  # fmt: skip
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": ids[tested],
                    "test_date": _dates(date),
                    "antigen": antigen,
                    "method": np.where(blot, "line_blot", "elisa").astype(object),
                    "value": _decimal(np.where(blot, np.nan, value)),
                    "unit": _text(np.full(len(tested), "CU"), blot),
                    "cutoff": _text(np.full(len(tested), "20"), blot),
                    "grade": _text(grade, ~blot),
                    "result": np.where(status[tested] == "positive", "positive", "negative").astype(
                        object
                    ),
                }
            )
        )
        if antigen == "hmgcr":  # titres fall in follow-up, staying above the cut-off
            who = tested[positive & ~blot]
            repeats = rng.integers(0, 4, len(who))
            at = np.repeat(who, repeats)
            step = np.arange(len(at)) - np.repeat(np.cumsum(repeats) - repeats, repeats) + 1
            date = t0[at] + (step * rng.integers(150, 250, len(at))).astype("timedelta64[D]")
            ok = date <= end[at]
            at, date, step = at[ok], date[ok], step[ok]
            titre = 21.0 + np.exp(rng.normal(np.log(100), 0.5, len(at))) / (1.0 + step)
            parts.append(
                pd.DataFrame(
                    {
                        "patient_id": ids[at],
                        "test_date": _dates(date),
                        "antigen": "hmgcr",
                        "method": "elisa",
                        "value": _decimal(titre),
                        "unit": "CU",
                        "cutoff": "20",
                        "grade": None,
                        "result": "positive",
                    }
                )
            )
    msa = clean["other_msa"].to_numpy(dtype=object)
    named = np.flatnonzero(pd.notna(msa) & (msa != "none"))
    parts.append(
        pd.DataFrame(
            {
                "patient_id": ids[named],
                "test_date": _dates(t0[named]),
                "antigen": msa[named],
                "method": "line_blot",
                "value": None,
                "unit": None,
                "cutoff": None,
                "grade": "strong",
                "result": "positive",
            }
        )
    )
    return _sorted(pd.concat(parts, ignore_index=True), "test_date")


def _cancers(rng: np.random.Generator, clean: pd.DataFrame, end: np.ndarray) -> pd.DataFrame:
    """The patient table's cancer, and for 30% of malignant ones a later second cancer."""
    date = _as_days(clean, "cancer_date")
    code = clean["cancer_icd10"].to_numpy(dtype=object)
    has = np.flatnonzero(~np.isnat(date) & pd.notna(code))
    second = has[np.char.startswith(code[has].astype(str), "C") & (rng.random(len(has)) < 0.3)]
    later = date[second] + rng.integers(30, 2000, len(second)).astype("timedelta64[D]")
    ok = later <= end[second]
    second, later = second[ok], later[ok]
    codes = np.array(["C50.9", "C18.9", "C34.9", "C61", "C43.9"], dtype=object)
    ids = clean["patient_id"].to_numpy(dtype=object)
    frame = pd.DataFrame(
        {
            "patient_id": np.concatenate([ids[has], ids[second]]),
            "cancer_date": _dates(np.concatenate([date[has], later])),
            "icd10": np.concatenate([code[has], rng.choice(codes, len(second))]),
        }
    )
    return _sorted(frame, "cancer_date")


def _sorted(frame: pd.DataFrame, date: str) -> pd.DataFrame:
    return frame.sort_values(["patient_id", date], kind="stable").reset_index(drop=True)


def _make_dirty(
    name: str,
    frame: pd.DataFrame,
    rng: np.random.Generator,
    share: float,
    ids: np.ndarray,
    birth: np.ndarray,
    end: np.ndarray,
) -> pd.DataFrame:
    """``share`` of the rows (at least one of each defect when the table has the rows)
    given one defect of :data:`EVENT_DEFECTS` each, named in ``synth_defect``."""
    defects = EVENT_DEFECTS[name]
    rows = len(frame)
    k = min(rows, max(round(share * rows), len(defects)))
    chosen = np.sort(rng.choice(rows, size=k, replace=False))
    kinds = np.array([d[0] for d in defects], dtype=object)[np.arange(k) % len(defects)]
    f = frame.copy()
    at = pd.Index(ids).get_indexer(f["patient_id"].to_numpy(dtype=object))
    for kind, column, _rule in defects:
        r = chosen[kinds == kind]
        if kind == "unknown_patient":
            f.loc[r, column] = np.char.add("UNKNOWN-", np.arange(len(r)).astype(str)).astype(object)
        elif kind == "after_observation":
            f.loc[r, column] = _dates(end[at[r]] + np.timedelta64(30, "D"))
        elif kind == "before_birth":
            f.loc[r, column] = _dates(birth[at[r]] - np.timedelta64(30, "D"))
        else:
            value = {"ck_negative": "-5", "haq_range": "4.5", "dose_range": "5000",
                     "drug_unknown": "aspirin", "value_negative": "-1"}[kind]  # fmt: skip
            f.loc[r, column] = value
    defect = np.full(rows, None, dtype=object)
    defect[chosen] = kinds
    f["synth_defect"] = defect
    return f


#: The files :func:`write_registry` writes besides the tables.
PIPELINE_FILE, PLANTED_FILE = "pipeline.toml", "planted.json"


def write_registry(
    registry: SyntheticRegistry, folder: str | Path, table_format: str = "csv"
) -> list[Path]:
    """Write a synthetic registry to a folder: ``patients``, the four event tables (``csv``
    or ``parquet``, by ``table_format``), ``planted.json`` (the true values) and
    ``pipeline.toml``, a pipeline that ``imnm-cohort run`` runs on them (its reports under
    ``reports/``).

    Raises
    ------
    ValueError
        A format the toolkit does not write tables in, or a folder that is a file.

    Returns
    -------
    list of Path
        The files written.
    """
    import json

    from imnm_cohort.io.tables import TABLE_SUFFIXES
    from imnm_cohort.synth import write_extract

    suffix = f".{table_format}"
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"tables are written as {' or '.join(TABLE_SUFFIXES)}, not {suffix}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    written = [write_extract(registry.patients, folder / f"patients{suffix}")]
    for name, frame in registry.tables.items():
        written.append(write_extract(frame, folder / f"{name}{suffix}"))
    planted = folder / PLANTED_FILE
    planted.write_text(json.dumps(registry.planted.to_dict(), indent=2) + "\n", encoding="utf-8")
    tables = "\n".join(f'{name} = "{name}{suffix}"' for name in registry.tables)
    pipeline = folder / PIPELINE_FILE
    pipeline.write_text(
        "# A synthetic registry with its event tables (imnm-cohort synth --events).\n"
        "# Run it with: imnm-cohort run FOLDER/pipeline.toml (FOLDER: this file's folder)\n"
        "# The planted effects' true values are in planted.json (docs/synthetic.md).\n\n"
        f'[input]\npath = "patients{suffix}"\n\n[input.tables]\n{tables}\n\n'
        '[output]\nroot = "reports"\nformats = ["html", "md", "json", "csv"]\n',
        encoding="utf-8",
    )
    return [*written, planted, pipeline]


@dataclass(frozen=True)
class Recovery:
    """One planted value against the analysis that estimates it.

    Attributes
    ----------
    effect : str
        ``ck_slope``, ``mmt_slope``, ``two_or_more_odds_ratio``, ``two_or_more_percent`` or
        ``relapse_rate_per_100py``.
    group : str
        The IMNM group (``all`` for the odds ratio, which compares groups).
    planted : float
    estimate : float or None
    ci : tuple of float, or None
        The analysis's interval at ``level``.
    level : float
        The interval's confidence level (0.95 by default).
    """

    effect: str
    group: str
    planted: float
    estimate: float | None
    ci: tuple[float, float] | None
    level: float = 0.95

    @property
    def covered(self) -> bool:
        """Whether the interval holds the planted value (False without an interval)."""
        return self.ci is not None and self.ci[0] <= self.planted <= self.ci[1]


def recover_planted(
    registry: SyntheticRegistry, alphas: Sequence[float] = (0.05,)
) -> tuple[Recovery, ...]:
    """Run the course analyses on a synthetic registry as a run would (validate, derive,
    classify under tma2025) and set each planted value beside its estimate and interval.

    The CK and MMT slopes come from the mixed models of
    :func:`~imnm_cohort.analysis.ck_course.ck_course` and
    :func:`~imnm_cohort.analysis.strength.strength_course` (Wald intervals, estimate -+ z
    SE); the odds ratio of two or more immunotherapies (statin-exposed anti-HMGCR against
    the rest, Fisher's exact interval) and the percentage with two or more in anti-SRP and
    seronegative IMNM (Clopper-Pearson) from
    :func:`~imnm_cohort.analysis.treatments.treatments`; the relapse rates (exact Poisson)
    from :func:`~imnm_cohort.analysis.relapse.relapse`. A group without the data for an
    interval is left out.

    Parameters
    ----------
    registry : SyntheticRegistry
    alphas : sequence of float
        One set of intervals per ``alpha`` (level ``1 - alpha``); the models are fitted
        once.

    Returns
    -------
    tuple of Recovery
        Per alpha, in the order given, the recoveries in a fixed order.
    """
    from scipy import stats

    from imnm_cohort.analysis.ck_course import ck_course
    from imnm_cohort.analysis.relapse import relapse
    from imnm_cohort.analysis.strength import strength_course
    from imnm_cohort.analysis.treatments import TreatmentOptions, treatments
    from imnm_cohort.classify.procedure import classify
    from imnm_cohort.validation.derive import derive_patients
    from imnm_cohort.validation.events import validate_events
    from imnm_cohort.validation.validate import validate_extract

    result = validate_extract(registry.patients)
    tables = validate_events(dict(registry.tables), result)
    patients = classify(derive_patients(result, tables).valid)
    visits, courses = tables.frame("visits"), tables.frame("treatments")
    planted = registry.planted
    models = (
        ("ck_slope", ck_course(patients, visits).model, planted.ck_slope),
        ("mmt_slope", strength_course(patients, visits).model, planted.mmt_slope),
    )
    found: list[Recovery] = []
    for alpha in alphas:
        level = 1.0 - alpha
        z = float(stats.norm.ppf(1.0 - alpha / 2.0))
        for effect, model, truth in models:
            for g in IMNM_GROUPS:
                term = model.slopes[g]
                if term.estimate is not None and term.se is not None:
                    ci = (term.estimate - z * term.se, term.estimate + z * term.se)
                    found.append(Recovery(effect, g, truth[g], term.estimate, ci, level))
        treated = treatments(patients, courses, options=TreatmentOptions(alpha=alpha))
        claim = treated.founding_claim
        if claim.ci is not None:
            odds = planted.two_or_more_odds_ratio
            found.append(
                Recovery("two_or_more_odds_ratio", "all", odds, claim.odds_ratio, claim.ci, level)
            )
        for g in ("srp", "seronegative"):
            percent, share_ci = treated.groups[g].percent["two_or_more"]
            if share_ci is not None:
                truth_percent = 100.0 * planted.two_or_more["other"]
                found.append(
                    Recovery("two_or_more_percent", g, truth_percent, percent, share_ci, level)
                )
        relapses = relapse(patients, visits, courses, alpha=alpha)
        for g in IMNM_GROUPS:
            rate = relapses.groups[g]
            truth_rate = planted.relapse_rate_per_100py[g]
            if rate.rate_ci is not None and not np.isnan(truth_rate):
                found.append(
                    Recovery(
                        "relapse_rate_per_100py",
                        g,
                        truth_rate,
                        rate.rate_per_100py,
                        rate.rate_ci,
                        level,
                    )
                )
    return tuple(found)
