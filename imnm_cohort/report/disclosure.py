"""Disclosure control for aggregate outputs: small-cell suppression.

A count from 1 to ``min_count - 1`` is withheld and shown as ``"<min_count"`` (``"<5"`` by
default); 0 and counts of at least ``min_count`` are shown. ``min_count = 0`` turns
suppression off. What a withheld count would reveal is withheld with it:

* every statistic of a group whose size (``n``) is withheld (medians, rates, ...);
* the rate and cumulative incidence next to a withheld number of events;
* the proportion next to a withheld number of cancers in the window;
* the percentage of a withheld category count;
* when one count of a row (the categories of a variable, the sizes of the groups, the
  cancers in the bands of time since onset) is withheld, the next smallest non-zero count
  of that row too, so that the withheld one cannot be found by subtracting the others
  from the total.

Ranges (minimum and maximum) are individual patients' values: they are withheld whenever
suppression is on. Every withheld value is listed (by its path) for the manifest.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

DEFAULT_MIN_COUNT = 5
#: Keys whose integer value is a count of patients (or rows).
COUNT_KEYS = frozenset({
    "n", "events", "deaths", "at_risk", "within_window", "rows", "exposed", "not_exposed",
    "unknown", "missing", "denominator", "input_rows", "valid_rows", "quarantined_rows",
    "added", "removed", "changed", "new_cancers", "new_deaths",
    "time_zero_after_end", "observed", "competing", "patients_without_rate",
})  # fmt: skip
#: Mappings of counts, or of results (walked): group sizes, category counts, reason counts.
COUNT_MAPS = frozenset({"groups", "counts", "reasons", "by_reason", "classification_reasons"})
#: Nested mappings whose every number is a count (contingency tables, transitions).
LEAF_MAPS = frozenset({"table", "transitions"})
#: Values withheld together with a count: count key -> sibling keys.
DEPENDENTS = {
    "events": ("rate_per_1000py", "rate_ci", "cumulative_incidence", "cumulative_incidence_ci"),
    "within_window": ("within_window_proportion", "within_window_ci"),
    "observed": ("ratio", "ratio_ci"),
    "patients_without_rate": ("person_years_without_rate",),
}
#: Mappings of bands (band -> result with a count) that add up to a shown total: one
#: withheld band count would be found by subtraction, so a second one is withheld too.
BAND_MAPS = frozenset({"by_follow_up"})
#: Keys kept whatever happens (labels, not data).
STRUCTURE = frozenset({"test", "variable", "a", "b", "reason", "term", "model"})
RANGE_KEYS = frozenset({"min", "max"})


@dataclass(frozen=True)
class Suppressed:
    """An aggregate result with small cells withheld.

    Attributes
    ----------
    data : dict
        The result with withheld values replaced by the marker (``"<5"``).
    withheld : tuple of str
        Paths (``a.b.c``) of every withheld value.
    min_count : int
    """

    data: dict[str, Any]
    withheld: tuple[str, ...]
    min_count: int

    @property
    def marker(self) -> str:
        """The text shown for a withheld value."""
        return f"<{self.min_count}"


def is_small(value: Any, min_count: int) -> bool:
    """Whether a count must be withheld (1 <= value < min_count)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < min_count


def suppress(data: dict[str, Any], min_count: int = DEFAULT_MIN_COUNT) -> Suppressed:
    """Withhold small counts, and what they would reveal, from an aggregate result.

    Parameters
    ----------
    data : dict
        A JSON-ready aggregate result (``summary.json``, ``changes.json``). Not modified.
    min_count : int
        The minimum count shown (default 5); 0 turns suppression off.

    Returns
    -------
    Suppressed
    """
    if min_count < 0:
        raise ValueError("min_count must be 0 or more")
    out = copy.deepcopy(data)
    if min_count == 0:
        return Suppressed(out, (), 0)
    withheld: list[str] = []
    _walk(out, "", min_count, f"<{min_count}", withheld)
    return Suppressed(out, tuple(withheld), min_count)


def _walk(node: Any, path: str, k: int, marker: str, withheld: list[str]) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, f"{path}[{i}]", k, marker, withheld)
        return
    if not isinstance(node, dict):
        return

    def hide(key: str) -> None:
        if key in node and node[key] is not None and node[key] != marker:
            node[key] = marker
            withheld.append(f"{path}.{key}".lstrip("."))

    for key in [key for key in node if key in RANGE_KEYS]:
        hide(key)
    if is_small(node.get("n"), k) or is_small(node.get("at_risk"), k):
        for key in list(node):
            if key not in STRUCTURE and not isinstance(node[key], dict | list):
                hide(key)
    for count_key, dependents in DEPENDENTS.items():
        if is_small(node.get(count_key), k):
            hide(count_key)
            for dependent in dependents:
                hide(dependent)
    for key, value in list(node.items()):
        here = f"{path}.{key}".lstrip(".")
        if key in COUNT_KEYS and is_small(value, k):
            hide(key)
        elif (key in COUNT_KEYS or key in LEAF_MAPS) and isinstance(value, dict):
            _suppress_leaves(value, here, k, marker, withheld)
        elif key in COUNT_MAPS and isinstance(value, dict):
            _suppress_map(node, key, path, k, marker, withheld)
        elif key in BAND_MAPS and isinstance(value, dict):
            _walk(value, here, k, marker, withheld)
            _suppress_bands(value, here, k, marker, withheld)
        else:
            _walk(value, here, k, marker, withheld)


def _suppress_bands(
    bands: dict[str, Any], path: str, k: int, marker: str, withheld: list[str]
) -> None:
    for count_key, dependents in DEPENDENTS.items():
        values = {b: r.get(count_key) for b, r in bands.items() if isinstance(r, dict)}
        if sum(v == marker for v in values.values()) != 1:
            continue
        shown = [(v, b) for b, v in values.items() if isinstance(v, int) and v > 0]
        if shown:
            band = min(shown)[1]
            for key in (count_key, *dependents):
                if bands[band].get(key) is not None:
                    bands[band][key] = marker
                    withheld.append(f"{path}.{band}.{key}")


def _suppress_leaves(
    node: dict[str, Any], path: str, k: int, marker: str, withheld: list[str]
) -> None:
    for label, value in list(node.items()):
        if isinstance(value, dict):
            _suppress_leaves(value, f"{path}.{label}", k, marker, withheld)
        elif is_small(value, k):
            node[label] = marker
            withheld.append(f"{path}.{label}")


def _suppress_map(
    node: dict[str, Any], key: str, path: str, k: int, marker: str, withheld: list[str]
) -> None:
    counts = node[key]
    percent = node.get("percent") if key == "counts" else None

    def hide(label: str) -> None:
        counts[label] = marker
        withheld.append(f"{path}.{key}.{label}".lstrip("."))
        if isinstance(percent, dict) and label in percent:
            percent[label] = marker
            withheld.append(f"{path}.percent.{label}".lstrip("."))

    hidden = 0
    for label, value in list(counts.items()):
        if isinstance(value, dict):
            _walk(value, f"{path}.{key}.{label}".lstrip("."), k, marker, withheld)
        elif is_small(value, k):
            hide(label)
            hidden += 1
    if hidden == 1:
        # Secondary suppression: with the total shown, one withheld cell could be found by
        # subtraction; withhold the smallest other non-zero count as well.
        shown = [
            (v, label)
            for label, v in counts.items()
            if isinstance(v, int) and not isinstance(v, bool) and v > 0
        ]
        if shown:
            hide(min(shown)[1])
