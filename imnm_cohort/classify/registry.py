"""The scored classifiers that run beside the IMNM decision procedure.

:func:`~imnm_cohort.classify.procedure.classify` adds every classifier listed here (or the
ones named in its ``scores`` argument) after the IMNM group and the derived columns. To add
a scored classifier, write one module with an object satisfying
:class:`~imnm_cohort.classify.protocol.Classifier` and list it in
:data:`SCORED_CLASSIFIERS` (``docs/criteria.md``, "Adding a classifier").
"""

from __future__ import annotations

from collections.abc import Iterable

from imnm_cohort.classify.eular_acr import EULAR_ACR_2017
from imnm_cohort.classify.protocol import Classifier
from imnm_cohort.errors import UnknownCriteriaError

#: Scored classifiers by name, in the order their columns are added.
SCORED_CLASSIFIERS: dict[str, Classifier] = {c.name: c for c in (EULAR_ACR_2017,)}


def scored_classifiers(names: Iterable[str] | None = None) -> tuple[Classifier, ...]:
    """The scored classifiers to run.

    Parameters
    ----------
    names : iterable of str, optional
        Names from :data:`SCORED_CLASSIFIERS`; None gives all of them, an empty list none.

    Returns
    -------
    tuple of Classifier

    Raises
    ------
    UnknownCriteriaError
        For a name that is not registered; the message lists the known ones.
    """
    if names is None:
        return tuple(SCORED_CLASSIFIERS.values())
    chosen = []
    for name in names:
        if name not in SCORED_CLASSIFIERS:
            known = ", ".join(SCORED_CLASSIFIERS)
            raise UnknownCriteriaError(f"unknown scored classifier {name!r}; choose from: {known}")
        chosen.append(SCORED_CLASSIFIERS[name])
    return tuple(chosen)
