"""What changed since the previous completed run (``changes.json``; aggregate only).

Patients are matched by ``patient_id`` between the previous run's ``classified.csv`` and this
run's classified patients: added, removed, group changed (counted by transition and by the
new reason), new cancers and new deaths (a date that was empty and is now given). Estimates
that moved are listed from the two ``summary.json`` files. No patient id is written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from imnm_cohort.vocabulary import GROUP_COLUMN

#: Estimates compared between runs (paths into summary.json; "*" is any group).
TRACKED = (
    "groups.*",
    "comparisons.onset_age.p_value",
    "comparisons.onset_age.groups.*.median",
    "comparisons.ck_peak.p_value",
    "comparisons.ck_peak.groups.*.median",
    "comparisons.statin_latency.p_value",
    "comparisons.statin_latency.groups.*.median",
    "comparisons.malignancy.p_value",
    "comparisons.malignancy.groups.*.cumulative_incidence",
    "comparisons.malignancy.groups.*.rate_per_1000py",
)


def _leaves(data: Any, pattern: list[str], prefix: str = "") -> dict[str, Any]:
    if not pattern:
        return {prefix: data}
    head, rest = pattern[0], pattern[1:]
    if not isinstance(data, dict):
        return {}
    keys = list(data) if head == "*" else [head] if head in data else []
    out: dict[str, Any] = {}
    for key in keys:
        out.update(_leaves(data[key], rest, f"{prefix}.{key}".lstrip(".")))
    return out


def _moved(previous: Any, current: Any) -> bool:
    if isinstance(previous, int | float) and isinstance(current, int | float):
        return not math.isclose(float(previous), float(current), rel_tol=1e-9, abs_tol=1e-12)
    return previous != current


def changes_since(
    previous_run: Path, classified: pd.DataFrame, summary: dict[str, Any]
) -> dict[str, Any] | None:
    """Compare this run with a previous run folder.

    ``summary`` must be this run's published (disclosure-controlled) summary: estimates
    are compared between the two published summaries, so a withheld value is never shown
    through the list of moved estimates.

    Returns
    -------
    dict or None
        The changes (aggregate counts and moved estimates), or None when the previous run
        kept no ``classified.csv`` to compare with.
    """
    old_path = previous_run / "classified.csv"
    if not old_path.exists():
        return None
    columns = ["patient_id", GROUP_COLUMN, "classification_reasons", "cancer_date", "death_date"]
    old = pd.read_csv(
        old_path, dtype=str, keep_default_na=False, na_values=[""], usecols=lambda c: c in columns
    ).set_index("patient_id")
    new = pd.DataFrame({c: classified[c].astype("string") for c in columns}).set_index("patient_id")
    both = old.index.intersection(new.index)
    o, n = old.loc[both], new.loc[both]
    before, after = o[GROUP_COLUMN].astype(str).to_numpy(), n[GROUP_COLUMN].astype(str).to_numpy()
    moved = before != after
    transitions = pd.Series(before[moved] + " -> " + after[moved]).value_counts().sort_index()
    reasons = (
        pd.Series(n["classification_reasons"].astype(str).to_numpy()[moved])
        .str.split(";")
        .explode()
    )
    new_cancer = o["cancer_date"].isna().to_numpy(bool) & n["cancer_date"].notna().to_numpy(bool)
    new_death = o["death_date"].isna().to_numpy(bool) & n["death_date"].notna().to_numpy(bool)
    estimates = []
    old_summary_path = previous_run / "summary.json"
    if old_summary_path.exists():
        old_summary = json.loads(old_summary_path.read_text())
        for pattern in TRACKED:
            was = _leaves(old_summary, pattern.split("."))
            now = _leaves(summary, pattern.split("."))
            for path in sorted(set(was) | set(now)):
                if _moved(was.get(path), now.get(path)):
                    estimates.append(
                        {"estimate": path, "previous": was.get(path), "current": now.get(path)}
                    )
    return {
        "previous_run": previous_run.name,
        "patients": {
            "added": len(new.index.difference(old.index)),
            "removed": len(old.index.difference(new.index)),
            "changed": int(moved.sum()),
            "new_cancers": int(new_cancer.sum()),
            "new_deaths": int(new_death.sum()),
        },
        "transitions": {str(k): int(v) for k, v in transitions.items()},
        "by_reason": {str(k): int(v) for k, v in reasons.value_counts().sort_index().items()},
        "estimates": estimates,
    }
