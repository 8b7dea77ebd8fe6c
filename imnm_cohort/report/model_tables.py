"""Manuscript tables of the regression models of cancer: cause-specific Cox and Fine-Gray.

One row per term (the groups against the reference group, then onset age and male sex):
the ratio with its 95% CI, and the Wald p-value in the p column. A term that could not be
estimated shows a dash and its reason in a footnote, and so does one whose numbers disclosure
control withheld ("not shown (fewer than 5 events)"); a model that was not fitted has no
rows and says why. As every manuscript table, the numbers are read from the
disclosure-controlled ``summary.json`` with their paths; nothing here computes a statistic.
"""

from __future__ import annotations

from typing import Any

from imnm_cohort.report.labels import label
from imnm_cohort.report.numbers import num, p_text
from imnm_cohort.report.render import why_not
from imnm_cohort.report.table_model import Builder, Row, Table, with_ci

#: How the adjustment terms read in a table.
TERM_WORDS = {"onset_age": "Onset age, per year", "male": "Male sex"}


def term_label(term: str, reference: str) -> str:
    """A model term for people: ``group_srp`` -> ``anti-SRP (vs anti-HMGCR)``."""
    if term.startswith("group_"):
        return f"{label(term.removeprefix('group_'))} (vs {label(reference)})"
    return TERM_WORDS.get(term, term)


def _rows(summary: dict[str, Any], key: str, ratio: str) -> tuple[Row, ...]:
    b = Builder(summary)
    fit = summary[key]
    return tuple(
        b.row(
            term_label(term["term"], fit["reference_group"]),
            ("",),  # one column: the model's
            with_ci("ratio", f"{key}.terms[{i}].{ratio}", f"{key}.terms[{i}].ci"),
            "{} ({} to {})",
            p=f"{key}.terms[{i}].p_value",
            test="wald",
            digits=2,
        )
        for i, term in enumerate(fit["terms"])
    )


def _table(
    summary: dict[str, Any], key: str, ratio: str, number: int, words: tuple[str, str]
) -> Table:
    """Table ``number`` of the model ``summary[key]``: ``words`` are the ratio's name and
    the model's description for the footnote (after which the model-specific notes come)."""
    fit = summary[key]
    t0 = summary["comparisons"]["malignancy"].get("options", {}).get("time_zero", "onset")
    name, method = words
    notes = [f"Patients at risk after {t0}: {num(fit['n'])}; cancers: {num(fit['events'])}."]
    if fit.get("competing") is not None:
        notes.append(f"Deaths before cancer (competing events): {num(fit['competing'])}.")
    notes += [
        f"{term_label(t['term'], fit['reference_group'])}: "
        f"{why_not(None, t['reason'], 'not estimable')}."
        for t in fit["terms"]
        if t.get("reason")
    ]
    if fit.get("reason"):
        notes.append(f"No model: {fit['reason']}.")
    notes.append(
        f"{method}, groups against {label(fit['reference_group'])}, adjusted for onset age "
        "and male sex."
    )
    if fit.get("ph_test_global_p_value") is not None:
        notes.append(
            "Proportional hazards, global test (Grambsch-Therneau): "
            f"{p_text(fit['ph_test_global_p_value'])}."
        )
    return Table(
        key,
        f"Table {number}. {name[0].upper()}{name[1:]}s of cancer after {t0}",
        (f"{name[0].upper()}{name[1:]} (95% CI)",),
        _rows(summary, key, ratio),
        tuple(notes),
    )


def cause_specific_cox(summary: dict[str, Any]) -> Table:
    """Cause-specific hazard ratios of cancer after time zero, by group, adjusted."""
    words = ("cause-specific hazard ratio", "Cox model (Efron ties; Wald 95% CI)")
    return _table(summary, "cause_specific_cox", "hazard_ratio", 5, words)


def fine_gray(summary: dict[str, Any]) -> Table:
    """Subdistribution hazard ratios of cancer after time zero, by group (Fine-Gray)."""
    words = (
        "subdistribution hazard ratio",
        "Fine-Gray model (Fine and Gray 1999), death as the competing event (robust 95% CI "
        "clustered on the patient)",
    )
    return _table(summary, "fine_gray", "subdistribution_hazard_ratio", 6, words)
