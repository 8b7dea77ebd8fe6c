"""The ``antibody_tests`` event table (contract section 6): one row per assay result.

A patient's ``anti_hmgcr`` and ``anti_srp`` are derived from these rows where the patient
table leaves them empty (:mod:`imnm_cohort.validation.derive`, by the rules written there
and in ``docs/event-tables.md``).
"""

from __future__ import annotations

import pandera.pandas as pa

from imnm_cohort.contracts.observation import of_patients
from imnm_cohort.contracts.patients import OTHER_MSA
from imnm_cohort.contracts.table import TableContract, allowed, column

ANTIGENS = ("hmgcr", "srp", *OTHER_MSA)
METHODS = ("elisa", "cia", "albia", "line_blot", "immunoprecipitation", "cell_based", "ifa")
GRADES = ("negative", "borderline", "weak", "moderate", "strong")
RESULTS = ("positive", "negative", "equivocal")

#: The antibody tests table: many rows per patient.
ANTIBODY_TESTS = TableContract(
    name="antibody_tests",
    unit="rows",
    columns={
        "patient_id": column(
            "id", required=True, title="Patient id", description="A patient of the patient table."
        ),
        "test_date": column(
            "date",
            required=True,
            title="Test date",
            description="On or after birth_date (a stored serum may be tested after the end "
            "of observation).",
        ),
        "antigen": column(
            "category",
            required=True,
            checks=allowed(ANTIGENS),
            title="Antigen",
            description="hmgcr, srp, or one of the other myositis-specific antibodies.",
        ),
        "method": column(
            "category",
            required=True,
            checks=allowed(METHODS),
            title="Method",
            description="elisa, cia (chemiluminescence), albia (addressable laser bead), "
            "line_blot, immunoprecipitation, cell_based, ifa.",
        ),
        "value": column(
            "float",
            checks=[pa.Check.ge(0.0, error="out_of_range")],
            title="Value",
            description="Numeric result, 0 or more.",
        ),
        "unit": column("string", title="Unit", description="As the lab reports it."),
        "cutoff": column(
            "float",
            checks=[pa.Check.gt(0.0, error="out_of_range")],
            title="Cut-off",
            description="The lab's positive cut-off for that assay on that date, above 0.",
        ),
        "grade": column(
            "category",
            checks=allowed(GRADES),
            title="Grade",
            description="Line blot band intensity.",
        ),
        "result": column(
            "category",
            checks=allowed(RESULTS),
            title="Result",
            description="The lab's call: positive, negative or equivocal.",
        ),
    },
    key=("patient_id", "antigen", "test_date"),
    id_column="patient_id",
    title="Antibody tests (contract section 6)",
    description="One row per result; many rows per patient.",
    cross_rules=of_patients("test_date", after_end=False),
)
