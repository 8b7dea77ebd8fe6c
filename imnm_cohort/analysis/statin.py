"""Statin latency: time from starting a statin to the first muscle symptom."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from imnm_cohort.analysis.compare import GROUP_SUMMARY_SCHEMA, VALUES, Summary, mann_whitney
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin, combine
from imnm_cohort.vocabulary import GROUP_COLUMN, IMNM_GROUPS

LATENCY_GROUPS = (*IMNM_GROUPS, "statin_toxic")
COMPARED = ("hmgcr", "statin_toxic")


@dataclass(frozen=True)
class StatinLatency:
    """Statin exposure and latency by group, and anti-HMGCR versus toxic myopathy."""

    groups: dict[str, Summary]
    exposed: dict[str, dict[str, int]]
    compared: tuple[str, str]
    statistic: float | None
    p_value: float | None
    reason: str | None = None
    p_value_method: str | None = None

    @staticmethod
    def json_schema() -> dict[str, Any]:
        """The JSON Schema of :meth:`to_dict` (its ``$defs`` go to the document's root)."""
        return {
            "type": "object",
            "required": ["test", "compared", "p_value", "groups"],
            "properties": {
                "test": {"const": "mannwhitneyu"},
                "compared": {"const": ["hmgcr", "statin_toxic"]},
                "p_value": {"$ref": "#/$defs/pValue"},
                "groups": {
                    "type": "object",
                    "additionalProperties": {"$ref": "#/$defs/groupSummary"},
                },
            },
            "$defs": {"groupSummary": GROUP_SUMMARY_SCHEMA},
        }

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``statin_latency`` shape (``p_value_method``: exact or normal)."""
        return {
            "test": "mannwhitneyu",
            "p_value_method": self.p_value_method,
            "compared": list(self.compared),
            "statistic": self.statistic,
            "p_value": self.p_value,
            "reason": self.reason,
            "groups": {g: s.to_dict() for g, s in self.groups.items()},
            "exposed": self.exposed,
        }

    def disclosure(self) -> Declaration:
        """Disclosure declaration of :meth:`to_dict`: per group, exposed + not exposed +
        unknown = the group's size; patients with a latency are among the exposed. The
        test of the compared groups depends on their counts of latencies, and is withheld
        whole with either (a null p-value would tell that it is below 2)."""
        parts = []
        for g, e in self.exposed.items():
            at = ("exposed", g)
            parts.append(Summary.disclosure(f"values:statin_latency:{g}").under("groups", g))
            if g in self.compared and g in self.groups:
                parts.append(
                    Declaration(
                        counts=(
                            Count(
                                ("groups", g, "n"),
                                f"values:statin_latency:{g}",
                                dependents=(("statistic",), ("p_value",)),
                                notes=((("reason",), VALUES),),
                            ),
                        )
                    )
                )
            parts.append(
                Declaration(
                    counts=(
                        Count((*at, "n"), f"group:{g}"),
                        *(Count((*at, k)) for k in ("exposed", "not_exposed", "unknown")),
                    ),
                    margins=(
                        Margin(
                            tuple((*at, k) for k in ("exposed", "not_exposed", "unknown")),
                            (*at, "n"),
                        ),
                        Margin(
                            (("groups", g, "n"),),
                            (*at, "exposed"),
                            e["exposed"] - self.groups[g].n if g in self.groups else 0,
                        ),
                    ),
                )
            )
        return combine(parts)

    def method(self) -> str:
        """The method in one sentence."""
        return (
            "Statin latency (months from statin start to onset, among statin-exposed "
            "patients who started on or before onset) was compared between anti-HMGCR "
            "IMNM and toxic statin myopathy with a two-sided Mann-Whitney U test (exact below "
            "50 per group without ties, otherwise normal); the "
            "founding guidance expects years for the first and weeks to months for the "
            "second."
        )


def statin_latency(frame: pd.DataFrame, groups: Sequence[str] = LATENCY_GROUPS) -> StatinLatency:
    """Latency in months per group, share exposed, and hmgcr versus statin_toxic.

    Parameters
    ----------
    frame : pandas.DataFrame
        Classified patients (``statin_latency_months`` is empty unless the patient was
        exposed and started on or before onset). Not modified.
    groups : sequence of str
        Groups to summarise.

    Returns
    -------
    StatinLatency
        ``exposed`` gives per group the exposed, not exposed and unknown counts.
    """
    summaries, exposed = {}, {}
    used = frame[["statin_latency_months", "statin_exposed"]]  # not every column's rows
    for g in groups:
        rows = used.loc[(frame[GROUP_COLUMN] == g).to_numpy(dtype=bool)]
        latency = rows["statin_latency_months"]
        summaries[g] = Summary.of(latency[latency.notna()])
        status = rows["statin_exposed"]
        exposed[g] = {
            "n": len(rows),
            "exposed": int((status == True).sum()),  # noqa: E712
            "not_exposed": int((status == False).sum()),  # noqa: E712
            "unknown": int(status.isna().sum()),
        }
    a, b = (
        frame.loc[(frame[GROUP_COLUMN] == g).to_numpy(dtype=bool), "statin_latency_months"]
        .dropna()
        .to_numpy(dtype=float)
        for g in COMPARED
    )
    if a.size < 2 or b.size < 2:
        return StatinLatency(
            summaries,
            exposed,
            COMPARED,
            None,
            None,
            "fewer than 2 patients with a latency in a compared group",
        )
    u, p, method = mann_whitney(np.sort(a), np.sort(b))
    return StatinLatency(summaries, exposed, COMPARED, u, p, None, method)
