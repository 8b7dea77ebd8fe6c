"""A REDCap-shaped synthetic registry: a longitudinal export, its data dictionary and mapping.

:func:`redcap_layout` explodes a flat synthetic extract (:func:`~imnm_cohort.synth.synthesize`)
into what a REDCap longitudinal project exports as a raw CSV:

* one row per record per event: ``baseline_arm_1`` (demographics, diagnosis, antibodies,
  biopsy, statins) and one to three ``followup_N_arm_1`` visits (visit date, CK, MMT-8, the
  physician and patient globals, HAQ, death);
* a repeating ``malignancy`` instrument (one row per cancer; some patients have a second,
  later cancer, and instances are not always in date order);
* repeating ``treatment`` (one row per drug course: a glucocorticoid for everyone, a second
  and third drug for some) and ``antibody_test`` instruments (an ELISA result for each
  anti-HMGCR and anti-SRP status that was tested, agreeing with it);
* coded choices (``1, Female | 2, Male``), ``yesno`` fields written ``1``/``0``, tick boxes
  for the other myositis antibodies (``msa___1`` ...; unticked boxes export ``0`` in every
  row), missing-data codes ``UNK`` and ``NASK`` in some empty cells, and one day-first date
  column (date of birth, ``DD/MM/YYYY``).

Beside it go the project's data dictionary (REDCap's 18 column headers) and the mapping file
that turns the export back into the flat extract: peak CK and the last visit by ``max``, the
first cancer by ``min`` and its code by ``at_min:cancer_date``; every coded field, ``yesno``
fields too, with its ``values`` (contract section 5a: a code is never read by its
truthiness), and the fields the dictionary flags as identifiers listed in
``[source] identifiers``; and ``[tables.visits]``, ``[tables.treatments]``,
``[tables.antibody_tests]`` and ``[tables.cancers]`` for the event tables of contract
section 6. Deterministic for a seed; the course fields draw from a generator of their own,
so every patient-level field is as without them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from imnm_cohort.contracts.antibody_tests import METHODS
from imnm_cohort.contracts.patients import OTHER_MSA, STATINS
from imnm_cohort.contracts.treatments import DRUGS
from imnm_cohort.synth import CANCER_CODES, synthesize, write_extract

#: REDCap's data dictionary headers, in REDCap's order.
DICTIONARY_HEADERS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)  # fmt: skip
MISSING_CODES = ("UNK", "NASK")
DAY_FIRST = "%d/%m/%Y"

_SEX = {"female": ("1", "Female"), "male": ("2", "Male"), "other": ("3", "Other"),
        "unknown": ("9", "Unknown")}  # fmt: skip
_WEAKNESS = {"none": ("0", "None"), "mild": ("1", "Mild"), "moderate": ("2", "Moderate"),
             "severe": ("3", "Severe")}  # fmt: skip
_COURSE = {"acute": ("1", "Acute"), "subacute": ("2", "Subacute"), "chronic": ("3", "Chronic")}
_ANTIBODY = {"positive": ("1", "Positive"), "negative": ("2", "Negative"),
             "not_tested": ("3", "Not done")}  # fmt: skip
_NECROSIS = {"predominant": ("1", "Predominant"), "present": ("2", "Present"),
             "absent": ("3", "Absent")}  # fmt: skip
_INFLAMMATION = {"minimal": ("1", "Minimal"), "prominent": ("2", "Prominent")}
_STATIN = {name: (str(i), name.capitalize()) for i, name in enumerate(STATINS, start=1)}
_DRUG = {name: (str(i), name.replace("_", " ").capitalize()) for i, name in
         enumerate(DRUGS, start=1)}  # fmt: skip
_ANTIGEN = {"hmgcr": ("1", "HMGCR"), "srp": ("2", "SRP")}
_METHOD = {name: (str(i), name.replace("_", " ").upper()) for i, name in
           enumerate(METHODS, start=1)}  # fmt: skip
_RESULT = {"positive": ("1", "Positive"), "negative": ("2", "Negative"),
           "equivocal": ("3", "Equivocal")}  # fmt: skip
_MSA_LABELS = ("Jo-1", "PL-7", "PL-12", "EJ", "OJ", "KS", "Zo", "Ha", "Mi-2", "TIF1-gamma",
               "NXP2", "MDA5", "SAE")  # fmt: skip

# (field, form, type, label, validation, contract column, codes)
_FIELDS: tuple[tuple[str, str, str, str, str, str | None, dict | None], ...] = (
    ("record_id", "demographics", "text", "Record ID", "", "patient_id", None),
    ("sex", "demographics", "radio", "Sex", "", "sex", _SEX),
    ("dob", "demographics", "text", "Date of birth", "date_dmy", "birth_date", None),
    ("sym_onset", "diagnosis", "text", "Date of first muscle symptom", "date_ymd",
     "onset_date", None),
    ("dx_date", "diagnosis", "text", "Date of diagnosis", "date_ymd", "diagnosis_date", None),
    ("weakness", "diagnosis", "dropdown", "Worst proximal weakness", "", "proximal_weakness",
     _WEAKNESS),
    ("weak_course", "diagnosis", "radio", "Course of weakness", "", "weakness_course", _COURSE),
    ("rash", "diagnosis", "yesno", "Heliotrope rash or Gottron papules", "", "dm_rash", None),
    ("ck_uln", "diagnosis", "text", "CK upper limit of normal (U/L)", "number", "ck_uln", None),
    ("emg", "diagnosis", "yesno", "Myopathic EMG", "", "emg_myopathic", None),
    ("hmgcr_ab", "antibodies", "radio", "Anti-HMGCR antibody", "", "anti_hmgcr", _ANTIBODY),
    ("srp_ab", "antibodies", "radio", "Anti-SRP antibody", "", "anti_srp", _ANTIBODY),
    ("msa", "antibodies", "checkbox", "Other myositis-specific antibodies found", "",
     "other_msa", None),
    ("msa_done", "antibodies", "yesno", "Myositis antibody panel done", "", None, None),
    ("bx_necrosis", "biopsy", "radio", "Biopsy: necrotic fibres", "", "biopsy_necrosis",
     _NECROSIS),
    ("bx_inflam", "biopsy", "radio", "Biopsy: inflammation", "", "biopsy_inflammation",
     _INFLAMMATION),
    ("bx_pfa", "biopsy", "yesno", "Biopsy: perifascicular atrophy", "",
     "biopsy_perifascicular_atrophy", None),
    ("bx_rv", "biopsy", "yesno", "Biopsy: rimmed vacuoles", "", "biopsy_rimmed_vacuoles", None),
    ("bx_p62", "biopsy", "yesno", "Biopsy: diffuse p62 pattern", "", "biopsy_p62_diffuse",
     None),
    ("statin", "statins", "yesno", "Statin taken before onset", "", "statin_exposed", None),
    ("statin_drug", "statins", "dropdown", "Which statin", "", "statin_name", _STATIN),
    ("statin_start", "statins", "text", "Statin start date", "date_ymd", "statin_start_date",
     None),
    ("statin_stop", "statins", "text", "Statin stop date", "date_ymd", "statin_stop_date", None),
    ("statin_improved", "statins", "yesno", "Improved after statin stop", "",
     "improved_after_statin_stop", None),
    ("hereditary", "statins", "yesno", "Genetic myopathy confirmed", "", "hereditary_myopathy",
     None),
    ("visit_date", "visit", "text", "Visit date", "date_ymd", "last_followup_date", None),
    ("ck", "visit", "text", "Creatine kinase (U/L)", "integer", "ck_peak", None),
    ("death_dt", "visit", "text", "Date of death", "date_ymd", "death_date", None),
    ("ca_date", "malignancy", "text", "Cancer diagnosis date", "date_ymd", "cancer_date", None),
    ("ca_icd10", "malignancy", "text", "Cancer ICD-10 code", "", "cancer_icd10", None),
    ("weak_arms", "classification", "yesno", "Proximal weakness of the arms (upper limbs)", "",
     "weakness_upper_proximal", None),
    ("weak_legs", "classification", "yesno", "Proximal weakness of the legs (lower limbs)", "",
     "weakness_lower_proximal", None),
    ("neck_flexors", "classification", "yesno", "Neck flexors weaker than extensors", "",
     "neck_flexor_weaker_than_extensor", None),
    ("legs_prox_distal", "classification", "yesno", "Legs: proximal muscles weaker than distal",
     "", "legs_proximal_weaker_than_distal", None),
    ("heliotrope_rash", "classification", "yesno", "Heliotrope rash", "", "heliotrope_rash",
     None),
    ("gottron_papules", "classification", "yesno", "Gottron papules", "", "gottron_papules",
     None),
    ("gottron_sign", "classification", "yesno", "Gottron sign", "", "gottron_sign", None),
    ("dysphagia", "classification", "yesno", "Dysphagia or oesophageal dysmotility", "",
     "dysphagia", None),
    ("enzymes_high", "classification", "yesno", "CK, LDH, AST or ALT above normal", "",
     "muscle_enzymes_elevated", None),
    ("bx_endomysial", "classification", "yesno", "Biopsy: endomysial infiltrate", "",
     "biopsy_endomysial_infiltrate", None),
    ("bx_perimysial", "classification", "yesno", "Biopsy: perimysial or perivascular infiltrate",
     "", "biopsy_perimysial_perivascular_infiltrate", None),
    # The course of the disease (contract section 6): follow-up scores, repeating
    # treatment and antibody_test instruments.
    ("mmt8", "visit", "text", "MMT-8 total (0-80)", "number", None, None),
    ("md_global", "visit", "text", "Physician global activity (VAS, cm)", "number", None, None),
    ("pt_global", "visit", "text", "Patient global activity (VAS, cm)", "number", None, None),
    ("haq", "visit", "text", "HAQ disability index", "number", None, None),
    ("tx_drug", "treatment", "dropdown", "Drug", "", None, _DRUG),
    ("tx_start", "treatment", "text", "Drug started", "date_ymd", None, None),
    ("tx_stop", "treatment", "text", "Drug stopped", "date_ymd", None, None),
    ("tx_dose", "treatment", "text", "Daily dose (mg)", "number", None, None),
    ("ab_date", "antibody_test", "text", "Serum sample date", "date_ymd", None, None),
    ("ab_antigen", "antibody_test", "dropdown", "Antigen tested", "", None, _ANTIGEN),
    ("ab_method", "antibody_test", "dropdown", "Assay method", "", None, _METHOD),
    ("ab_value", "antibody_test", "text", "Assay value (U)", "number", None, None),
    ("ab_cutoff", "antibody_test", "text", "Assay positive cut-off (U)", "number", None, None),
    ("ab_result", "antibody_test", "radio", "Laboratory's call", "", None, _RESULT),
)  # fmt: skip
_BASELINE_FORMS = ("demographics", "diagnosis", "antibodies", "biopsy", "statins", "classification")
_MSA_BOXES = tuple(f"msa___{i}" for i in range(1, len(OTHER_MSA) + 1))


@dataclass(frozen=True)
class RedcapExport:
    """A REDCap-shaped export with its data dictionary and its mapping file.

    Attributes
    ----------
    export : pandas.DataFrame
        The raw export, text cells (empty cells missing).
    dictionary : pandas.DataFrame
        The data dictionary, REDCap's 18 columns.
    mapping : str
        The mapping file (TOML) that turns ``export`` back into the flat extract.
    """

    export: pd.DataFrame
    dictionary: pd.DataFrame
    mapping: str


def redcap_layout(flat: pd.DataFrame, seed: int = 0, *, shuffle: bool = False) -> RedcapExport:
    """Explode a flat section-1 text extract into a REDCap longitudinal export.

    Parameters
    ----------
    flat : pandas.DataFrame
        Text cells, one row per patient, every contract column (as from
        :func:`~imnm_cohort.synth.synthesize`); valid dates (``YYYY-MM-DD``).
    seed : int
        Seed for visits, CK at each visit, second cancers and missing-data codes.
    shuffle : bool
        Put the rows in random order (REDCap sorts by record and event).

    Returns
    -------
    RedcapExport
    """
    rng = np.random.default_rng(seed)
    # The EULAR/ACR 2017 item fields (contract v1.2) draw their missing-data codes from a
    # generator of their own, so that every other field is as before they existed.
    item_rng = np.random.default_rng([seed, 2017])
    flat = flat.reset_index(drop=True)
    n = len(flat)
    base = pd.DataFrame(index=pd.RangeIndex(n))
    base["record_id"] = flat["patient_id"].to_numpy(dtype=object)
    base["redcap_event_name"] = "baseline_arm_1"
    for field, form, _, _, _, contract, codes in _FIELDS:
        if form not in _BASELINE_FORMS or contract in (None, "patient_id", "other_msa"):
            continue
        values = flat[contract].to_numpy(dtype=object)
        if codes is not None:
            values = (
                pd.Series(values).map({k: c for k, (c, _) in codes.items()}).to_numpy(dtype=object)
            )
            if contract in ("anti_hmgcr", "anti_srp"):  # empty = not tested: "Not done"
                values = np.where(pd.isna(values) & (rng.random(n) < 0.5), "3", values)
        elif contract.endswith("_date") and field == "dob":
            values = _day_first(values)
        elif field in _YESNO:
            values = pd.Series(values).map({"true": "1", "false": "0"}).to_numpy(dtype=object)
        base[field] = _with_missing_codes(values, item_rng if form == "classification" else rng)
    msa = flat["other_msa"].fillna("").to_numpy(dtype=str)
    for box, antibody in zip(_MSA_BOXES, OTHER_MSA, strict=True):
        listed = np.char.find(np.char.add(np.char.add(";", msa), ";"), f";{antibody};") >= 0
        base[box] = np.where(listed, "1", "0")
    done = np.full(n, None, dtype=object)
    done[rng.random(n) < 0.5] = "0"
    done[msa != ""] = "1"
    base["msa_done"] = done
    visits = _visits(flat, rng)
    cancers = _cancers(flat, rng)
    # The course of the disease (contract section 6) draws from a generator of its own.
    course_rng = np.random.default_rng([seed, 6])
    visits = _visit_scores(visits, course_rng)
    treatments = _treatments(flat, course_rng)
    tests = _antibody_tests(flat, course_rng)
    base["_patient"], base["_rank"] = np.arange(n), 0.0
    export = pd.concat([base, visits, cancers, treatments, tests], ignore_index=True)
    if shuffle:
        export = export.iloc[rng.permutation(len(export))]
    else:
        export = export.sort_values(["_patient", "_rank"], kind="stable")
    columns = ["record_id", "redcap_event_name", "redcap_repeat_instrument",
               "redcap_repeat_instance", *_export_fields()[1:]]  # fmt: skip
    for box in _MSA_BOXES:  # unticked boxes export 0 in every row, whatever the event
        export[box] = export[box].fillna("0")
    export = export.reindex(columns=columns).reset_index(drop=True)
    export = export.astype(object).where(export.notna(), None)
    return RedcapExport(export, dictionary(), mapping_text())


_YESNO = {f for f, _, t, *_ in _FIELDS if t == "yesno"}
#: The fields the data dictionary flags ``Identifier? = y``.
_IDENTIFIERS = ("record_id", "dob")


def _export_fields() -> list[str]:
    names: list[str] = []
    for field, _, ftype, *_ in _FIELDS:
        names.extend(_MSA_BOXES if ftype == "checkbox" else [field])
    return names


def _day_first(values: np.ndarray) -> np.ndarray:
    dates = pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d")
    return dates.dt.strftime(DAY_FIRST).astype(object).where(dates.notna(), None).to_numpy()


def _with_missing_codes(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Some empty cells hold a missing-data code instead."""
    empty = pd.isna(values)
    draw = rng.random(len(values))
    out = values.astype(object).copy()
    out[empty & (draw < 0.2)] = "UNK"
    out[empty & (draw >= 0.2) & (draw < 0.3)] = "NASK"
    return out


