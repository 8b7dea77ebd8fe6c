"""A synthetic OMOP CDM v5.4 database, deterministic for a seed, with planted IMNM cases.

``imnm-cohort synth --layout omop --n N -o cdm.duckdb`` (or ``-o folder/``: one Parquet file
per table) writes a population of ``N`` made-up persons: ``person``, ``observation_period``
(about 5% with two), ``drug_exposure`` (statin users with refills and gaps, switches between
ingredients, and other drugs), ``measurement`` (about :data:`MEASUREMENTS_PER_PERSON` rows a
person: common labs, creatine kinase in U/L, IU/L or µkat/L, antibody tests mapped by
concept id or unmapped), ``condition_occurrence`` (common conditions, cancers, myositis),
``death``, the vocabulary rows the rest needs (``concept``, ``concept_ancestor``) and
``cdm_source``. Beside them, ``planted_truth`` (not a CDM table) records every planted
person: the true group, the onset and the combination each was given.

Planted IMNM onsets follow a Poisson process: a rate per person-year before a person's first
statin (or for a person who never takes one) and another from the first statin on ("during
or after exposure"), so the rate a correct analysis finds is within its exact interval of
the planted rate. The rates default to about ten times the published estimate for anti-HMGCR
IMNM among statin users (2 to 3 per 100,000 a year), so that a database of 100,000 persons
holds a few dozen cases; :class:`OmopPlan` changes them.

Everything is drawn in chunks of :data:`CHUNK_PERSONS` persons with whole-array numpy
operations (no loop over persons or rows) and written chunk by chunk, so memory stays
bounded up to 10,000,000 persons. ``docs/synthetic.md`` ("OMOP CDM layout") describes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

#: Persons drawn at once (the output depends on the seed and N only, not on memory).
CHUNK_PERSONS = 100_000
#: Mean rows of ``measurement`` per person (the benchmark's scale).
MEASUREMENTS_PER_PERSON = 50
#: Observation ends by this day at the latest.
DATA_CUTOFF = np.datetime64("2024-12-31")
FIRST_DAY = np.datetime64("2005-01-01")
#: DuckDB's memory while writing (it writes blocks out beyond this).
WRITE_MEMORY = "1GB"
#: Local concept ids start here (OMOP reserves ids above 2,000,000,000 for a site's own).
LOCAL = 2_000_000_000

# --------------------------------------------------------------------------- concepts
#: Every concept id the generator writes, in one place: (id, name, domain, vocabulary,
#: class, standard, code). Ids from OHDSI's vocabulary (checked against OHDSI's Synthea27Nj
#: sample's ``concept`` table where it holds them: CK, units, genders, the Synthea statin
#: products, breast and colon cancer); ids at or above :data:`LOCAL` are the generator's
#: own where no verified OMOP id was found (the LOINC antibody tests, the myositis
#: conditions): a source finds them through ``concept`` by vocabulary and code.
CONCEPTS: tuple[tuple[int, str, str, str, str, str | None, str], ...] = (
    (8507, "MALE", "Gender", "Gender", "Gender", "S", "M"),
    (8532, "FEMALE", "Gender", "Gender", "Gender", "S", "F"),
    (32817, "EHR", "Type Concept", "Type Concept", "Type Concept", "S", "OMOP4976890"),
    # units
    (8645, "unit per liter", "Unit", "UCUM", "Unit", "S", "U/L"),
    (8923, "international unit per liter", "Unit", "UCUM", "Unit", "S", "[iU]/L"),
    (32995, "microkatal per liter", "Unit", "UCUM", "Unit", "S", "ukat/L"),
    (8840, "milligram per deciliter", "Unit", "UCUM", "Unit", "S", "mg/dL"),
    (8753, "millimole per liter", "Unit", "UCUM", "Unit", "S", "mmol/L"),
    (8713, "gram per deciliter", "Unit", "UCUM", "Unit", "S", "g/dL"),
    (8525, "titer", "Unit", "UCUM", "Unit", "S", "{titer}"),
    (8554, "percent", "Unit", "UCUM", "Unit", "S", "%"),
    # operators and qualitative results
    (4171756, "<", "Meas Value Operator", "SNOMED", "Qualifier Value", "S", "276139006"),
    (4172704, ">", "Meas Value Operator", "SNOMED", "Qualifier Value", "S", "276140008"),
    (45884084, "Positive", "Meas Value", "LOINC", "Answer", "S", "LA6576-8"),
    (45878583, "Negative", "Meas Value", "LOINC", "Answer", "S", "LA6577-6"),
    (9191, "Positive", "Meas Value", "SNOMED", "Qualifier Value", "S", "10828004"),
    (9189, "Negative", "Meas Value", "SNOMED", "Qualifier Value", "S", "260385009"),
    # measurements
    (3007220, "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma",
     "Measurement", "LOINC", "Lab Test", "S", "2157-6"),
    (LOCAL + 101, "HMG CoA reductase Ab [Units/volume] in Serum by Immunoassay",
     "Measurement", "LOINC", "Lab Test", "S", "93493-5"),
    (LOCAL + 102, "Signal recognition particle Ab [Presence] in Serum by Immunoprecipitation",
     "Measurement", "LOINC", "Lab Test", "S", "33921-8"),
    (LOCAL + 103, "Signal recognition particle Ab [Titer] in Serum by Immunofluorescence",
     "Measurement", "LOINC", "Lab Test", "S", "53011-3"),
    (3000963, "Hemoglobin [Mass/volume] in Blood", "Measurement", "LOINC", "Lab Test", "S",
     "718-7"),
    (3016723, "Creatinine [Mass/volume] in Serum or Plasma", "Measurement", "LOINC",
     "Lab Test", "S", "2160-0"),
    (3019550, "Sodium [Moles/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test",
     "S", "2951-2"),
    (3023103, "Potassium [Moles/volume] in Serum or Plasma", "Measurement", "LOINC",
     "Lab Test", "S", "2823-3"),
    (3006923, "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
     "Measurement", "LOINC", "Lab Test", "S", "1742-6"),
    (3028437, "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
     "Measurement", "LOINC", "Lab Test", "S", "18262-6"),
    (3004410, "Hemoglobin A1c/Hemoglobin.total in Blood", "Measurement", "LOINC", "Lab Test",
     "S", "4548-4"),
    # statins: ATC class, ingredients (RxNorm), and the products of the Synthea sample
    (21601855, "HMG CoA reductase inhibitors", "Drug", "ATC", "ATC 4th", "C", "C10AA"),
    (1545958, "atorvastatin", "Drug", "RxNorm", "Ingredient", "S", "83367"),
    (1539403, "simvastatin", "Drug", "RxNorm", "Ingredient", "S", "36567"),
    (1510813, "rosuvastatin", "Drug", "RxNorm", "Ingredient", "S", "301542"),
    (1551860, "pravastatin", "Drug", "RxNorm", "Ingredient", "S", "42463"),
    (1592085, "lovastatin", "Drug", "RxNorm", "Ingredient", "S", "6472"),
    (1549686, "fluvastatin", "Drug", "RxNorm", "Ingredient", "S", "41127"),
    (40165636, "pitavastatin", "Drug", "RxNorm", "Ingredient", "S", "861634"),
    (1545959, "atorvastatin 80 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S",
     "259255"),
    (1539411, "simvastatin 20 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S",
     "312961"),
    (1539463, "simvastatin 10 MG Oral Tablet", "Drug", "RxNorm", "Clinical Drug", "S",
     "314231"),
    # other drugs
    (1503297, "metformin", "Drug", "RxNorm", "Ingredient", "S", "6809"),
    (1308216, "lisinopril", "Drug", "RxNorm", "Ingredient", "S", "29046"),
    (1125315, "acetaminophen", "Drug", "RxNorm", "Ingredient", "S", "161"),
    # conditions
    (320128, "Essential hypertension", "Condition", "SNOMED", "Clinical Finding", "S",
     "59621000"),
    (201826, "Type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "S",
     "44054006"),
    (432867, "Hyperlipidemia", "Condition", "SNOMED", "Clinical Finding", "S", "55822004"),
    (443392, "Malignant neoplastic disease", "Condition", "SNOMED", "Clinical Finding", "S",
     "363346000"),
    (4112853, "Malignant tumor of breast", "Condition", "SNOMED", "Clinical Finding", "S",
     "254837009"),
    (4180790, "Malignant tumor of colon", "Condition", "SNOMED", "Clinical Finding", "S",
     "363406005"),
    (LOCAL + 1, "Inflammatory and immune myopathy", "Condition", "SNOMED",
     "Clinical Finding", "S", "G72.49"),
    (LOCAL + 2, "Polymyositis", "Condition", "SNOMED", "Clinical Finding", "S", "M33.2"),
    (LOCAL + 3, "Other myositis", "Condition", "SNOMED", "Clinical Finding", "S", "M60.8"),
    (LOCAL + 4, "Myositis", "Condition", "SNOMED", "Clinical Finding", "S", "M60.9"),
)  # fmt: skip

#: The statin ingredients: name -> RxNorm ingredient concept id (ATC C10AA).
STATIN_INGREDIENTS: dict[str, int] = {
    "atorvastatin": 1545958,
    "simvastatin": 1539403,
    "rosuvastatin": 1510813,
    "pravastatin": 1551860,
    "lovastatin": 1592085,
    "fluvastatin": 1549686,
    "pitavastatin": 40165636,
}
#: Share of statin courses by ingredient (a design choice, roughly US prescribing).
STATIN_WEIGHTS = (0.45, 0.25, 0.18, 0.06, 0.03, 0.015, 0.015)
#: Products recorded for an ingredient besides the ingredient itself (drug_concept_id).
STATIN_PRODUCTS: dict[int, tuple[int, ...]] = {1545958: (1545959,), 1539403: (1539411, 1539463)}
ATC_STATINS = 21601855
MALIGNANT_ROOT = 443392
CK = 3007220
UNIT_U_L, UNIT_IU_L, UNIT_UKAT_L = 8645, 8923, 32995
#: 1 µkat/L of creatine kinase = 60 U/L (1 U = 1 µmol/min = 1/60 µkat).
U_PER_UKAT = 60.0
HMGCR_LOINC, SRP_IP_LOINC, SRP_IFA_LOINC = "93493-5", "33921-8", "53011-3"
ANTIBODY_CONCEPT = {HMGCR_LOINC: LOCAL + 101, SRP_IP_LOINC: LOCAL + 102, SRP_IFA_LOINC: LOCAL + 103}
#: The lab's own code carried by a mapped antibody row (the LOINC code only unmapped).
ANTIBODY_LOCAL_CODE = {HMGCR_LOINC: "HMGCR-IGG", SRP_IP_LOINC: "SRP-IP", SRP_IFA_LOINC: "SRP-IFA"}
POSITIVE = (45884084, 9191)
NEGATIVE = (45878583, 9189)
OPERATOR_LT = 4171756
#: ICD-10-CM myositis codes (condition_source_value) and their standard concepts here.
MYOSITIS = {"G72.49": LOCAL + 1, "M33.2": LOCAL + 2, "M60.8": LOCAL + 3, "M60.9": LOCAL + 4}
CANCERS = {"C50.9": 4112853, "C18.9": 4180790}
EHR = 32817
GENDER = {"female": 8532, "male": 8507}
#: Common labs as noise: concept, source code, unit, median, log-SD, share of rows.
NOISE_LABS = (
    (3000963, "718-7", 8713, 13.5, 0.1, 0.18),
    (3016723, "2160-0", 8840, 0.9, 0.25, 0.18),
    (3019550, "2951-2", 8753, 140.0, 0.02, 0.15),
    (3023103, "2823-3", 8753, 4.2, 0.08, 0.15),
    (3006923, "1742-6", 8645, 25.0, 0.4, 0.12),
    (3028437, "18262-6", 8840, 110.0, 0.3, 0.08),
    (3004410, "4548-4", 8554, 5.8, 0.15, 0.06),
    (CK, "2157-6", UNIT_U_L, 110.0, 0.5, 0.08),
)  # fmt: skip
NOISE_CONDITIONS = ((320128, "I10"), (201826, "E11.9"), (432867, "E78.5"))
OTHER_DRUGS = (1503297, 1308216, 1125315)
#: The groups recorded in ``planted_truth``.
TRUE_GROUPS = ("hmgcr", "srp", "seronegative", "not_imnm")


@dataclass(frozen=True)
class OmopPlan:
    """What the generator plants (rates per 100,000 person-years, shares as fractions).

    Attributes
    ----------
    exposed_rate, unexposed_rate : float
        IMNM onsets per 100,000 person-years from the first statin on, and before it (or
        never exposed).
    exposed_groups, unexposed_groups : tuple of float
        Shares of anti-HMGCR, anti-SRP and seronegative among the planted IMNM onsets.
    decoy_rate : float
        Myositis that is not IMNM (a myositis condition, CK below 1,000 U/L, both
        antibodies negative), per 100,000 person-years.
    statin_share_older, statin_share_younger : float
        Share of persons aged 45 or more (younger) at the start of observation who take a
        statin.
    two_periods : float
        Share of persons with a second observation period.
    cancer : float
        Share of persons with a cancer; of planted persons, ``case_cancer``, dated from 3
        years before to 3 years after onset.
    ukat_share, unmapped_share : float
        Share of planted persons whose CK is reported in µkat/L, and whose antibody tests
        are unmapped (concept 0, LOINC code in ``measurement_source_value``).
    measurements : float
        Mean rows of ``measurement`` per person (common labs and CK).
    """

    exposed_rate: float = 25.0
    unexposed_rate: float = 2.5
    exposed_groups: tuple[float, float, float] = (0.80, 0.08, 0.12)
    unexposed_groups: tuple[float, float, float] = (0.25, 0.40, 0.35)
    decoy_rate: float = 10.0
    statin_share_older: float = 0.45
    statin_share_younger: float = 0.10
    two_periods: float = 0.05
    cancer: float = 0.03
    case_cancer: float = 0.2
    death: float = 0.03
    ukat_share: float = 0.3
    unmapped_share: float = 0.5
    measurements: float = MEASUREMENTS_PER_PERSON


# --------------------------------------------------------------------------- tables
def _schemas() -> dict[str, pa.Schema]:
    """The Arrow schema of every table written (CDM v5.4 columns, in the CDM's order)."""
    import pyarrow as pa

    i, d, s, f, t = pa.int32(), pa.date32(), pa.string(), pa.float64(), pa.timestamp("us")

    def schema(*cols: tuple[str, pa.DataType]) -> pa.Schema:
        return pa.schema(list(cols))

    return {
        "person": schema(
            ("person_id", i), ("gender_concept_id", i), ("year_of_birth", i),
            ("month_of_birth", i), ("day_of_birth", i), ("birth_datetime", t),
            ("race_concept_id", i), ("ethnicity_concept_id", i), ("location_id", i),
            ("provider_id", i), ("care_site_id", i), ("person_source_value", s),
            ("gender_source_value", s), ("gender_source_concept_id", i),
            ("race_source_value", s), ("race_source_concept_id", i),
            ("ethnicity_source_value", s), ("ethnicity_source_concept_id", i),
        ),
        "observation_period": schema(
            ("observation_period_id", i), ("person_id", i),
            ("observation_period_start_date", d), ("observation_period_end_date", d),
            ("period_type_concept_id", i),
        ),
        "condition_occurrence": schema(
            ("condition_occurrence_id", i), ("person_id", i), ("condition_concept_id", i),
            ("condition_start_date", d), ("condition_start_datetime", t),
            ("condition_end_date", d), ("condition_end_datetime", t),
            ("condition_type_concept_id", i), ("condition_status_concept_id", i),
            ("stop_reason", s), ("provider_id", i), ("visit_occurrence_id", i),
            ("visit_detail_id", i), ("condition_source_value", s),
            ("condition_source_concept_id", i), ("condition_status_source_value", s),
        ),
        "drug_exposure": schema(
            ("drug_exposure_id", i), ("person_id", i), ("drug_concept_id", i),
            ("drug_exposure_start_date", d), ("drug_exposure_start_datetime", t),
            ("drug_exposure_end_date", d), ("drug_exposure_end_datetime", t),
            ("verbatim_end_date", d), ("drug_type_concept_id", i), ("stop_reason", s),
            ("refills", i), ("quantity", f), ("days_supply", i), ("sig", s),
            ("route_concept_id", i), ("lot_number", s), ("provider_id", i),
            ("visit_occurrence_id", i), ("visit_detail_id", i), ("drug_source_value", s),
            ("drug_source_concept_id", i), ("route_source_value", s),
            ("dose_unit_source_value", s),
        ),
        "measurement": schema(
            ("measurement_id", i), ("person_id", i), ("measurement_concept_id", i),
            ("measurement_date", d), ("measurement_datetime", t), ("measurement_time", s),
            ("measurement_type_concept_id", i), ("operator_concept_id", i),
            ("value_as_number", f), ("value_as_concept_id", i), ("unit_concept_id", i),
            ("range_low", f), ("range_high", f), ("provider_id", i),
            ("visit_occurrence_id", i), ("visit_detail_id", i),
            ("measurement_source_value", s), ("measurement_source_concept_id", i),
            ("unit_source_value", s), ("unit_source_concept_id", i),
            ("value_source_value", s), ("measurement_event_id", pa.int64()),
            ("meas_event_field_concept_id", i),
        ),
        "death": schema(
            ("person_id", i), ("death_date", d), ("death_datetime", t),
            ("death_type_concept_id", i), ("cause_concept_id", i), ("cause_source_value", s),
            ("cause_source_concept_id", i),
        ),
        "concept": schema(
            ("concept_id", i), ("concept_name", s), ("domain_id", s), ("vocabulary_id", s),
            ("concept_class_id", s), ("standard_concept", s), ("concept_code", s),
            ("valid_start_date", d), ("valid_end_date", d), ("invalid_reason", s),
        ),
        "concept_ancestor": schema(
            ("ancestor_concept_id", i), ("descendant_concept_id", i),
            ("min_levels_of_separation", i), ("max_levels_of_separation", i),
        ),
        "cdm_source": schema(
            ("cdm_source_name", s), ("cdm_source_abbreviation", s), ("cdm_holder", s),
            ("source_description", s), ("source_documentation_reference", s),
            ("cdm_etl_reference", s), ("source_release_date", d), ("cdm_release_date", d),
            ("cdm_version", s), ("cdm_version_concept_id", i), ("vocabulary_version", s),
        ),
        "planted_truth": schema(
            ("person_id", i), ("true_group", s), ("onset_date", d),
            ("exposed_at_onset", pa.bool_()),
            ("first_statin_date", d), ("first_statin", s), ("ck_unit", s),
            ("peak_ck_u_per_l", f), ("antibodies_mapped", pa.bool_()),
            ("two_periods", pa.bool_()), ("statin_after_onset", pa.bool_()),
            ("cancer_before_onset", pa.bool_()), ("death_date", d),
        ),
    }  # fmt: skip


#: The CDM tables written (``planted_truth`` besides).
CDM_TABLES = (
    "person", "observation_period", "condition_occurrence", "drug_exposure", "measurement",
    "death", "concept", "concept_ancestor", "cdm_source",
)  # fmt: skip


def _arrow(name: str, columns: dict[str, Any], rows: int) -> pa.Table:
    """An Arrow table of ``name``'s schema: given columns, the rest all null."""
    import pyarrow as pa

    schema = _schemas()[name]
    arrays = []
    for fld in schema:
        value = columns.get(fld.name)
        if value is None:
            arrays.append(pa.nulls(rows, fld.type))
        elif isinstance(value, pa.Array):
            arrays.append(value.cast(fld.type))
        elif fld.type == pa.date32():
            days = np.asarray(value)
            mask = days == _NO_DAY
            arrays.append(pa.array(days.astype(np.int32), pa.int32(), mask=mask).cast(fld.type))
        else:
            array = np.asarray(value)
            mask = None
            if array.dtype.kind == "f" and fld.type != pa.float64():
                mask = np.isnan(array)
                array = np.where(mask, 0, array)
            arrays.append(pa.array(array, mask=mask).cast(fld.type))
    return pa.Table.from_arrays(arrays, schema=schema)


_NO_DAY = np.iinfo(np.int32).min
_DAY0 = int(FIRST_DAY.astype("datetime64[D]").astype(np.int64))
_CUTOFF = int(DATA_CUTOFF.astype("datetime64[D]").astype(np.int64))


def _vocabulary() -> dict[str, pa.Table]:
    """``concept``, ``concept_ancestor`` and ``cdm_source``."""
    rows = len(CONCEPTS)
    start = int(np.datetime64("1970-01-01").astype(np.int64))
    end = int(np.datetime64("2099-12-31").astype(np.int64))
    concept = _arrow(
        "concept",
        {
            "concept_id": np.array([c[0] for c in CONCEPTS], dtype=np.int64),
            "concept_name": np.array([c[1] for c in CONCEPTS], dtype=object),
            "domain_id": np.array([c[2] for c in CONCEPTS], dtype=object),
            "vocabulary_id": np.array([c[3] for c in CONCEPTS], dtype=object),
            "concept_class_id": np.array([c[4] for c in CONCEPTS], dtype=object),
            "standard_concept": np.array([c[5] for c in CONCEPTS], dtype=object),
            "concept_code": np.array([c[6] for c in CONCEPTS], dtype=object),
            "valid_start_date": np.full(rows, start),
            "valid_end_date": np.full(rows, end),
        },
        rows,
    )
    pairs: list[tuple[int, int, int]] = []
    for ingredient in STATIN_INGREDIENTS.values():
        pairs += [(ingredient, ingredient, 0), (ATC_STATINS, ingredient, 1)]
        for product in STATIN_PRODUCTS.get(ingredient, ()):
            pairs += [(ingredient, product, 1), (ATC_STATINS, product, 2)]
    for cancer in CANCERS.values():
        pairs += [(cancer, cancer, 0), (MALIGNANT_ROOT, cancer, 1)]
    pairs.append((MALIGNANT_ROOT, MALIGNANT_ROOT, 0))
    levels = np.array([p[2] for p in pairs])
    ancestor = _arrow(
        "concept_ancestor",
        {
            "ancestor_concept_id": np.array([p[0] for p in pairs]),
            "descendant_concept_id": np.array([p[1] for p in pairs]),
            "min_levels_of_separation": levels,
            "max_levels_of_separation": levels,
        },
        len(pairs),
    )
    source = _arrow(
        "cdm_source",
        {
            "cdm_source_name": np.array(["imnm-cohort synthetic OMOP CDM"], dtype=object),
            "cdm_source_abbreviation": np.array(["imnm-synth"], dtype=object),
            "cdm_holder": np.array(["imnm-cohort"], dtype=object),
            "source_description": np.array(
                ["Made-up persons with planted IMNM cases; no real patient data"], dtype=object
            ),
            "cdm_version": np.array(["v5.4"], dtype=object),
            "cdm_version_concept_id": np.array([756265]),
            "vocabulary_version": np.array(["imnm-cohort synthetic subset"], dtype=object),
        },
        1,
    )
    return {"concept": concept, "concept_ancestor": ancestor, "cdm_source": source}


# --------------------------------------------------------------------------- drawing
def _date_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of whole-number year, month, day arrays."""
    months = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)
    return (months.astype("datetime64[D]") + (day - 1)).astype(np.int64)


def _place(pos: np.ndarray, s1: np.ndarray, len1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """The day at ``pos`` days into a person's observed time: the first period's ``len1``
    days from ``s1``, then the second's from ``s2``."""
    whole = np.floor(pos).astype(np.int64)
    return np.where(whole < len1, s1 + whole, s2 + (whole - len1))


def _codes(index: np.ndarray, values: tuple[str, ...]) -> pa.Array:
    """Text by index into a small tuple (decoded by Arrow, not by Python)."""
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(
        pa.array(index.astype(np.int32)), pa.array(list(values), pa.string())
    )


class _Counter:
    """Row ids that run on across chunks, one sequence per table."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, table: str, rows: int) -> np.ndarray:
        first = self.next.get(table, 1)
        self.next[table] = first + rows
        return np.arange(first, first + rows, dtype=np.int64)


def _chunk(
    rng: np.random.Generator, first_person: int, m: int, plan: OmopPlan, ids: _Counter
) -> dict[str, pa.Table]:
    """Every table's rows for persons ``first_person`` to ``first_person + m - 1``."""
    person_id = np.arange(first_person, first_person + m, dtype=np.int64)
    female = rng.random(m) < 0.52
    yob = rng.integers(1930, 1996, m)
    mob, dob = rng.integers(1, 13, m), rng.integers(1, 29, m)
    birth = _date_days(yob, mob, dob)

    # Observation periods: one, or two with a gap (end dates inclusive).
    s1 = _DAY0 + rng.integers(0, 12 * 365, m)
    e1 = np.minimum(s1 + rng.integers(2 * 365, 12 * 365, m), _CUTOFF)
    s2 = e1 + rng.integers(180, 720, m)
    e2 = np.minimum(s2 + rng.integers(365, 6 * 365, m), _CUTOFF)
    two = (rng.random(m) < plan.two_periods) & (s2 + 30 <= e2)
    len1 = e1 + 1 - s1
    len2 = np.where(two, e2 + 1 - s2, 0)
    last_end = np.where(two, e2, e1)

    # Statin users: the first course inside the first period, sometimes a switch.
    age = (s1 - birth) / 365.25
    user = rng.random(m) < np.where(age >= 45, plan.statin_share_older, plan.statin_share_younger)
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
    onset = np.full(m, _NO_DAY, dtype=np.int64)
    onset[case0] = _place(t0, s1, len1, s2)[case0]
    after_first = e1 + 1 - first
    onset[case1] = _place(t1, first, after_first, s2)[case1]
    onset[decoy] = _place(td, s1, len1, s2)[decoy]
    planted = case0 | case1 | decoy
    group = np.full(m, 3)  # not_imnm
    group[case0] = rng.choice(3, int(case0.sum()), p=plan.unexposed_groups)
    group[case1] = rng.choice(3, int(case1.sum()), p=plan.exposed_groups)

    tables: dict[str, Any] = {}
    tables["person"] = _arrow(
        "person",
        {
            "person_id": person_id,
            "gender_concept_id": np.where(female, GENDER["female"], GENDER["male"]),
            "year_of_birth": yob,
            "month_of_birth": mob,
            "day_of_birth": dob,
            "race_concept_id": np.zeros(m, dtype=np.int64),
            "ethnicity_concept_id": np.zeros(m, dtype=np.int64),
            "gender_source_value": _codes(female.astype(np.int64), ("M", "F")),
            "gender_source_concept_id": np.zeros(m, dtype=np.int64),
            "race_source_concept_id": np.zeros(m, dtype=np.int64),
            "ethnicity_source_concept_id": np.zeros(m, dtype=np.int64),
        },
        m,
    )
    op_person = np.concatenate([person_id, person_id[two]])
    tables["observation_period"] = _arrow(
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
    tables["drug_exposure"] = _drugs(rng, person_id, user, first, ingredient, switch,
                                     switch_day, second, s1, e1, ids)  # fmt: skip

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

    tables["measurement"] = _measurements(
        rng, plan, person_id, s1, len1, s2, len1 + len2, planted, p, onset[p], period_end,
        group[p], ck_unit, peak_value, mapped, ids,
    )  # fmt: skip
    tables["condition_occurrence"] = _conditions(
        rng, plan, person_id, s1, e1, len1, s2, len1 + len2, planted, p, onset[p], period_end,
        group[p], cancer_case, cancer_day, ids,
    )  # fmt: skip
    dead = np.flatnonzero(dies)
    tables["death"] = _arrow(
        "death",
        {
            "person_id": person_id[dead],
            "death_date": last_end[dead],
            "death_type_concept_id": np.full(len(dead), EHR),
        },
        len(dead),
    )
    names = tuple(STATIN_INGREDIENTS)
    first_day = np.where(user[p], first[p], _NO_DAY)
    tables["planted_truth"] = _arrow(
        "planted_truth",
        {
            "person_id": person_id[p],
            "true_group": _codes(group[p], TRUE_GROUPS),
            "onset_date": onset[p],
            "exposed_at_onset": user[p] & (first[p] <= onset[p]),
            "first_statin_date": first_day,
            "first_statin": _masked_codes(ingredient[p], names, ~user[p]),
            "ck_unit": _codes(ck_unit, ("U/L", "IU/L", "ukat/L")),
            "peak_ck_u_per_l": peak_u,
            "antibodies_mapped": mapped,
            "two_periods": two[p],
            "statin_after_onset": user[p] & (first[p] > onset[p]),
            "cancer_before_onset": cancer_case & (cancer_day < onset[p]),
            "death_date": np.where(dies[p], last_end[p], _NO_DAY),
        },
        k,
    )
    return tables


def _masked_codes(index: np.ndarray, values: tuple[str, ...], missing: np.ndarray) -> pa.Array:
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(
        pa.array(index.astype(np.int32), mask=missing), pa.array(list(values), pa.string())
    )


def _drugs(
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
    ids: _Counter,
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
    return _arrow(
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
            "drug_source_value": _codes(name_index, _DRUG_NAMES),
            "drug_source_concept_id": np.zeros(n, dtype=np.int64),
        },
        n,
    )


_DRUG_NAME_IDS = np.array(sorted([*STATIN_INGREDIENTS.values(), *OTHER_DRUGS]))
_DRUG_NAMES = tuple(next(c[1] for c in CONCEPTS if c[0] == i) for i in _DRUG_NAME_IDS)


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


def _measurements(
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
    ids: _Counter,
) -> pa.Table:
    """Common labs and CK for everyone; CK at onset, later CK and the two antibody tests
    for the planted persons."""
    m = len(person_id)
    count = rng.poisson(plan.measurements, m)
    rep = np.repeat(np.arange(m), count)
    r = len(rep)
    day = _place(rng.random(r) * observed[rep], s1[rep], len1[rep], s2[rep])
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
    operator = np.where(below, OPERATOR_LT, _NO_DAY)
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
    s_operator = np.where(ifa & ~srp_pos, OPERATOR_LT, _NO_DAY)
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
        "operator": [operator, np.full(c, _NO_DAY), np.full(k, _NO_DAY), s_operator],
        "value": [value, ck_value, h_value, s_value],
        "value_concept": [np.full(r, _NO_DAY), np.full(c, _NO_DAY), h_concept, s_concept],
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

        return pa.array(values.astype(np.int64), mask=values == _NO_DAY)

    return _arrow(
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
            "measurement_source_value": _codes(col["source"], _TEXT),
            "measurement_source_concept_id": np.zeros(n, dtype=np.int64),
            "unit_source_value": _codes(_unit_text(col["unit"]), _TEXT),
        },
        n,
    )


def _conditions(
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
    ids: _Counter,
) -> pa.Table:
    """Common conditions; cancers; the planted persons' myositis conditions and cancers."""
    m = len(person_id)
    rep = np.repeat(np.arange(m), rng.poisson(2.0, m))
    r = len(rep)
    noise = rng.integers(0, len(NOISE_CONDITIONS), r)
    noise_day = _place(rng.random(r) * observed[rep], s1[rep], len1[rep], s2[rep])
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
    return _arrow(
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
            "condition_source_value": _codes(
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


# --------------------------------------------------------------------------- writing
def omop_chunks(
    n: int, seed: int = 0, plan: OmopPlan | None = None
) -> Iterator[dict[str, pa.Table]]:
    """The synthetic database as chunks of tables (:data:`CHUNK_PERSONS` persons each);
    the first chunk also carries the vocabulary (``concept``, ``concept_ancestor``,
    ``cdm_source``).

    Parameters
    ----------
    n : int
        Persons (1 or more).
    seed : int
        The same ``n``, seed and plan give the same rows.
    plan : OmopPlan, optional
        What to plant (the defaults of :class:`OmopPlan`).
    """
    plan = plan or OmopPlan()
    ids = _Counter()
    for index, first in enumerate(range(0, n, CHUNK_PERSONS)):
        rng = np.random.default_rng([seed, index])
        tables = _chunk(rng, first + 1, min(CHUNK_PERSONS, n - first), plan, ids)
        if index == 0:
            tables.update(_vocabulary())
        yield tables


def write_omop(n: int, path: str | Path, seed: int = 0, plan: OmopPlan | None = None) -> Path:
    """Write a synthetic OMOP CDM v5.4 database.

    Parameters
    ----------
    n : int
        Persons.
    path : str or Path
        A ``.duckdb`` file (replaced), or a folder (no suffix) that gets one Parquet file
        per table (``person.parquet``, ..., ``planted_truth.parquet``).
    seed : int
    plan : OmopPlan, optional

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    if path.suffix.lower() == ".duckdb":
        return _write_duckdb(omop_chunks(n, seed, plan), path)
    if path.suffix:
        raise ValueError(f"{path}: an OMOP database is a .duckdb file or a folder")
    return _write_parquet(omop_chunks(n, seed, plan), path)


def _write_duckdb(chunks: Iterator[dict[str, pa.Table]], path: Path) -> Path:
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    made: set[str] = set()
    with duckdb.connect(str(partial)) as con:
        con.execute(f"SET memory_limit = '{WRITE_MEMORY}'")
        for tables in chunks:
            for name, table in tables.items():
                con.register("_chunk", table)
                if name in made:
                    con.execute(f"INSERT INTO {name} SELECT * FROM _chunk")
                else:
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM _chunk")
                    made.add(name)
                con.unregister("_chunk")
    partial.replace(path)
    return path


def _write_parquet(chunks: Iterator[dict[str, pa.Table]], folder: Path) -> Path:
    import pyarrow.parquet as pq

    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    schemas = _schemas()
    writers = {
        name: pq.ParquetWriter(folder / f"{name}.parquet.partial", schemas[name])
        for name in (*CDM_TABLES, "planted_truth")
    }
    try:
        for tables in chunks:
            for name, table in tables.items():
                writers[name].write_table(table.cast(schemas[name]))
    finally:
        for writer in writers.values():
            writer.close()
    for name in writers:
        (folder / f"{name}.parquet.partial").replace(folder / f"{name}.parquet")
    return folder
