"""Synthetic registry extracts (contract v1), deterministic for a seed.

No real patient data is used anywhere in the toolkit: demos, tests and benchmarks run on
registries made here. Each patient is drawn for a *design group* (the group the tma2025
criteria should give) and then given values consistent with it. Distributions and their
sources (see ``docs/synthetic.md``):

* Shares among IMNM: anti-HMGCR 60%, anti-SRP 14%, seronegative 26% (Shelly et al.,
  Rheumatology 2022; Mayo Clinic, n = 140 tested).
* Female share about 62% (Suzuki et al., Orphanet J Rare Dis 2015: 61% of 100 anti-SRP).
* Onset age: anti-SRP mean 51, range 4-82 (Suzuki 2015); anti-HMGCR about 64 when
  statin-exposed and younger when statin-naive (TMA guidance, revised August 2025).
* Peak CK, anti-HMGCR: median 7,337 U/L, range 1,050-25,500 (Chow et al., Semin Arthritis
  Rheum 2024); toxic statin myopathy below 1,000 U/L (TMA guidance).
* Statin exposure among anti-HMGCR: 60%, between the US (74%) and other series (38%, 15-21%).
* Statin latency: anti-HMGCR median about 38 months (secondary source); toxic statin
  myopathy weeks to months (TMA guidance).
* Cancer at any time: anti-HMGCR 18%, anti-SRP 25%, seronegative 30% (Shelly 2022).

Other shares (other myositis, not IMNM, incomplete records) are design choices made so that
every group and every ``unclassified`` reason occurs; they are not epidemiology.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.contracts.patients import CONTRACT_COLUMNS
from imnm_cohort.vocabulary import DAYS_PER_MONTH, DAYS_PER_YEAR, IMNM_GROUPS

DESIGN_GROUPS = {
    "hmgcr": 0.33,
    "srp": 0.077,
    "seronegative": 0.143,
    "statin_toxic": 0.08,
    "other_myositis": 0.15,
    "not_imnm": 0.10,
    "unclassified": 0.12,
}
ONSET_RANGE = (np.datetime64("2000-01-01"), np.datetime64("2024-06-30"))
DATA_CUTOFF = np.datetime64("2025-12-31")
CANCER_CODES = (
    "C50.9", "C18.9", "C34.9", "C61", "C25.9", "C56", "C43.9", "C85.9", "C67.9", "C44.9",
    "D05.1",
)  # fmt: skip
CANCER_CODE_WEIGHTS = (0.2, 0.13, 0.12, 0.1, 0.06, 0.06, 0.06, 0.08, 0.05, 0.1, 0.04)
#: The CK upper limits of normal (U/L) the generator writes (or none: the default 200).
ULN_CHOICES = ("200", "170", "190", "308")
#: Rule-breaking defects that ``dirty`` adds, with the quarantine rule each must trigger.
DEFECTS = {
    "birth_date_format": ("birth_date", "not_a_date"),
    "birth_after_onset": ("birth_date", "birth_not_before_onset"),
    "diagnosis_before_onset": ("diagnosis_date", "diagnosis_before_onset"),
    "followup_before_onset": ("last_followup_date", "followup_before_onset"),
    "death_before_followup": ("death_date", "death_before_followup"),
    "death_before_onset": ("death_date", "death_before_onset"),
    "statin_stop_before_start": ("statin_stop_date", "statin_stop_before_start"),
    "ck_negative": ("ck_peak", "out_of_range"),
    "ck_text": ("ck_peak", "not_a_number"),
    "ck_uln_range": ("ck_uln", "out_of_range"),
    "sex_unknown_value": ("sex", "not_allowed"),
    "sex_missing": ("sex", "missing_required"),
    "onset_missing": ("onset_date", "missing_required"),
    "antibody_value": ("anti_hmgcr", "not_allowed"),
    "msa_unknown": ("other_msa", "unknown_antibody"),
    "boolean_value": ("dm_rash", "not_a_boolean"),
    "icd10_text": ("cancer_icd10", "invalid_icd10"),
    "weakness_value": ("proximal_weakness", "not_allowed"),
    "biopsy_value": ("biopsy_necrosis", "not_allowed"),
    "statin_name_value": ("statin_name", "not_allowed"),
    "patient_id_control": ("patient_id", "invalid_patient_id"),
    "duplicate_id": ("patient_id", "duplicate_patient_id"),
}


def synthesize(n: int, seed: int = 0, dirty: float = 0.0) -> pd.DataFrame:
    """Make a synthetic registry extract.

    Parameters
    ----------
    n : int
        Number of patients (rows), at least 1.
    seed : int
        Seed of the random generator; the same ``n``, ``seed`` and ``dirty`` give the same
        extract.
    dirty : float
        Share of rows (0 to 1) given one rule-breaking defect each (see :data:`DEFECTS`).
        With ``dirty > 0`` the extract has an extra column ``synth_defect`` naming each row's
        defect (empty for clean rows), so tests can check the quarantine.

    Returns
    -------
    pandas.DataFrame
        Text cells as they would stand in a CSV file (empty cells missing), the contract's
        columns in contract order plus an extra column ``site``.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    if not 0.0 <= dirty <= 1.0:
        raise ValueError("dirty must be between 0 and 1")
    rng = np.random.default_rng(seed)
    g = _draw_groups(rng, n)
    col: dict[str, np.ndarray] = {}
    sub = rng.random(n)  # sub-type draw used by several groups

    def pick(mask: np.ndarray, values: tuple, probs: tuple, out: np.ndarray) -> None:
        k = int(mask.sum())
        if k:
            out[mask] = rng.choice(np.array(values, dtype=object), size=k, p=probs)

    def obj(fill: object = None) -> np.ndarray:
        return np.full(n, fill, dtype=object)

    imnm = np.isin(g, IMNM_GROUPS)
    is_ = {name: g == name for name in DESIGN_GROUPS}
    # Incomplete records: which piece of data is missing or conflicting.
    inc_kind = np.where(is_["unclassified"], np.floor(sub * 5), -1)
    om_kind = _om_kind(g, sub)

    # Statin exposure first: it shapes anti-HMGCR onset age.
    statin = rng.random(n) < np.select([is_["hmgcr"], is_["statin_toxic"]], [0.6, 1.0], default=0.2)
    # Onset age (years) by group.
    mean = np.select(
        [is_["hmgcr"] & statin, is_["hmgcr"], is_["srp"], is_["statin_toxic"]],
        [64.0, 45.0, 51.0, 63.0],
        default=55.0,
    )
    sd = np.select([is_["hmgcr"] & ~statin, is_["srp"]], [17.0, 15.0], default=10.0)
    age = np.clip(rng.normal(mean, sd), 4.0, 90.0)
    span = int((ONSET_RANGE[1] - ONSET_RANGE[0]).astype(int))
    onset = ONSET_RANGE[0] + rng.integers(0, span, n).astype("timedelta64[D]")
    birth = onset - np.round(age * DAYS_PER_YEAR).astype("timedelta64[D]")
    diagnosis = onset + np.round(rng.lognormal(np.log(120), 0.8, n)).astype("timedelta64[D]")
    diag_known = rng.random(n) > 0.1
    follow_days = np.maximum(np.round(rng.exponential(6 * DAYS_PER_YEAR, n)), 14)
    end = np.minimum(onset + follow_days.astype("timedelta64[D]"), DATA_CUTOFF)
    end = np.maximum(end, onset)
    death_days = np.round(rng.exponential(33 * DAYS_PER_YEAR, n)).astype("timedelta64[D]")
    dies = onset + death_days < end
    death = np.where(dies, onset + death_days, np.datetime64("NaT"))
    gap = rng.integers(0, 90, n).astype("timedelta64[D]")
    last_fu = np.where(dies, np.maximum(death - gap, onset), end)

    col["sex"] = obj()
    pick(imnm, ("female", "male", "other", "unknown"), (0.62, 0.37, 0.005, 0.005), col["sex"])
    pick(~imnm, ("female", "male", "other", "unknown"), (0.55, 0.44, 0.005, 0.005), col["sex"])

    # Weakness.
    weak = obj()
    pick(imnm | is_["unclassified"], ("mild", "moderate", "severe"), (0.15, 0.45, 0.4), weak)
    pick(is_["statin_toxic"], ("none", "mild"), (0.5, 0.5), weak)
    pick(is_["other_myositis"], ("mild", "moderate", "severe"), (0.25, 0.45, 0.3), weak)
    not_arm = np.where(
        is_["not_imnm"], np.floor(sub * 3), -1
    )  # 0 hereditary, 1 no weakness, 2 biopsy
    pick(not_arm == 0, ("none", "mild", "moderate"), (0.3, 0.4, 0.3), weak)
    weak[not_arm == 1] = "none"
    pick(not_arm == 2, ("mild", "moderate"), (0.5, 0.5), weak)
    weak[inc_kind == 1] = None
    col["proximal_weakness"] = weak
    course = obj()
    pick(np.ones(n, bool), ("acute", "subacute", "chronic", None), (0.1, 0.6, 0.2, 0.1), course)
    col["weakness_course"] = course

    # CK (U/L): lognormal by group around the published medians.
    ck_median = np.select(
        [
            is_["hmgcr"],
            is_["srp"],
            is_["seronegative"],
            is_["statin_toxic"],
            is_["other_myositis"],
            not_arm == 1,
        ],
        [7337.0, 8000.0, 5000.0, 400.0, 1500.0, 300.0],
        default=4000.0,
    )
    ck = np.exp(rng.normal(np.log(ck_median), 0.6))
    high = imnm | (not_arm == 2) | is_["unclassified"] | (om_kind == 2)
    ck = np.where(high, np.clip(ck, 1050.0, 40000.0), ck)
    ck = np.where(is_["hmgcr"], np.clip(ck, 1050.0, 25500.0), ck)
    ck = np.where(is_["statin_toxic"], np.clip(ck, 60.0, 990.0), np.clip(ck, 30.0, 90000.0))
    ck_text = np.round(ck).astype(np.int64).astype(str).astype(object)
    ck_text[inc_kind == 0] = None
    col["ck_peak"] = ck_text
    uln = obj()
    pick(np.ones(n, bool), (*ULN_CHOICES, None), (0.5, 0.1, 0.1, 0.1, 0.2), uln)
    col["ck_uln"] = uln
    emg = obj()
    pick(np.ones(n, bool), ("true", "false", None), (0.8, 0.08, 0.12), emg)
    col["emg_myopathic"] = emg

    # Antibodies.
    hmgcr, srp = obj("negative"), obj("negative")
    hmgcr[is_["hmgcr"]] = "positive"
    pick(is_["hmgcr"], ("negative", None), (0.7, 0.3), srp)
    srp[is_["srp"]] = "positive"
    pick(
        is_["srp"] | is_["statin_toxic"] | is_["other_myositis"],
        ("negative", None),
        (0.6, 0.4),
        hmgcr,
    )
    hmgcr[inc_kind == 0] = "positive"  # positive, CK missing
    hmgcr[inc_kind == 2] = None  # HMGCR not tested
    hmgcr[inc_kind == 4] = "positive"
    srp[inc_kind == 4] = "positive"  # double positive
    col["anti_hmgcr"], col["anti_srp"] = hmgcr, srp

    msa = obj()
    pick(~is_["other_myositis"], ("none", None), (0.6, 0.4), msa)
    pick(om_kind == 0, ("jo1", "pl7", "pl12", "ej", "oj"), (0.6, 0.1, 0.1, 0.1, 0.1), msa)
    pick(om_kind == 1, ("mi2", "tif1g", "nxp2", "mda5", "sae"), (0.3, 0.3, 0.2, 0.1, 0.1), msa)
    msa[om_kind >= 2] = "none"
    col["other_msa"] = msa
    rash = obj("false")
    rash[(om_kind == 1) | (om_kind == 2)] = "true"
    pick(rng.random(n) < 0.1, ("false", None), (0.0, 1.0), rash)
    rash[(om_kind == 2)] = "true"
    col["dm_rash"] = rash
    if (om_kind == 2).any():  # DM by rash alone reaches rule 10: antibodies must be tested.
        hmgcr[om_kind == 2] = "negative"
        srp[om_kind == 2] = "negative"

    # Biopsy.
    biopsied = np.select(
        [is_["seronegative"] | (not_arm == 2) | (om_kind >= 3), imnm, is_["statin_toxic"]],
        [1.0, 0.7, 0.2],
        default=0.5,
    ) > rng.random(n)
    biopsied[inc_kind == 3] = False
    necrosis = obj()
    pick(biopsied & imnm, ("predominant", "present"), (0.9, 0.1), necrosis)
    necrosis[biopsied & is_["seronegative"]] = "predominant"
    pick(biopsied & ~imnm, ("present", "absent"), (0.5, 0.5), necrosis)
    inflammation = obj()
    pick(biopsied & imnm, ("minimal", "prominent"), (0.8, 0.2), inflammation)
    pick(biopsied & ~imnm, ("minimal", "prominent", None), (0.3, 0.6, 0.1), inflammation)
    col["biopsy_necrosis"], col["biopsy_inflammation"] = necrosis, inflammation
    for column, kind in (("biopsy_rimmed_vacuoles", 3), ("biopsy_perifascicular_atrophy", 4)):
        values = obj()
        values[biopsied] = "false"
        values[om_kind == kind] = "true"
        col[column] = values
    p62 = obj()
    p62[biopsied] = "false"
    p62[biopsied & imnm & (rng.random(n) < 0.6)] = "true"
    col["biopsy_p62_diffuse"] = p62

    # Statins.
    statin_text = np.where(statin, "true", "false").astype(object)
    statin_text[~statin & (rng.random(n) < 0.1)] = None
    col["statin_exposed"] = statin_text
    statin_name = obj()
    pick(
        statin,
        ("atorvastatin", "simvastatin", "rosuvastatin", "pravastatin", "pitavastatin"),
        (0.45, 0.25, 0.15, 0.1, 0.05),
        statin_name,
    )
    col["statin_name"] = statin_name
    latency_median = np.select([is_["hmgcr"], is_["statin_toxic"]], [38.0, 2.0], default=24.0)
    latency_months = np.exp(rng.normal(np.log(latency_median), 0.6))
    start = onset - np.round(latency_months * DAYS_PER_MONTH).astype("timedelta64[D]")
    stop = onset + rng.integers(0, 120, n).astype("timedelta64[D]")
    col["statin_start_date"] = _dates(np.where(statin, start, np.datetime64("NaT")))
    has_stop = statin & (is_["hmgcr"] | is_["statin_toxic"] | (rng.random(n) < 0.5))
    col["statin_stop_date"] = _dates(np.where(has_stop, stop, np.datetime64("NaT")))
    improved = obj()
    improved[is_["statin_toxic"]] = "true"
    improved[statin & is_["hmgcr"]] = "false"
    col["improved_after_statin_stop"] = improved
    hereditary = obj()
    pick(np.ones(n, bool), ("false", None), (0.7, 0.3), hereditary)
    hereditary[not_arm == 0] = "true"
    col["hereditary_myopathy"] = hereditary

    # Cancer.
    p_cancer = np.select(
        [is_["hmgcr"], is_["srp"], is_["seronegative"]], [0.18, 0.25, 0.30], default=0.12
    )
    cancer_days = np.round(rng.uniform(-8, 10, n) * DAYS_PER_YEAR).astype("timedelta64[D]")
    cancer = onset + cancer_days
    has_cancer = (rng.random(n) < p_cancer) & (cancer <= last_fu) & (cancer > birth)
    col["cancer_date"] = _dates(np.where(has_cancer, cancer, np.datetime64("NaT")))
    code = rng.choice(np.array(CANCER_CODES, dtype=object), size=n, p=CANCER_CODE_WEIGHTS)
    cancer_code = obj()
    cancer_code[has_cancer] = code[has_cancer]
    col["cancer_icd10"] = cancer_code

    col["patient_id"] = np.char.add(
        f"SYN{seed % 10_000:04d}-", np.char.zfill(np.arange(1, n + 1).astype(str), 7)
    ).astype(object)
    col["birth_date"] = _dates(birth)
    col["onset_date"] = _dates(onset)
    col["diagnosis_date"] = _dates(np.where(diag_known, diagnosis, np.datetime64("NaT")))
    col["last_followup_date"] = _dates(last_fu)
    col["death_date"] = _dates(death)
    col.update(_eular_items(seed, g, col, om_kind, biopsied))
    frame = pd.DataFrame({c: col[c] for c in CONTRACT_COLUMNS})
    site = obj()
    pick(np.ones(n, bool), ("Centre A", "Centre B", "Centre C"), (0.5, 0.3, 0.2), site)
    frame["site"] = site
    if dirty > 0:
        frame = _make_dirty(frame, rng, dirty)
    return frame


