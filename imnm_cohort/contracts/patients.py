"""The registry extract contract, version 1: the patient table's :data:`PATIENTS`.

This module is the single source of truth for the extract format: column types, allowed
values, ranges and the cross-column rules. :data:`EXTRACT_SCHEMA`, :data:`CONTRACT_COLUMNS`,
:data:`REQUIRED_COLUMNS` and :data:`DATE_ORDER_RULES` are views of :data:`PATIENTS`.
``schemas/extract-v1.json`` and ``docs/extract-format.md`` are generated from it
(:mod:`imnm_cohort.validation.export`), and a test fails when they are out of date.

The schema validates the *typed* frame that :mod:`imnm_cohort.contracts.coerce` makes from the
text of the file; the failures of that parsing step (a date that is not ``YYYY-MM-DD``, a
number that is not a number) carry the rule codes in :data:`PARSE_RULES`.

Every check carries a stable rule code in its ``error`` field; quarantine reasons use these
codes, so a registry manager can count them across months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera import extensions

from imnm_cohort.contracts.table import OrderRule, TableContract, allowed, column
from imnm_cohort.vocabulary import DAYS_PER_YEAR as _DAYS_PER_YEAR
from imnm_cohort.vocabulary import days_between, malignant_icd10

CONTRACT_VERSION = "1"

SEXES = ("female", "male", "other", "unknown")
WEAKNESS = ("none", "mild", "moderate", "severe")
COURSES = ("acute", "subacute", "chronic")
ANTIBODY_RESULTS = ("positive", "negative", "not_tested")
OTHER_MSA = (
    "jo1", "pl7", "pl12", "ej", "oj", "ks", "zo", "ha", "mi2", "tif1g", "nxp2", "mda5", "sae",
)  # fmt: skip
NECROSIS = ("predominant", "present", "absent")
INFLAMMATION = ("minimal", "prominent")
STATINS = (
    "atorvastatin", "cerivastatin", "fluvastatin", "lovastatin",
    "pitavastatin", "pravastatin", "rosuvastatin", "simvastatin",
)  # fmt: skip

CK_MAX = 1_000_000.0
CK_ULN_RANGE = (20.0, 1000.0)
CK_ULN_DEFAULT = 200.0
PATIENT_ID_MAX_LENGTH = 256
ICD10_PATTERN = r"^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?$"

CK_IMPLAUSIBLE = 100_000.0
ONSET_AGE_IMPLAUSIBLE = (2.0, 100.0)

#: Data-quality warnings: the row stays valid, the warning is recorded.
WARNING_CODES = {
    "ck_above_100000": "ck_peak above 100,000 U/L",
    "onset_age_below_2": "onset age below 2 years",
    "onset_age_above_100": "onset age above 100 years",
    "statin_started_after_onset": "statin_start_date after onset_date",
    "cancer_code_not_malignant": "cancer_icd10 outside C00-C97 (malignant neoplasms)",
    "diagnosis_after_end_of_observation": "diagnosis_date after the end of observation "
    "(no follow-up from diagnosis)",
    # Contract section 6: the patient table and the event tables disagree (the patient
    # table's value is kept; the warning names both).
    "ck_peak_below_visits": "ck_peak below the highest CK of the patient's visits",
    "anti_hmgcr_differs_from_tests": "anti_hmgcr differs from the patient's antibody tests",
    "anti_srp_differs_from_tests": "anti_srp differs from the patient's antibody tests",
    "cancer_date_differs_from_cancers": "cancer_date differs from the first malignant cancer "
    "of the cancers table",
    "cancer_icd10_differs_from_cancers": "cancer_icd10 differs from the cancers table's code "
    "on that date",
}
WARNING_COLUMNS = ("row_number", "patient_id", "column", "code", "value")

#: The first and last dates the toolkit holds (what ``datetime64[ns]`` holds, whole days).
DATE_RANGE = ("1677-09-22", "2262-04-11")

# Rules found while reading and parsing the file, before the schema runs.
PARSE_RULES = {
    "not_a_date": "the value is not a date written YYYY-MM-DD",
    "date_out_of_range": (
        f"the date is outside the supported range, {DATE_RANGE[0]} to {DATE_RANGE[1]}"
    ),
    "not_a_number": "the value is not a finite number",
    "not_a_boolean": "the value is not true/false, 1/0 or yes/no",
    "spreadsheet_error": "the spreadsheet cell holds an error value (#DIV/0!, #N/A, #VALUE!, "
    "...), not a result",
    "formula_without_value": "the spreadsheet cell holds a formula whose result was never "
    "saved in the file",
}


def _register_checks() -> None:
    """Register the contract's custom checks so that the schema serialises to JSON."""
    registered = getattr(pa.Check, "REGISTERED_CUSTOM_CHECKS", {})
    if "token_list" not in registered:

        @extensions.register_check_method(
            statistics=["allowed", "alone"], supported_types=pd.Series
        )
        def token_list(series: pd.Series, *, allowed: list[str], alone: str) -> pd.Series:
            """Each ``;``-separated token is allowed; ``alone`` may only stand by itself.

            Checked on the distinct values only: antibody lists repeat a lot.
            """
            distinct = pd.Series(series.dropna().unique(), dtype=object)
            if distinct.empty:
                return pd.Series(True, index=series.index)
            tokens = distinct.str.split(";").explode()
            token_ok = (tokens.isin(allowed) | tokens.eq(alone)).groupby(level=0).all()
            has_alone = tokens.eq(alone).groupby(level=0).any()
            good = token_ok & (~has_alone | distinct.eq(alone))
            bad_values = distinct[~good].tolist()
            return ~series.isin(bad_values).fillna(False).astype(bool)


