"""The event tables of contract section 6, by name, in contract order.

A pipeline's ``[input.tables]`` names tables by these names; each is validated by its
:class:`~imnm_cohort.contracts.table.TableContract` against the patient table
(:func:`~imnm_cohort.validation.events.validate_event_tables`).
"""

from __future__ import annotations

from imnm_cohort.contracts.antibody_tests import ANTIBODY_TESTS
from imnm_cohort.contracts.cancers import CANCERS
from imnm_cohort.contracts.table import TableContract
from imnm_cohort.contracts.treatments import TREATMENTS
from imnm_cohort.contracts.visits import VISITS

#: Name -> contract of every event table, in contract order.
EVENT_TABLES: dict[str, TableContract] = {
    contract.name: contract for contract in (VISITS, TREATMENTS, ANTIBODY_TESTS, CANCERS)
}
