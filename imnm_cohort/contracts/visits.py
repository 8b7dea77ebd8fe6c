"""The ``visits`` event table (contract section 6): one row per assessment.

Serum CK with its lab's upper limit of normal, manual muscle testing on its scale, the
global activity scores and the HAQ. The CK course, strength and the 2016 ACR/EULAR response
are computed from these rows; the patient table's ``ck_peak`` is derived from them where it
is empty (:mod:`imnm_cohort.validation.derive`).
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from imnm_cohort.contracts.observation import of_patients
from imnm_cohort.contracts.patients import CK_MAX, CK_ULN_DEFAULT, CK_ULN_RANGE
from imnm_cohort.contracts.table import OrderRule, TableContract, column

#: The MMT scales: MMT-8 one side (80, the default), MMT-8 both sides (150), MMT-24 (260).
MMT_SCALES = (80.0, 150.0, 260.0)
MMT_MAX_DEFAULT = 80.0
VAS_RANGE = (0.0, 10.0)
HAQ_RANGE = (0.0, 3.0)


def _vas(title: str, description: str) -> pa.Column:
    return column(
        "float",
        checks=[pa.Check.in_range(*VAS_RANGE, error="out_of_range")],
        title=title,
        description=f"{description}, visual analogue scale 0-10 cm.",
    )


def _default_scale(typed: pd.DataFrame) -> pd.DataFrame:
    """An MMT total without its scale is on MMT-8 one side (80), the contract's default:
    the scale is written where the total is given, so every valid row says its scale."""
    missing = typed["mmt"].notna() & typed["mmt_max"].isna()
    if missing.any():  # the validator's own frame: one column replaced, nothing copied
        typed["mmt_max"] = typed["mmt_max"].mask(missing, MMT_MAX_DEFAULT)
    return typed


#: The visits table: many rows per patient.
VISITS = TableContract(
    name="visits",
    unit="rows",
    columns={
        "patient_id": column(
            "id", required=True, title="Patient id", description="A patient of the patient table."
        ),
        "visit_date": column(
            "date",
            required=True,
            title="Visit date",
            description="On or after birth_date, on or before the end of observation.",
        ),
        "ck": column(
            "float",
            checks=[pa.Check.in_range(0.0, CK_MAX, error="out_of_range")],
            title="CK (U/L)",
            description="Serum creatine kinase, U/L.",
        ),
        "ck_uln": column(
            "float",
            checks=[pa.Check.in_range(*CK_ULN_RANGE, error="out_of_range")],
            title="CK upper limit of normal (U/L)",
            description=f"The lab's upper limit of normal, U/L ({CK_ULN_DEFAULT:g} where empty).",
        ),
        "mmt": column(
            "float",
            checks=[pa.Check.in_range(0.0, max(MMT_SCALES), error="out_of_range")],
            title="MMT total",
            description="Manual muscle testing total, 0 to mmt_max.",
        ),
        "mmt_max": column(
            "float",
            checks=[pa.Check.isin(list(MMT_SCALES), error="not_allowed")],
            title="MMT scale maximum",
            description="80 (MMT-8 one side, the default), 150 (MMT-8 both sides) or 260 (MMT-24).",
        ),
        "physician_global": _vas("Physician global activity", "Physician global activity"),
        "patient_global": _vas("Patient global activity", "Patient global activity"),
        "haq": column(
            "float",
            checks=[pa.Check.in_range(*HAQ_RANGE, error="out_of_range")],
            title="HAQ",
            description="HAQ disability index, 0-3.",
        ),
        "extramuscular_global": _vas(
            "Extramuscular global activity", "Extramuscular global activity (MDAAT)"
        ),
    },
    order_rules=(OrderRule("mmt_above_scale", "mmt", "mmt", "mmt_max"),),
    key=("patient_id", "visit_date"),
    id_column="patient_id",
    title="Visits (contract section 6)",
    description="One row per assessment; many rows per patient.",
    file_level=True,
    prepare=_default_scale,
    cross_rules=of_patients("visit_date"),
)
