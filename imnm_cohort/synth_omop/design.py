"""What the synthetic OMOP database plants, and every concept id it writes (one table)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Persons drawn at once (the output depends on the seed and N only, not on memory).
CHUNK_PERSONS = 25_000
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
        Share of persons aged 45 or more (18 to 44) at the start of observation who take a
        statin (none younger).
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