_register_checks()

_col = column
_allowed = allowed


def _eular_item(text: str) -> str:
    """Description of a contract v1.2 column read by the EULAR/ACR 2017 classifier."""
    return f"{text} (EULAR/ACR 2017 classification item; contract v1.2)."


#: Cross-column rules, each reported against one of its two columns.
_ORDER_RULES: tuple[OrderRule, ...] = (
    OrderRule("birth_not_before_onset", "birth_date", "birth_date", "onset_date", strict=True),
    OrderRule("diagnosis_before_onset", "diagnosis_date", "onset_date", "diagnosis_date"),
    OrderRule("followup_before_onset", "last_followup_date", "onset_date", "last_followup_date"),
    OrderRule("death_before_followup", "death_date", "last_followup_date", "death_date"),
    OrderRule("death_before_onset", "death_date", "onset_date", "death_date"),
    OrderRule(
        "statin_stop_before_start", "statin_stop_date", "statin_start_date", "statin_stop_date"
    ),
)

_COLUMNS: dict[str, pa.Column] = {
    "patient_id": _col(
        "id",
        required=True,
        unique=True,
        checks=[
            pa.Check.str_matches(
                rf"^[^\x00-\x1f\x7f]{{1,{PATIENT_ID_MAX_LENGTH}}}$", error="invalid_patient_id"
            )
        ],
        title="Patient id",
        description=(
            "Pseudonymous registry id, unique in the file; at most "
            f"{PATIENT_ID_MAX_LENGTH} characters, no control characters."
        ),
    ),
    "sex": _col(
        "category",
        required=True,
        checks=_allowed(SEXES),
        title="Sex",
        description="Sex as recorded.",
    ),
    "birth_date": _col(
        "date", required=True, title="Date of birth", description="Must be before onset_date."
    ),
    "onset_date": _col(
        "date",
        required=True,
        title="Onset date",
        description="First muscle symptom; the study's index date.",
    ),
    "diagnosis_date": _col("date", title="Diagnosis date", description="On or after onset_date."),
    "last_followup_date": _col(
        "date",
        required=True,
        title="Last follow-up",
        description="Last time the patient was known alive; on or after onset_date.",
    ),
    "death_date": _col(
        "date",
        title="Date of death",
        description="On or after last_followup_date and onset_date.",
    ),
    "proximal_weakness": _col(
        "category",
        checks=_allowed(WEAKNESS),
        title="Proximal weakness",
        description="Worst objective symmetric proximal weakness.",
    ),
    "weakness_course": _col(
        "category",
        checks=_allowed(COURSES),
        title="Course of weakness",
        description="Course of the weakness.",
    ),
    "dm_rash": _col(
        "bool",
        title="Dermatomyositis rash",
        description="Heliotrope rash or Gottron papules/sign.",
    ),
    "ck_peak": _col(
        "float",
        checks=[pa.Check.in_range(0.0, CK_MAX, error="out_of_range")],
        title="Peak CK (U/L)",
        description="Highest serum creatine kinase, U/L.",
    ),
    "ck_uln": _col(
        "float",
        checks=[pa.Check.in_range(*CK_ULN_RANGE, error="out_of_range")],
        title="CK upper limit of normal (U/L)",
        description=(
            "The lab's upper limit of normal, U/L; classification uses "
            f"{CK_ULN_DEFAULT:g} where empty."
        ),
    ),
    "emg_myopathic": _col(
        "bool",
        title="Myopathic EMG",
        description="Myopathic EMG; fibrillations or myotonic discharges count as support.",
    ),
    "anti_hmgcr": _col(
        "category",
        checks=_allowed(ANTIBODY_RESULTS),
        title="Anti-HMGCR",
        description="Anti-HMGCR antibody result; an empty cell is read as not_tested.",
    ),
    "anti_srp": _col(
        "category",
        checks=_allowed(ANTIBODY_RESULTS),
        title="Anti-SRP",
        description="Anti-SRP antibody result; an empty cell is read as not_tested.",
    ),
    "other_msa": _col(
        "msa_list",
        checks=[
            pa.Check.token_list(allowed=list(OTHER_MSA), alone="none", error="unknown_antibody")
        ],
        title="Other myositis-specific antibodies",
        description=(
            "Empty = not tested; 'none' = panel negative; otherwise ';'-separated from: "
            + ", ".join(OTHER_MSA)
            + "."
        ),
    ),
    "biopsy_necrosis": _col(
        "category",
        checks=_allowed(NECROSIS),
        title="Biopsy necrosis",
        description="Necrotic/regenerating fibres; empty = no biopsy.",
    ),
    "biopsy_inflammation": _col(
        "category",
        checks=_allowed(INFLAMMATION),
        title="Biopsy inflammation",
        description="Inflammatory infiltrates on the biopsy.",
    ),
    "biopsy_perifascicular_atrophy": _col(
        "bool", title="Perifascicular atrophy", description="Perifascicular atrophy."
    ),
    "biopsy_rimmed_vacuoles": _col("bool", title="Rimmed vacuoles", description="Rimmed vacuoles."),
    "biopsy_p62_diffuse": _col(
        "bool", title="Diffuse p62", description="Diffuse fine sarcoplasmic p62 pattern."
    ),
    "statin_exposed": _col("bool", title="Statin exposed", description="Any statin before onset."),
    "statin_name": _col(
        "category", checks=_allowed(STATINS), title="Statin", description="The statin taken."
    ),
    "statin_start_date": _col("date", title="Statin start", description="Statin start."),
    "statin_stop_date": _col(
        "date", title="Statin stop", description="On or after statin_start_date."
    ),
    "improved_after_statin_stop": _col(
        "bool",
        title="Improved after stopping the statin",
        description="Weakness and CK settled after stopping, without immunotherapy.",
    ),
    "hereditary_myopathy": _col(
        "bool", title="Hereditary myopathy", description="A genetic myopathy was confirmed."
    ),
    "cancer_date": _col(
        "date",
        title="Cancer date",
        description="First malignancy diagnosis, before or after onset.",
    ),
    "cancer_icd10": _col(
        "icd10",
        checks=[pa.Check.str_matches(ICD10_PATTERN, error="invalid_icd10")],
        title="Cancer ICD-10 code",
        description="ICD-10 code of that malignancy, e.g. C50.9.",
    ),
    "weakness_upper_proximal": _col(
        "bool",
        title="Proximal upper-limb weakness",
        description=_eular_item(
            "Objective symmetric, usually progressive weakness of the proximal arms"
        ),
    ),
    "weakness_lower_proximal": _col(
        "bool",
        title="Proximal lower-limb weakness",
        description=_eular_item(
            "Objective symmetric, usually progressive weakness of the proximal legs"
        ),
    ),
    "neck_flexor_weaker_than_extensor": _col(
        "bool",
        title="Neck flexors weaker than extensors",
        description=_eular_item(
            "Neck flexors relatively weaker than neck extensors on muscle testing"
        ),
    ),
    "legs_proximal_weaker_than_distal": _col(
        "bool",
        title="Legs: proximal weaker than distal",
        description=_eular_item(
            "In the legs, proximal muscles relatively weaker than distal muscles"
        ),
    ),
    "heliotrope_rash": _col(
        "bool",
        title="Heliotrope rash",
        description=_eular_item(
            "Purple, lilac or erythematous patches over the eyelids or around the eyes"
        ),
    ),
    "gottron_papules": _col(
        "bool",
        title="Gottron papules",
        description=_eular_item(
            "Erythematous to violaceous papules over the extensor surfaces of joints"
        ),
    ),
    "gottron_sign": _col(
        "bool",
        title="Gottron sign",
        description=_eular_item(
            "Erythematous to violaceous flat macules over the extensor surfaces of joints"
        ),
    ),
    "dysphagia": _col(
        "bool",
        title="Dysphagia",
        description=_eular_item("Difficulty swallowing or oesophageal dysmotility"),
    ),
    "muscle_enzymes_elevated": _col(
        "bool",
        title="Muscle enzymes elevated",
        description=_eular_item(
            "Highest serum CK, LDH, AST or ALT above the upper limit of normal"
        ),
    ),
    "biopsy_endomysial_infiltrate": _col(
        "bool",
        title="Endomysial infiltrate",
        description=_eular_item(
            "Endomysial mononuclear cells surrounding, but not invading, myofibres"
        ),
    ),
    "biopsy_perimysial_perivascular_infiltrate": _col(
        "bool",
        title="Perimysial or perivascular infiltrate",
        description=_eular_item("Perimysial and/or perivascular mononuclear cell infiltration"),
    ),
}


