"""What every classifier offers: a name, a version, the columns it reads, and ``classify``.

Two kinds of classifier fit this protocol:

* a **criteria set** run through the contract's eleven-rule decision procedure
  (:class:`~imnm_cohort.classify.procedure.DecisionProcedure`; ``tma2025``, ``enmc2017``),
  which adds ``imnm_group``, ``criteria`` and ``classification_reasons``;
* a **scored classifier** (:mod:`imnm_cohort.classify.eular_acr`), which adds its own
  ``<name>_*`` columns beside the IMNM group and never changes it.

A new scored classifier is one new module with an object that satisfies :class:`Classifier`,
listed in :data:`imnm_cohort.classify.registry.SCORED_CLASSIFIERS` (``docs/criteria.md``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pandas as pd


@runtime_checkable
class Classifier(Protocol):
    """A classifier of validated patients.

    Attributes
    ----------
    name : str
        Stable identifier; a scored classifier's output columns start with ``name + "_"``.
    version : str
        The version of the published criteria it implements.
    citation : str
        The primary source.
    columns_required : tuple of str
        The columns :meth:`classify` reads (contract or derived columns).
    """

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def citation(self) -> str: ...

    @property
    def columns_required(self) -> tuple[str, ...]: ...

    def classify(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the columns this classifier adds, one row per input row (same index).

        ``frame`` is not modified; the result holds only the added columns.
        """
        ...
