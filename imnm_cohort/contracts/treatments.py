"""The ``treatments`` event table (contract section 6): one row per course of one drug.

The drug classes (glucocorticoid, immunosuppressant, ivig, biologic, procedure) are derived
here and nowhere else: :data:`DRUG_CLASSES` and :func:`drug_class`.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from imnm_cohort.contracts.observation import of_patients
from imnm_cohort.contracts.table import OrderRule, TableContract, allowed, column

GLUCOCORTICOIDS = ("prednisone", "prednisolone", "methylprednisolone", "dexamethasone")
IMMUNOSUPPRESSANTS = (
    "methotrexate", "azathioprine", "mycophenolate", "tacrolimus", "cyclosporine",
    "cyclophosphamide",
)  # fmt: skip
#: Every drug of the contract, in contract order.
DRUGS = (*GLUCOCORTICOIDS, *IMMUNOSUPPRESSANTS, "ivig", "rituximab", "plasma_exchange", "other")
#: Drug -> its class (contract section 6). ``other`` is a class of its own.
DRUG_CLASSES: dict[str, str] = {
    **dict.fromkeys(GLUCOCORTICOIDS, "glucocorticoid"),
    **dict.fromkeys(IMMUNOSUPPRESSANTS, "immunosuppressant"),
    "ivig": "ivig",
    "rituximab": "biologic",
    "plasma_exchange": "procedure",
    "other": "other",
}
#: The classes, in contract order.
CLASSES = tuple(dict.fromkeys(DRUG_CLASSES.values()))
#: The column of the valid treatments that holds each row's class.
CLASS_COLUMN = "drug_class"
DOSE_MAX = 2000.0


def drug_class(drugs: pd.Series) -> pd.Series:
    """Each drug's class (:data:`DRUG_CLASSES`); empty where the drug is empty.

    Parameters
    ----------
    drugs : pandas.Series
        Drug names as the contract spells them (valid rows).

    Returns
    -------
    pandas.Series
        Arrow-backed text on the same index.
    """
    return drugs.astype(object).map(DRUG_CLASSES).astype(pd.StringDtype("pyarrow"))


#: The treatments table: many rows per patient.
TREATMENTS = TableContract(
    name="treatments",
    unit="rows",
    columns={
        "patient_id": column(
            "id", required=True, title="Patient id", description="A patient of the patient table."
        ),
        "drug": column(
            "category",
            required=True,
            checks=allowed(DRUGS),
            title="Drug",
            description="The drug (its class is derived: glucocorticoid, immunosuppressant, "
            "ivig, biologic, procedure).",
        ),
        "start_date": column(
            "date",
            required=True,
            title="Start date",
            description="On or after birth_date, on or before the end of observation.",
        ),
        "stop_date": column(
            "date",
            title="Stop date",
            description="On or after start_date; empty = still taken at end of observation.",
        ),
        "dose_mg_per_day": column(
            "float",
            checks=[pa.Check.in_range(0.0, DOSE_MAX, error="out_of_range")],
            title="Dose (mg/day)",
            description="Glucocorticoids: daily dose (for tapering).",
        ),
    },
    order_rules=(OrderRule("stop_before_start", "stop_date", "start_date", "stop_date"),),
    key=("patient_id", "drug", "start_date"),
    id_column="patient_id",
    title="Treatments (contract section 6)",
    description="One row per course of one drug; many rows per patient.",
    cross_rules=of_patients("start_date"),
    derived={CLASS_COLUMN: lambda valid: drug_class(valid["drug"])},
)