def data_quality_warnings(valid: pd.DataFrame) -> pd.DataFrame:
    """Implausible-but-possible values in valid rows (the rows stay valid).

    Parameters
    ----------
    valid : pandas.DataFrame
        Typed valid rows indexed by ``row_number``.

    Returns
    -------
    pandas.DataFrame
        ``row_number``, ``patient_id``, ``column``, ``code``, ``value``; codes in
        :data:`WARNING_CODES`.
    """
    age = days_between(valid["onset_date"], valid["birth_date"]) / _DAYS_PER_YEAR
    icd = valid["cancer_icd10"]
    checks = [
        ("ck_peak", "ck_above_100000", valid["ck_peak"] > CK_IMPLAUSIBLE, valid["ck_peak"]),
        ("birth_date", "onset_age_below_2", age < ONSET_AGE_IMPLAUSIBLE[0], age),
        ("birth_date", "onset_age_above_100", age > ONSET_AGE_IMPLAUSIBLE[1], age),
        (
            "statin_start_date",
            "statin_started_after_onset",
            valid["statin_start_date"] > valid["onset_date"],
            valid["statin_start_date"],
        ),
        ("cancer_icd10", "cancer_code_not_malignant", icd.notna() & ~malignant_icd10(icd), icd),
        (
            "diagnosis_date",
            "diagnosis_after_end_of_observation",
            valid["diagnosis_date"] > valid["death_date"].fillna(valid["last_followup_date"]),
            valid["diagnosis_date"],
        ),
    ]
    parts = []
    for column_name, code, mask, values in checks:
        hit = mask.fillna(False).to_numpy(dtype=bool)
        shown = values[hit]  # formatted for the rows that carry a warning only
        if code.startswith("onset_age"):
            shown = shown.round(2)
        elif pd.api.types.is_datetime64_any_dtype(shown):  # never NaT: a comparison held
            shown = pd.Series(np.datetime_as_string(shown.to_numpy(), unit="D"), dtype=object)
        parts.append(
            pd.DataFrame(
                {
                    "row_number": valid.index.to_numpy()[hit],
                    "patient_id": valid["patient_id"][hit].to_numpy(dtype=object),
                    "column": column_name,
                    "code": code,
                    "value": shown.to_numpy(dtype=object),
                },
                columns=list(WARNING_COLUMNS),
            )
        )
    return pd.concat(parts, ignore_index=True).sort_values(
        ["row_number", "code"], kind="stable", ignore_index=True
    )


