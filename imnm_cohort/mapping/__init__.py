"""Mapping files (contract section 5): a site's own export in, a section-1 extract out.

:mod:`~imnm_cohort.mapping.spec` parses and checks the TOML, :mod:`~imnm_cohort.mapping.apply`
maps an export whole columns at a time (and fills the event tables of ``[tables.NAME]``),
:mod:`~imnm_cohort.mapping.combine` gives one value per patient from several rows, and
:mod:`~imnm_cohort.mapping.draft` drafts a mapping from a REDCap data dictionary
(:func:`~imnm_cohort.validation.load.load_input` reads, maps and validates an input).
"""

from imnm_cohort.mapping.apply import (
    MAPPING_RULES,
    MappedExport,
    MappedTable,
    apply_mapping,
    apply_tables,
)
from imnm_cohort.mapping.spec import ColumnMap, MappingSpec, TableMap, load_mapping

__all__ = [
    "MAPPING_RULES",
    "ColumnMap",
    "MappedExport",
    "MappedTable",
    "MappingSpec",
    "TableMap",
    "apply_mapping",
    "apply_tables",
    "load_mapping",
]
