"""A synthetic OMOP CDM v5.4 database, deterministic for a seed, with planted IMNM cases.

``imnm-cohort synth --layout omop --n N -o cdm.duckdb`` (or ``-o folder/``: one Parquet file
per table) writes a population of ``N`` made-up persons: ``person``, ``observation_period``
(about 5% with two), ``drug_exposure`` (statin users with refills and gaps, switches between
ingredients, and other drugs), ``measurement`` (about :data:`MEASUREMENTS_PER_PERSON` rows a
person: common labs, creatine kinase in U/L, IU/L or µkat/L, antibody tests mapped by
concept id or unmapped), ``condition_occurrence`` (common conditions, cancers, myositis),
``death``, the vocabulary rows the rest needs (``concept``, ``concept_relationship``,
``concept_ancestor``) and
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

from imnm_cohort.synth_omop.design import (
    ANTIBODY_CONCEPT,
    ANTIBODY_LOCAL_CODE,
    CANCERS,
    CHUNK_PERSONS,
    CK,
    CONCEPTS,
    LOCAL,
    MEASUREMENTS_PER_PERSON,
    MYOSITIS,
    NEGATIVE,
    POSITIVE,
    STATIN_INGREDIENTS,
    TRUE_GROUPS,
    U_PER_UKAT,
    UNIT_IU_L,
    UNIT_U_L,
    UNIT_UKAT_L,
    OmopPlan,
)
from imnm_cohort.synth_omop.tables import CDM_TABLES
from imnm_cohort.synth_omop.write import omop_chunks, write_omop

__all__ = [
    "ANTIBODY_CONCEPT", "ANTIBODY_LOCAL_CODE", "CANCERS", "CDM_TABLES", "CHUNK_PERSONS", "CK",
    "CONCEPTS", "LOCAL", "MEASUREMENTS_PER_PERSON", "MYOSITIS", "NEGATIVE", "POSITIVE",
    "STATIN_INGREDIENTS", "TRUE_GROUPS", "UNIT_IU_L", "UNIT_UKAT_L", "UNIT_U_L", "U_PER_UKAT",
    "OmopPlan", "omop_chunks", "write_omop",
]  # fmt: skip
