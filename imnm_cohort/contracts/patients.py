"""The registry extract contract, version 1, as a pandera schema.

This module is the single source of truth for the extract format: column types, allowed
values, ranges and the cross-column rules. ``schemas/extract-v1.json`` and
``docs/extract-format.md`` are generated from it (:mod:`imnm_cohort.validation.export`), and a
test fails when they are out of date.

The schema validates the *typed* frame that :mod:`imnm_cohort.contracts.coerce` makes from the
text of the file; the failures of that parsing step (a date that is not ``YYYY-MM-DD``, a
number that is not a number) carry the rule codes in :data:`PARSE_RULES`.

Every check carries a stable rule code in its ``error`` field; quarantine reasons use these
codes, so a registry manager can count them across months.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera import extensions

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

# pandera's own check names, renamed to the toolkit's stable codes.
PANDERA_RULES = {
    "not_nullable": "missing_required",
    "field_uniqueness": "duplicate_patient_id",
}


def _register_checks() -> None:
    """Register the contract's custom checks so that the schema serialises to JSON."""
    registered = getattr(pa.Check, "REGISTERED_CUSTOM_CHECKS", {})
    if "date_order" not in registered:

        @extensions.register_check_method(
            statistics=["earlier", "later", "strict"], supported_types=pd.DataFrame
        )
        def date_order(df: pd.DataFrame, *, earlier: str, later: str, strict: bool) -> pd.Series:
            """``later`` is on or after (``strict``: after) ``earlier``; empty values pass."""
            a, b = df[earlier], df[later]
            ok = (b > a) if strict else (b >= a)
            return ok | a.isna() | b.isna()

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


def _col(
    kind: str,
    *,
    required: bool = False,
    checks: list[pa.Check] | None = None,
    description: str,
    title: str,
    unique: bool = False,
) -> pa.Column:
    text = pd.StringDtype("pyarrow")
    dtype: Any = {
        "id": text,
        "string": text,
        "category": text,
        "date": "datetime64[ns]",
        "bool": "boolean",
        "float": "float64",
        "msa_list": text,
        "icd10": text,
    }[kind]
    return pa.Column(
        dtype,
        checks=checks or [],
        nullable=not required,
        unique=unique,
        required=True,
        description=description,
        title=title,
        metadata={"kind": kind, "value_required": required},
    )


def _allowed(values: tuple[str, ...]) -> list[pa.Check]:
    return [pa.Check.isin(list(values), error="not_allowed")]


def _eular_item(text: str) -> str:
    """Description of a contract v1.2 column read by the EULAR/ACR 2017 classifier."""
    return f"{text} (EULAR/ACR 2017 classification item; contract v1.2)."


def _order(earlier: str, later: str, code: str, *, strict: bool = False) -> pa.Check:
    # The check passes empty dates itself; pandera's own pass for rows whose every cell is
    # empty (a look at the whole frame for each rule) cannot change its outcome.
    return pa.Check.date_order(
        earlier=earlier, later=later, strict=strict, error=code, ignore_na=False
    )


#: Cross-column rules: (rule code, the column the rule is about, earlier, later, strict).
DATE_ORDER_RULES: tuple[tuple[str, str, str, str, bool], ...] = (
    ("birth_not_before_onset", "birth_date", "birth_date", "onset_date", True),
    ("diagnosis_before_onset", "diagnosis_date", "onset_date", "diagnosis_date", False),
    ("followup_before_onset", "last_followup_date", "onset_date", "last_followup_date", False),
    ("death_before_followup", "death_date", "last_followup_date", "death_date", False),
    ("death_before_onset", "death_date", "onset_date", "death_date", False),
    (
        "statin_stop_before_start",
        "statin_stop_date",
        "statin_start_date",
        "statin_stop_date",
        False,
    ),
)

EXTRACT_SCHEMA = pa.DataFrameSchema(
    name="registry_extract_v1",
    title="IMNM registry extract, contract v1",
    description="One row per patient. Extra columns are allowed and carried through untouched.",
    strict=False,
    coerce=False,
    columns={
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
        "diagnosis_date": _col(
            "date", title="Diagnosis date", description="On or after onset_date."
        ),
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
        "biopsy_rimmed_vacuoles": _col(
            "bool", title="Rimmed vacuoles", description="Rimmed vacuoles."
        ),
        "biopsy_p62_diffuse": _col(
            "bool", title="Diffuse p62", description="Diffuse fine sarcoplasmic p62 pattern."
        ),
        "statin_exposed": _col(
            "bool", title="Statin exposed", description="Any statin before onset."
        ),
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
    },
    checks=[_order(e, later, code, strict=s) for code, _, e, later, s in DATE_ORDER_RULES],
)

#: The contract's columns, in contract order.
CONTRACT_COLUMNS: tuple[str, ...] = tuple(EXTRACT_SCHEMA.columns)
#: The columns whose value is required.
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    name for name, col in EXTRACT_SCHEMA.columns.items() if col.metadata["value_required"]
)
#: For each cross-column rule code, the column it is reported against.
DATE_ORDER_COLUMN = {code: column for code, column, *_ in DATE_ORDER_RULES}


def column_kind(name: str) -> str:
    """Return the parsing kind (``date``, ``bool``, ``float``, ...) of a contract column."""
    return str(EXTRACT_SCHEMA.columns[name].metadata["kind"])
