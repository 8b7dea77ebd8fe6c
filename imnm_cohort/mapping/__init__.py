"""Mapping files (contract section 5): a site's own export in, a section-1 extract out.

:mod:`~imnm_cohort.mapping.spec` parses and checks the TOML, :mod:`~imnm_cohort.mapping.apply`
maps an export whole columns at a time, :mod:`~imnm_cohort.mapping.combine` gives one value
per patient from several rows, and :mod:`~imnm_cohort.mapping.draft` drafts a mapping from a
REDCap data dictionary (:func:`~imnm_cohort.validation.load.load_input` reads, maps and
validates an input).
"""

from imnm_cohort.mapping.apply import MAPPING_RULES, MappedExport, apply_mapping
from imnm_cohort.mapping.spec import ColumnMap, MappingSpec, load_mapping

__all__ = [
    "MAPPING_RULES",
    "ColumnMap",
    "MappedExport",
    "MappingSpec",
    "apply_mapping",
    "load_mapping",
]