def design_groups(n: int, seed: int = 0) -> np.ndarray:
    """Each patient's design group in :func:`synthesize` (n, seed): the group tma2025 should
    give (the first draw of its generator, made again)."""
    return _draw_groups(np.random.default_rng(seed), n)


def _draw_groups(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(list(DESIGN_GROUPS), size=n, p=list(DESIGN_GROUPS.values()))


DEMO_SIZE, DEMO_SEED, DEMO_DIRTY = 3000, 2025, 0.01
DEMO_REGISTRY = Path(__file__).parent / "data" / "demo_registry.csv"


def demo_registry() -> pd.DataFrame:
    """The bundled demo registry's content: 3,000 synthetic patients, 1% with defects.

    ``imnm_cohort/data/demo_registry.csv`` is this frame written by :func:`write_extract`;
    a test checks that the two agree.
    """
    return synthesize(DEMO_SIZE, seed=DEMO_SEED, dirty=DEMO_DIRTY).drop(columns="synth_defect")


def _eular_items(
    seed: int, g: np.ndarray, col: dict[str, np.ndarray], om_kind: np.ndarray, biopsied: np.ndarray
) -> dict[str, np.ndarray]:
    """The EULAR/ACR 2017 item columns (contract v1.2), consistent with the other columns.

    Drawn from a generator of their own, so the columns of earlier versions are unchanged
    for a seed. Each clinical item is unrecorded for about a tenth of patients. Shares are
    design choices, not epidemiology (``docs/synthetic.md``).
    """
    rng = np.random.default_rng([seed, 2017])
    n = len(g)
    imnm = np.isin(g, IMNM_GROUPS)
    dm = np.isin(om_kind, [1, 2, 4])
    weak = np.isin(col["proximal_weakness"], ["mild", "moderate", "severe"])
    no_weak = col["proximal_weakness"] == "none"
    rash, no_rash = col["dm_rash"] == "true", col["dm_rash"] == "false"

    def flag(p: np.ndarray | float, known: np.ndarray) -> np.ndarray:
        out = np.where(rng.random(n) < p, "true", "false").astype(object)
        out[~known | (rng.random(n) < 0.1)] = None
        return out

    everyone = np.ones(n, dtype=bool)
    items = {
        "weakness_upper_proximal": flag(np.where(weak, 0.8, 0.0), weak | no_weak),
        "weakness_lower_proximal": flag(np.where(weak, 0.95, 0.0), weak | no_weak),
        "neck_flexor_weaker_than_extensor": flag(np.where(weak, 0.5, 0.05), everyone),
        "legs_proximal_weaker_than_distal": flag(np.where(weak, 0.7, 0.05), everyone),
        "heliotrope_rash": flag(np.where(rash, 0.6, 0.0), rash | no_rash),
        "gottron_papules": flag(np.where(rash, 0.6, 0.0), rash | no_rash),
        "gottron_sign": flag(np.where(rash, 0.4, 0.0), rash | no_rash),
        "dysphagia": flag(np.select([g == "srp", imnm], [0.4, 0.3], default=0.15), everyone),
    }
    ck = pd.to_numeric(pd.Series(col["ck_peak"]), errors="coerce").to_numpy()
    uln = pd.to_numeric(pd.Series(col["ck_uln"]), errors="coerce").fillna(200.0).to_numpy()
    items["muscle_enzymes_elevated"] = flag((ck > uln).astype(float), ~np.isnan(ck))
    prominent = col["biopsy_inflammation"] == "prominent"
    items["biopsy_endomysial_infiltrate"] = flag(
        np.select([prominent, g == "other_myositis"], [0.6, 0.5], default=0.1), biopsied
    )
    items["biopsy_perimysial_perivascular_infiltrate"] = flag(
        np.select([dm, imnm], [0.7, 0.1], default=0.2), biopsied
    )
    return items


def _om_kind(groups: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """Other-myositis sub-type: 0/1 antisynthetase or DM antibody, 2 DM rash only, 3 IBM
    (rimmed vacuoles), 4 perifascicular atrophy; -1 for other groups."""
    return np.where(groups == "other_myositis", np.floor(draw * 5), -1)


def _dates(values: np.ndarray) -> np.ndarray:
    text = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
    text[np.isnat(values)] = None
    return text


def _make_dirty(frame: pd.DataFrame, rng: np.random.Generator, share: float) -> pd.DataFrame:
    n = len(frame)
    k = min(n, round(share * n))
    rows = np.sort(rng.choice(n, size=k, replace=False))
    kinds = np.array(list(DEFECTS), dtype=object)[np.arange(k) % len(DEFECTS)]
    if (kinds == "duplicate_id").sum() % 2 == 1:  # duplicates come in pairs
        kinds[np.flatnonzero(kinds == "duplicate_id")[-1]] = "ck_negative"
    f = frame.copy()
    onset = pd.to_datetime(f["onset_date"])
    followup = pd.to_datetime(f["last_followup_date"])

    def iso(values: pd.Series) -> np.ndarray:
        return values.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)

    def at(kind: str) -> np.ndarray:
        return rows[kinds == kind]

    r = at("birth_date_format")
    f.loc[r, "birth_date"] = pd.to_datetime(f.loc[r, "birth_date"]).dt.strftime("%d/%m/%Y")
    r = at("birth_after_onset")
    f.loc[r, "birth_date"] = iso(onset[r] + pd.Timedelta(days=30))
    r = at("diagnosis_before_onset")
    f.loc[r, "diagnosis_date"] = iso(onset[r] - pd.Timedelta(days=10))
    r = at("followup_before_onset")
    f.loc[r, "last_followup_date"] = iso(onset[r] - pd.Timedelta(days=1))
    f.loc[r, "death_date"] = None
    r = at("death_before_followup")
    f.loc[r, "last_followup_date"] = iso(followup[r] + pd.Timedelta(days=400))
    f.loc[r, "death_date"] = iso(followup[r] + pd.Timedelta(days=10))
    r = at("death_before_onset")
    f.loc[r, "death_date"] = iso(onset[r] - pd.Timedelta(days=5))
    r = at("statin_stop_before_start")
    f.loc[r, "statin_exposed"] = "true"
    f.loc[r, "statin_start_date"] = iso(onset[r] - pd.Timedelta(days=200))
    f.loc[r, "statin_stop_date"] = iso(onset[r] - pd.Timedelta(days=300))
    simple = {
        "ck_negative": ("ck_peak", "-40"),
        "ck_text": ("ck_peak", "very high"),
        "ck_uln_range": ("ck_uln", "5"),
        "sex_unknown_value": ("sex", "f"),
        "sex_missing": ("sex", None),
        "onset_missing": ("onset_date", None),
        "antibody_value": ("anti_hmgcr", "pos"),
        "msa_unknown": ("other_msa", "jo-1"),
        "boolean_value": ("dm_rash", "maybe"),
        "icd10_text": ("cancer_icd10", "breast"),
        "weakness_value": ("proximal_weakness", "strong"),
        "biopsy_value": ("biopsy_necrosis", "yes"),
        "statin_name_value": ("statin_name", "aspirin"),
    }
    for kind, (column, value) in simple.items():
        f.loc[at(kind), column] = value
    r = at("onset_missing")  # no onset: date-order rules cannot be judged, only the missing value
    f.loc[r, "death_date"] = None
    r = at("patient_id_control")
    f.loc[r, "patient_id"] = (
        f.loc[r, "patient_id"].str.slice(0, 3) + "\x01" + f.loc[r, "patient_id"].str.slice(3)
    )
    pairs = at("duplicate_id")
    f.loc[pairs[1::2], "patient_id"] = f.loc[pairs[0::2], "patient_id"].to_numpy()
    defect = np.full(n, None, dtype=object)
    defect[rows] = kinds
    f["synth_defect"] = defect
    return f


#: Rows per file of a synthetic registry written as a folder of Parquet files.
PARQUET_PART_ROWS = 1_000_000


def _text_table(frame: pd.DataFrame) -> Any:
    """The frame as an Arrow table of text columns (missing cells null)."""
    import pyarrow as pa

    return pa.Table.from_pandas(
        frame.astype(object),
        preserve_index=False,
        schema=pa.schema([(c, pa.string()) for c in frame.columns]),
    )


def _write_duckdb(frame: pd.DataFrame, path: Path) -> Path:
    """A new DuckDB file (replacing ``path``) with the table ``patients`` of text cells."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    table = _text_table(frame)
    with duckdb.connect(str(partial)) as con:
        con.register("synthetic", table)
        con.execute("CREATE TABLE patients AS SELECT * FROM synthetic")
    partial.replace(path)
    return path


def _write_parquet_folder(frame: pd.DataFrame, folder: Path) -> Path:
    """A folder of Parquet files of text cells, :data:`PARQUET_PART_ROWS` rows each (the
    folder's earlier ``patients-*.parquet`` files removed first)."""
    import pyarrow.parquet as pq

    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("patients-*.parquet"):
        old.unlink()
    table = _text_table(frame)
    for part, start in enumerate(range(0, max(len(frame), 1), PARQUET_PART_ROWS)):
        pq.write_table(
            table.slice(start, PARQUET_PART_ROWS), folder / f"patients-{part:05d}.parquet"
        )
    return folder


def write_extract(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write an extract frame to CSV or Parquet, chosen by the path's suffix.

    Parameters
    ----------
    frame : pandas.DataFrame
        Text cells (as from :func:`synthesize`); missing cells are written empty.
    path : str or Path
        Ends in ``.csv`` or ``.parquet``; or ``.duckdb``, a DuckDB database with the table
        ``patients`` (text columns, NULL where the CSV file has an empty cell); or has no
        suffix, a folder of Parquet files of at most :data:`PARQUET_PART_ROWS` rows each
        (``patients-00000.parquet``, ...), which the ``duckdb`` source reads in place
        (``table = "folder/*.parquet"``). Parent folders are created.

    Returns
    -------
    Path
        The path written.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from imnm_cohort.io.tables import TABLE_SUFFIXES

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".duckdb":
        return _write_duckdb(frame, path)
    if not suffix:
        return _write_parquet_folder(frame, path)
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"{path}: output must end in {' or '.join(TABLE_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(
        frame.astype(object),
        preserve_index=False,
        schema=pa.schema([(c, pa.string()) for c in frame.columns]),
    )
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    return path