#: The patient table (contract section 1): one row per patient.
PATIENTS = TableContract(
    name="patients",
    unit="patients",
    columns=_COLUMNS,
    order_rules=_ORDER_RULES,
    key=("patient_id",),
    id_column="patient_id",
    schema_name="registry_extract_v1",
    title="IMNM registry extract, contract v1",
    description="One row per patient. Extra columns are allowed and carried through untouched.",
    empty_values={"anti_hmgcr": "not_tested", "anti_srp": "not_tested"},
    rule_names={"not_nullable": "missing_required", "field_uniqueness": "duplicate_patient_id"},
    first_columns=("patient_id", "other_msa", "cancer_icd10"),
    warnings=data_quality_warnings,
)

# The public constants below are views of PATIENTS.
EXTRACT_SCHEMA = PATIENTS.schema
#: pandera's own check names, renamed to the toolkit's stable codes.
PANDERA_RULES = dict(PATIENTS.rule_names)
#: Cross-column rules: (rule code, the column the rule is about, earlier, later, strict).
DATE_ORDER_RULES: tuple[tuple[str, str, str, str, bool], ...] = tuple(
    (r.code, r.column, r.earlier, r.later, r.strict) for r in PATIENTS.order_rules
)
#: The contract's columns, in contract order.
CONTRACT_COLUMNS: tuple[str, ...] = PATIENTS.column_names
#: The columns whose value is required.
REQUIRED_COLUMNS: tuple[str, ...] = PATIENTS.required
#: For each cross-column rule code, the column it is reported against.
DATE_ORDER_COLUMN = PATIENTS.order_column


def column_kind(name: str) -> str:
    """Return the parsing kind (``date``, ``bool``, ``float``, ...) of a contract column."""
    return PATIENTS.kind(name)
