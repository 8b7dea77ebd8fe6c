"""What changed since the previous completed run (``changes.json``; aggregate only).

Each run keeps a small private snapshot of what it classified (``snapshot.parquet``:
patient id, group, reasons, and whether a cancer and a death were recorded). The next run
matches patients by ``patient_id`` against it: added, removed, group changed (counted by
transition and by the new reason), new cancers and new deaths. Estimates that moved are
listed from the two published ``summary.json`` files. No patient id is written.

The comparison reads only what the toolkit itself wrote, never ``classified.csv`` (which a
spreadsheet may have re-saved): a missing or damaged snapshot skips the comparison with a
note, and never stops the run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from imnm_cohort.analysis.registry import ANALYSES
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin
from imnm_cohort.vocabulary import GROUP_COLUMN

SNAPSHOT = "snapshot.parquet"
SNAPSHOT_COLUMNS = ("patient_id", "imnm_group", "classification_reasons", "cancer", "death")


def tracked() -> tuple[str, ...]:
    """Estimates compared between runs: the group sizes and each registered analysis's
    tracked estimates (paths into summary.json; "*" is any key)."""
    return (
        "groups.*",
        *(".".join((*a.path, t)) for a in ANALYSES for t in a.tracked),
    )


def snapshot(classified: pd.DataFrame) -> pd.DataFrame:
    """The private snapshot a run keeps for the next run's comparison."""
    return pd.DataFrame(
        {
            "patient_id": classified["patient_id"].astype(str).to_numpy(),
            "imnm_group": classified[GROUP_COLUMN].astype(str).to_numpy(),
            "classification_reasons": classified["classification_reasons"].astype(str).to_numpy(),
            "cancer": classified["cancer_date"].notna().to_numpy(dtype=bool),
            "death": classified["death_date"].notna().to_numpy(dtype=bool),
        }
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
    return bool(previous != current)


def _read_snapshot(path: Path) -> pd.DataFrame | str:
    if not path.is_file():
        return (
            f"the previous run has no {SNAPSHOT} (a run keeps one only when its formats "
            "include the patient-level csv)"
        )
    try:
        old = pd.read_parquet(path, columns=list(SNAPSHOT_COLUMNS))
    except Exception as exc:  # pyarrow raises many unrelated types for a damaged file
        return f"the previous run's {SNAPSHOT} cannot be read ({type(exc).__name__})"
    if not old["patient_id"].is_unique or old["patient_id"].isna().any():
        return f"the previous run's {SNAPSHOT} is damaged (patient ids not unique)"
    return old


def _old_summary(previous_run: Path) -> dict[str, Any]:
    try:
        data = json.loads((previous_run / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def changes_since(
    previous_run: Path, classified: pd.DataFrame, summary: dict[str, Any]
) -> dict[str, Any] | str:
    """Compare this run with a previous run folder.

    ``summary`` must be this run's published (disclosure-controlled) summary: estimates
    are compared between the two published summaries, so a withheld value is never shown
    through the list of moved estimates.

    Returns
    -------
    dict or str
        The changes (aggregate counts and moved estimates), or one line saying why the
        comparison was skipped.
    """
    old = _read_snapshot(previous_run / SNAPSHOT)
    if isinstance(old, str):
        return f"changes since the previous run not compared: {old}"
    old = old.astype({"patient_id": str}).set_index("patient_id")
    new = snapshot(classified).set_index("patient_id")
    both = old.index.intersection(new.index)
    o, n = old.loc[both], new.loc[both]
    before, after = o["imnm_group"].astype(str).to_numpy(), n["imnm_group"].to_numpy(dtype=str)
    moved = before != after
    transitions = pd.Series(before[moved] + " -> " + after[moved]).value_counts().sort_index()
    reasons = (
        pd.Series(n["classification_reasons"].to_numpy(dtype=str)[moved]).str.split(";").explode()
    )
    new_cancer = ~o["cancer"].to_numpy(dtype=bool) & n["cancer"].to_numpy(dtype=bool)
    new_death = ~o["death"].to_numpy(dtype=bool) & n["death"].to_numpy(dtype=bool)
    estimates = []
    old_summary = _old_summary(previous_run)
    for pattern in tracked() if old_summary else ():
        was = _leaves(old_summary, pattern.split("."))
        now = _leaves(summary, pattern.split("."))
        for where in sorted(set(was) | set(now)):
            if _moved(was.get(where), now.get(where)):
                estimates.append(
                    {"estimate": where, "previous": was.get(where), "current": now.get(where)}
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


def changes_disclosure(changes: dict[str, Any]) -> Declaration:
    """Disclosure declaration of a ``changes_since`` result.

    Transitions add up to the patients whose group changed; added minus removed is the
    change in valid rows (both runs publish it). A withheld count withholds the moved
    group sizes too, which would give it back by difference. The estimates themselves were
    released by each run's own disclosure control.
    """
    sizes = tuple(
        ("estimates", i)
        for i, e in enumerate(changes["estimates"])
        if str(e["estimate"]).startswith("groups.")
    )
    patients = [("patients", k) for k in changes["patients"]]
    transitions = [("transitions", k) for k in changes["transitions"]]
    return Declaration(
        counts=tuple(
            Count(p, describes=sizes)
            for p in [*patients, *transitions, *(("by_reason", k) for k in changes["by_reason"])]
        ),
        margins=(
            Margin(tuple(transitions), ("patients", "changed")),
            Margin((("patients", "added"), ("patients", "removed"))),
        ),
        cleared=(("estimates",),),
    )