def _visits(flat: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One to three follow-up visits; the last on last_followup_date, peak CK at a random one."""
    n = len(flat)
    k = rng.integers(1, 4, n)
    patient = np.repeat(np.arange(n), k)
    number = np.arange(len(patient)) - np.repeat(np.cumsum(k) - k, k)
    onset = pd.to_datetime(flat["onset_date"], format="%Y-%m-%d").to_numpy()
    last = pd.to_datetime(flat["last_followup_date"], format="%Y-%m-%d").to_numpy()
    is_last = number == k[patient] - 1
    frac = np.minimum(_sorted_within(patient, np.where(is_last, 2.0, rng.random(len(patient)))), 1)
    span = (last - onset)[patient].astype("timedelta64[D]").astype(np.int64)
    dates = onset[patient] + np.floor(frac * span).astype("timedelta64[D]")
    ck_text = flat["ck_peak"].to_numpy(dtype=object)
    peak_at = np.floor(rng.random(n) * k).astype(int)
    peak = pd.to_numeric(pd.Series(ck_text), errors="coerce").to_numpy()[patient]
    lower = np.floor(peak * rng.uniform(0.05, 0.95, len(patient)))
    ck = pd.Series(lower).map(lambda v: str(int(v)), na_action="ignore").to_numpy(dtype=object)
    at_peak = number == peak_at[patient]
    ck[at_peak] = ck_text[patient][at_peak]
    ck[pd.isna(peak)] = None
    death = np.full(len(patient), None, dtype=object)
    death[is_last] = flat["death_date"].to_numpy(dtype=object)[patient][is_last]
    return pd.DataFrame(
        {
            "record_id": flat["patient_id"].to_numpy(dtype=object)[patient],
            "redcap_event_name": np.char.add(
                np.char.add("followup_", (number + 1).astype(str)), "_arm_1"
            ).astype(object),
            "visit_date": pd.Series(dates).dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
            "ck": _with_missing_codes(ck, rng),
            "death_dt": death,
            "_patient": patient,
            "_rank": number + 1.0,
        }
    )


def _sorted_within(patient: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` sorted within each patient (rows grouped by patient, in order)."""
    order = np.lexsort((values, patient))
    return values[order]


def _cancers(flat: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The repeating malignancy instrument: the first cancer, and for some a later second."""
    has = flat["cancer_date"].notna().to_numpy()
    first = np.flatnonzero(has)
    second = first[rng.random(len(first)) < 0.3]
    first_date = pd.to_datetime(flat["cancer_date"], format="%Y-%m-%d").to_numpy()
    later = first_date[second] + rng.integers(30, 2000, len(second)).astype("timedelta64[D]")
    codes = rng.choice(np.array(CANCER_CODES[:9], dtype=object), size=len(second))
    patient = np.concatenate([first, second])
    dates = np.concatenate([first_date[first], later])
    icd = np.concatenate([flat["cancer_icd10"].to_numpy(dtype=object)[first], codes])
    # Instance numbers follow data entry, not dates: a later cancer is sometimes instance 1.
    instance = np.where(np.arange(len(patient)) < len(first), 1, 2)
    swapped = np.isin(patient, second[rng.random(len(second)) < 0.5])
    instance = np.where(swapped, 3 - instance, instance)
    return pd.DataFrame(
        {
            "record_id": flat["patient_id"].to_numpy(dtype=object)[patient],
            "redcap_event_name": "baseline_arm_1",
            "redcap_repeat_instrument": "malignancy",
            "redcap_repeat_instance": instance.astype(str).astype(object),
            "ca_date": pd.Series(dates).dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
            "ca_icd10": icd,
            "_patient": patient,
            "_rank": 10.0 + instance,
        }
    )


def _visit_scores(visits: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """MMT-8, the physician and patient globals and the HAQ at each follow-up visit:
    strength recovering and activity falling with each visit, with noise."""
    m = len(visits)
    number = visits["_rank"].to_numpy() - 1.0
    mmt = np.clip(np.round(52 + 8 * number + rng.normal(0, 6, m)), 0, 80)
    md = np.clip(np.round(6 - 1.5 * number + rng.normal(0, 1, m), 1), 0, 10)
    pt = np.clip(np.round(md + rng.normal(0, 1, m), 1), 0, 10)
    haq = np.clip(np.round(1.6 - 0.3 * number + rng.normal(0, 0.3, m), 3), 0, 3)
    scores = {"mmt8": mmt, "md_global": md, "pt_global": pt, "haq": haq}
    for field, values in scores.items():
        text = pd.Series(values).map("{:g}".format).to_numpy(dtype=object)
        text[rng.random(m) < 0.05] = None  # not assessed at that visit
        visits[field] = text
    return visits


def _course_dates(
    flat: pd.DataFrame, patient: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Dates at fractions ``lower``..``upper`` of each patient's span from onset (or the
    diagnosis, when it is within follow-up) to the end of observation, as ``YYYY-MM-DD``."""
    onset = pd.to_datetime(flat["onset_date"], format="%Y-%m-%d")
    last = pd.to_datetime(flat["last_followup_date"], format="%Y-%m-%d")
    death = pd.to_datetime(flat["death_date"], format="%Y-%m-%d")
    last = death.where(death < last, last)  # the end of observation
    diagnosis = pd.to_datetime(flat["diagnosis_date"], format="%Y-%m-%d")
    start = diagnosis.where(diagnosis <= last, onset).fillna(onset).to_numpy()
    days_between = (last.to_numpy() - start).astype("timedelta64[D]").astype(np.int64)
    span = np.maximum(days_between, 0)[patient]
    days = np.floor(span * (lower + (upper - lower) * 0.5)).astype("timedelta64[D]")
    return pd.Series(start[patient] + days).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)


def _treatments(flat: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The repeating treatment instrument: prednisone from the start of the course for
    everyone, a second-line drug for about 60% and IVIG for about a quarter."""
    n = len(flat)
    second = rng.random(n) < 0.6
    third = rng.random(n) < 0.25
    second_drugs = np.array(["methotrexate", "azathioprine", "mycophenolate", "rituximab"])
    patient = np.concatenate([np.arange(n), np.flatnonzero(second), np.flatnonzero(third)])
    course = np.repeat([0, 1, 2], [n, int(second.sum()), int(third.sum())])
    drug = np.where(course == 0, "prednisone", "ivig").astype(object)
    drug[course == 1] = rng.choice(second_drugs, int(second.sum()))
    lower = np.array([0.0, 0.05, 0.1])[course]
    start = _course_dates(flat, patient, lower, lower + 0.1)
    stop = np.full(len(patient), None, dtype=object)
    stopped = (course == 0) & (rng.random(len(patient)) < 0.5)
    stop[stopped] = (
        (
            pd.to_datetime(pd.Series(start[stopped]), format="%Y-%m-%d")
            + pd.to_timedelta(rng.integers(180, 720, int(stopped.sum())), unit="D")
        )
        .dt.strftime("%Y-%m-%d")
        .to_numpy(dtype=object)
    )
    dose = np.full(len(patient), None, dtype=object)
    dose[course == 0] = "60"
    instance = course + 1
    return pd.DataFrame(
        {
            "record_id": flat["patient_id"].to_numpy(dtype=object)[patient],
            "redcap_event_name": "baseline_arm_1",
            "redcap_repeat_instrument": "treatment",
            "redcap_repeat_instance": instance.astype(str).astype(object),
            "tx_drug": pd.Series(drug).map({k: c for k, (c, _) in _DRUG.items()}).to_numpy(),
            "tx_start": start,
            "tx_stop": stop,
            "tx_dose": dose,
            "_patient": patient,
            "_rank": 20.0 + instance,
        }
    )


def _antibody_tests(flat: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The repeating antibody_test instrument: one ELISA per anti-HMGCR and anti-SRP status
    that was tested, its value above a cut-off of 20 U exactly when the status is positive."""
    parts = []
    for antigen, column in (("hmgcr", "anti_hmgcr"), ("srp", "anti_srp")):
        status = flat[column].to_numpy(dtype=object)
        tested = np.flatnonzero(np.isin(status, ["positive", "negative"]))
        positive = status[tested] == "positive"
        value = np.where(
            positive, rng.uniform(25, 200, len(tested)), rng.uniform(0, 15, len(tested))
        )
        parts.append(
            pd.DataFrame(
                {
                    "_patient": tested,
                    "ab_antigen": _ANTIGEN[antigen][0],
                    "ab_value": pd.Series(np.round(value, 1)).map("{:g}".format).to_numpy(),
                    "ab_result": np.where(positive, _RESULT["positive"][0], _RESULT["negative"][0]),
                }
            )
        )
    tests = pd.concat(parts, ignore_index=True).sort_values("_patient", kind="stable")
    patient = tests["_patient"].to_numpy()
    instance = np.arange(len(patient)) - np.searchsorted(patient, patient)
    zero = np.zeros(len(patient))
    return tests.assign(
        record_id=flat["patient_id"].to_numpy(dtype=object)[patient],
        redcap_event_name="baseline_arm_1",
        redcap_repeat_instrument="antibody_test",
        redcap_repeat_instance=(instance + 1).astype(str).astype(object),
        ab_date=_course_dates(flat, patient, zero, zero),
        ab_method=_METHOD["elisa"][0],
        ab_cutoff="20",
        _rank=30.0 + instance + 1,
    ).reset_index(drop=True)


def dictionary() -> pd.DataFrame:
    """The data dictionary of the synthetic project (REDCap's 18 columns)."""
    rows = []
    for field, form, ftype, label, validation, _, codes in _FIELDS:
        if ftype == "checkbox":
            choices = " | ".join(f"{i}, {lab}" for i, lab in enumerate(_MSA_LABELS, start=1))
        elif codes is not None:
            choices = " | ".join(f"{c}, {lab}" for c, lab in codes.values())
        else:
            choices = ""
        row = dict.fromkeys(DICTIONARY_HEADERS, "")
        row.update(
            {
                "Variable / Field Name": field,
                "Form Name": form,
                "Field Type": ftype,
                "Field Label": label,
                "Choices, Calculations, OR Slider Labels": choices,
                "Text Validation Type OR Show Slider Number": validation,
                "Identifier?": "y" if field in _IDENTIFIERS else "",
            }
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(DICTIONARY_HEADERS))


def mapping_text() -> str:
    """The mapping file that turns the synthetic REDCap export into the flat extract."""
    identifiers = list(_IDENTIFIERS)
    lines = [
        "# Mapping of the synthetic REDCap project (imnm-cohort synth --layout redcap) onto",
        "# extract contract section 1. See docs/mapping.md for every key.",
        "",
        "[source]",
        f"missing_codes = {list(MISSING_CODES)!r}".replace("'", '"'),
        'id = "record_id"',
        "# Fields the data dictionary flags as identifiers. The date of birth is one, and",
        "# birth_date needs it: keep_identifiers names it knowingly. No other export column",
        "# is carried into any output (there is no [source] keep).",
        f"identifiers = {identifiers!r}".replace("'", '"'),
        'keep_identifiers = ["dob"]',
        "",
        "[columns]",
    ]
    combine = {"last_followup_date": "max", "ck_peak": "max", "cancer_date": "min",
               "cancer_icd10": "at_min:cancer_date"}  # fmt: skip
    for field, _, ftype, _, _, contract, codes in _FIELDS:
        if contract is None or ftype == "checkbox":
            continue
        parts = [f'from = "{field}"']
        if codes is not None:
            pairs = ", ".join(f'"{c}" = "{v}"' for v, (c, _) in codes.items())
            parts.append(f"values = {{ {pairs} }}")
        elif ftype == "yesno":
            parts.append('values = { "1" = "true", "0" = "false" }')
        if field == "dob":
            parts.append(f'format = "{DAY_FIRST}"')
        if contract in combine:
            parts.append(f'combine = "{combine[contract]}"')
        lines.append(f"{contract} = {{ {', '.join(parts)} }}")
    boxes = ", ".join(f'"{b}" = "{a}"' for b, a in zip(_MSA_BOXES, OTHER_MSA, strict=True))
    lines.append(f'other_msa = {{ checkboxes = {{ {boxes} }}, tested = "msa_done" }}')
    return "\n".join([*lines, *_table_lines()]) + "\n"


def _codes(codes: dict[str, tuple[str, str]]) -> str:
    return "{ " + ", ".join(f'"{c}" = "{v}"' for v, (c, _) in codes.items()) + " }"


def _table_lines() -> list[str]:
    """The ``[tables.NAME]`` sections: the event tables of contract section 6 from the
    follow-up events and the repeating instruments."""
    return [
        "",
        "# The event tables (contract section 6): one row per export row with a value in any",
        "# of a table's columns; patient_id is [source] id.",
        "[tables.visits]",
        'visit_date = "visit_date"',
        'ck = "ck"',
        'mmt = "mmt8"',
        'physician_global = "md_global"',
        'patient_global = "pt_global"',
        'haq = "haq"',
        "",
        "[tables.treatments]",
        'where = { redcap_repeat_instrument = "treatment" }',
        f'drug = {{ from = "tx_drug", values = {_codes(_DRUG)} }}',
        'start_date = "tx_start"',
        'stop_date = "tx_stop"',
        'dose_mg_per_day = "tx_dose"',
        "",
        "[tables.antibody_tests]",
        'where = { redcap_repeat_instrument = "antibody_test" }',
        'test_date = "ab_date"',
        f'antigen = {{ from = "ab_antigen", values = {_codes(_ANTIGEN)} }}',
        f'method = {{ from = "ab_method", values = {_codes(_METHOD)} }}',
        'value = "ab_value"',
        'cutoff = "ab_cutoff"',
        f'result = {{ from = "ab_result", values = {_codes(_RESULT)} }}',
        "",
        "[tables.cancers]",
        'where = { redcap_repeat_instrument = "malignancy" }',
        'cancer_date = "ca_date"',
        'icd10 = "ca_icd10"',
    ]


def write_redcap(n: int, path: str | Path, seed: int = 0) -> list[Path]:
    """Write a REDCap-shaped export, its dictionary and its mapping beside it.

    Parameters
    ----------
    n : int
        Patients.
    path : str or Path
        The export (``.csv``); the dictionary is ``STEM.dictionary.csv`` and the mapping
        ``STEM.mapping.toml`` in the same folder.
    seed : int

    Returns
    -------
    list of Path
        The export, the dictionary and the mapping.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path}: a REDCap export is a .csv file")
    made = redcap_layout(synthesize(n, seed=seed), seed=seed)
    dictionary_path = path.with_name(path.stem + ".dictionary.csv")
    mapping_path = path.with_name(path.stem + ".mapping.toml")
    write_extract(made.export, path)
    write_extract(made.dictionary, dictionary_path)
    mapping_path.write_text(made.mapping, encoding="utf-8")
    return [path, dictionary_path, mapping_path]


EXAMPLE_SIZE, EXAMPLE_SEED = 300, 2025
#: The bundled REDCap-shaped example (``pipelines/redcap-example.toml`` runs on it):
#: ``write_redcap(EXAMPLE_SIZE, EXAMPLE_EXPORT, seed=EXAMPLE_SEED)``; a test checks it.
EXAMPLE_EXPORT = Path(__file__).parent / "data" / "redcap_export.csv"
