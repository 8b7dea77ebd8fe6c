"""The CDM v5.4 tables as Arrow schemas, the vocabulary rows, and the small helpers
that turn whole arrays into Arrow columns and dates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from imnm_cohort.synth_omop.design import (
    ATC_STATINS,
    CANCERS,
    CONCEPTS,
    DATA_CUTOFF,
    FIRST_DAY,
    MALIGNANT_ROOT,
    STATIN_INGREDIENTS,
    STATIN_PRODUCTS,
)

if TYPE_CHECKING:
    import pyarrow as pa


# --------------------------------------------------------------------------- tables
def table_schemas() -> dict[str, pa.Schema]:
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
        "concept_relationship": schema(
            ("concept_id_1", i), ("concept_id_2", i), ("relationship_id", s),
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
    "death", "concept", "concept_relationship", "concept_ancestor", "cdm_source",
)  # fmt: skip


def arrow_table(name: str, columns: dict[str, Any], rows: int) -> pa.Table:
    """An Arrow table of ``name``'s schema: given columns, the rest all null."""
    import pyarrow as pa

    schema = table_schemas()[name]
    arrays = []
    for fld in schema:
        value = columns.get(fld.name)
        if value is None:
            arrays.append(pa.nulls(rows, fld.type))
        elif isinstance(value, pa.Array):
            arrays.append(value.cast(fld.type))
        elif fld.type == pa.date32():
            days = np.asarray(value)
            mask = days == NO_DAY
            arrays.append(pa.array(days.astype(np.int32), pa.int32(), mask=mask).cast(fld.type))
        else:
            array = np.asarray(value)
            mask = None
            if array.dtype.kind == "f":  # NaN is written as NULL, as a CDM holds no value
                mask = np.isnan(array)
                array = np.where(mask, 0, array)
            arrays.append(pa.array(array, mask=mask).cast(fld.type))
    return pa.Table.from_arrays(arrays, schema=schema)


NO_DAY = np.iinfo(np.int32).min
DAY0 = int(FIRST_DAY.astype("datetime64[D]").astype(np.int64))
CUTOFF_DAY = int(DATA_CUTOFF.astype("datetime64[D]").astype(np.int64))


def vocabulary_tables() -> dict[str, pa.Table]:
    """``concept``, ``concept_relationship``, ``concept_ancestor`` and ``cdm_source``.

    ``concept_relationship`` holds what RxNorm says of the statin products written
    (``RxNorm has ing`` their ingredient, and back), as OHDSI's vocabulary does."""
    rows = len(CONCEPTS)
    start = int(np.datetime64("1970-01-01").astype(np.int64))
    end = int(np.datetime64("2099-12-31").astype(np.int64))
    concept = arrow_table(
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
    links = [
        link
        for ingredient, products in STATIN_PRODUCTS.items()
        for product in products
        for link in (
            (product, ingredient, "RxNorm has ing"),
            (ingredient, product, "RxNorm ing of"),
        )
    ]
    relationship = arrow_table(
        "concept_relationship",
        {
            "concept_id_1": np.array([r[0] for r in links], dtype=np.int64),
            "concept_id_2": np.array([r[1] for r in links], dtype=np.int64),
            "relationship_id": np.array([r[2] for r in links], dtype=object),
            "valid_start_date": np.full(len(links), start),
            "valid_end_date": np.full(len(links), end),
        },
        len(links),
    )
    levels = np.array([p[2] for p in pairs])
    ancestor = arrow_table(
        "concept_ancestor",
        {
            "ancestor_concept_id": np.array([p[0] for p in pairs]),
            "descendant_concept_id": np.array([p[1] for p in pairs]),
            "min_levels_of_separation": levels,
            "max_levels_of_separation": levels,
        },
        len(pairs),
    )
    source = arrow_table(
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
    return {
        "concept": concept,
        "concept_relationship": relationship,
        "concept_ancestor": ancestor,
        "cdm_source": source,
    }


def date_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of whole-number year, month, day arrays."""
    months = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (month - 1)
    return (months.astype("datetime64[D]") + (day - 1)).astype(np.int64)


def place_days(pos: np.ndarray, s1: np.ndarray, len1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """The day at ``pos`` days into a person's observed time: the first period's ``len1``
    days from ``s1``, then the second's from ``s2``."""
    whole = np.floor(pos).astype(np.int64)
    return np.where(whole < len1, s1 + whole, s2 + (whole - len1))


def text_codes(index: np.ndarray, values: tuple[str, ...]) -> pa.Array:
    """Text by index into a small tuple (decoded by Arrow, not by Python)."""
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(
        pa.array(index.astype(np.int32)), pa.array(list(values), pa.string())
    )


class RowIds:
    """Row ids that run on across chunks, one sequence per table."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, table: str, rows: int) -> np.ndarray:
        first = self.next.get(table, 1)
        self.next[table] = first + rows
        return np.arange(first, first + rows, dtype=np.int64)


def masked_codes(index: np.ndarray, values: tuple[str, ...], missing: np.ndarray) -> pa.Array:
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(
        pa.array(index.astype(np.int32), mask=missing), pa.array(list(values), pa.string())
    )
