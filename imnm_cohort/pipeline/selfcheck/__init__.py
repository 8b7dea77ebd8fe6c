"""The disclosure self-check: an attacker's pass over a run's aggregate outputs.

Disclosure control (:mod:`imnm_cohort.disclosure.suppression`) withholds what each result
declares. Before a run is published, this module reads the outputs as a reader would and
tries to get every withheld count back; a run where it succeeds fails closed
(:class:`DisclosureLeakError`: exit code 1, nothing published, the offending output and
path named in one line). It looks for:

* **counts given back by the linear margins** (:func:`check_counts`): every published
  integer and every withheld marker of an output, with the relations a reader knows among
  them (the declared margins and copies of the same count, and what the outputs' shapes
  say whether declared or not: Table 1's cells add up to their denominators and to the
  overall column, a denominator and its missing values to the column's size, the models'
  patients, events and competing events to the malignancy table's groups), form a small
  integer system; :func:`imnm_cohort.disclosure.inference.solve` finds every withheld count
  it pins to one value. ``<k`` bounds a count to 1..k-1, ``<=k`` to 1..k, ``[withheld]``
  to 0 or more, a rounded count to the values that round to it.
* **exact-test statistics** (:func:`check_statistics`): a contingency test's statistic
  (the table probability of the Fisher-Freeman-Halton test, Pearson's chi-square)
  published beside withheld cells is held against every table that fits the published
  cells and margins; a statistic that only the true table gives is a leak. A full-precision
  statistic whose candidate tables are too many to enumerate counts as a leak too (fail
  closed).
* **model terms of a withheld group** (:func:`check_models`): a group term's estimate,
  standard error or interval, where that group's (or the reference group's) cancers are
  withheld (for a binary term, SE^2 - 1/events_ref is about 1/events).
* **notes that narrow a marker** (:func:`check_notes`): "fewer than 2 values in: srp"
  beside ``n = "<5"`` says the group has one value.
* **figure values** (:func:`check_figures`): a curve drawn for a group whose events the
  summary withholds, a curve going on at a whole year where fewer than ``k`` remain at
  risk, or a curve value equal to an estimate the summary withholds; a course figure
  (event tables) drawing a value or interval the summary does not publish.

When the run's values before disclosure control are given (``truth``), each relation is
kept only if they satisfy it: a relation that does not hold on some data (a model that
leaves patients out) never makes the check claim a leak that is not there.

Modules: ``counts`` (the relations and the reading of two runs), ``statistics``, ``results``
(models, notes, figures), ``findings`` (what is reported); the integer system and its
solver are :mod:`imnm_cohort.disclosure.inference`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from imnm_cohort.disclosure.declarations import Declaration
from imnm_cohort.disclosure.suppression import Policy
from imnm_cohort.pipeline.selfcheck.counts import (
    _pinned,
    _solved,
    added_patient_group,
    check_counts,
)
from imnm_cohort.pipeline.selfcheck.findings import DisclosureLeakError, Finding, SelfCheck
from imnm_cohort.pipeline.selfcheck.results import check_figures, check_models, check_notes
from imnm_cohort.pipeline.selfcheck.statistics import check_statistics

if TYPE_CHECKING:
    from imnm_cohort.disclosure.figures import FigureData

__all__ = [
    "DisclosureLeakError", "Finding", "SelfCheck", "added_patient_group", "check_counts",
    "check_figures", "check_models", "check_notes", "check_run", "check_statistics",
]  # fmt: skip


def check_run(
    summary: dict[str, Any],
    declaration: Declaration,
    policy: Policy,
    *,
    figures: FigureData | None = None,
    truth: dict[str, Any] | None = None,
    others: Iterable[tuple[str, dict[str, Any], Declaration]] = (),
) -> SelfCheck:
    """Every check of this module over a run's aggregate outputs.

    Parameters
    ----------
    summary : dict
        ``summary.json`` as published.
    declaration : Declaration
        Its disclosure declaration.
    policy : Policy
    figures : FigureData, optional
        The aggregates the figures are drawn from.
    truth : dict, optional
        ``summary.json`` before disclosure control.
    others : iterable of (name, data, declaration)
        Other aggregate JSON outputs (``changes.json``).

    Returns
    -------
    SelfCheck
    """
    if not policy.active:
        return SelfCheck(())
    outputs = [("summary.json", summary, declaration, truth)]
    outputs += [(name, data, d, None) for name, data, d in others]
    solved = _solved(outputs, policy)
    counts = _pinned(*solved)
    if not solved[1].consistent:
        # The values before control satisfy every relation kept: this is the check's own
        # failure, and it cannot vouch for the outputs (fail closed).
        counts = SelfCheck(
            (Finding("summary.json", "counts", "the self-check could not solve its margins"),)
        )
    parts = [
        counts,
        check_statistics(summary, declaration, policy, truth, solved),
        check_models(summary),
        check_notes(summary, policy),
        *([check_figures(figures, summary, truth)] if figures is not None else []),
    ]
    return SelfCheck(
        tuple(f for part in parts for f in part.findings),
        counts.variables,
        counts.relations,
        sum(part.solves for part in parts),
    )
