"""The ``cancers`` event table (contract section 6): one row per malignancy.

Where given, the patient table's ``cancer_date`` and ``cancer_icd10`` are derived from it (the
first malignant one, C00-C97: :mod:`imnm_cohort.validation.derive`); the later cancers are
kept for the analyses.
"""

from __future__ import annotations

import pandera.pandas as pa

from imnm_cohort.contracts.observation import of_patients
from imnm_cohort.contracts.patients import ICD10_PATTERN
from imnm_cohort.contracts.table import TableContract, column

#: The cancers table: many rows per patient.
CANCERS = TableContract(
    name="cancers",
    unit="rows",
    columns={
        "patient_id": column(
            "id", required=True, title="Patient id", description="A patient of the patient table."
        ),
        "cancer_date": column(
            "date",
            required=True,
            title="Cancer date",
            description="Diagnosis of the malignancy; on or after birth_date, on or before "
            "the end of observation.",
        ),
        "icd10": column(
            "icd10",
            required=True,
            checks=[pa.Check.str_matches(ICD10_PATTERN, error="invalid_icd10")],
            title="ICD-10 code",
            description="ICD-10 code of the malignancy, e.g. C50.9.",
        ),
    },
    key=("patient_id", "cancer_date", "icd10"),
    id_column="patient_id",
    title="Cancers (contract section 6)",
    description="One row per malignancy; many rows per patient.",
    cross_rules=of_patients("cancer_date"),
)
