"""Model terms, notes and figure curves that show what the summary withholds (see the
package)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from imnm_cohort.disclosure.declarations import dotted
from imnm_cohort.disclosure.declarations import get as _get
from imnm_cohort.disclosure.suppression import Policy, leaves
from imnm_cohort.pipeline.selfcheck.counts import _is_number
from imnm_cohort.pipeline.selfcheck.findings import Finding, SelfCheck

if TYPE_CHECKING:
    from imnm_cohort.disclosure.figures import FigureData

_MODELS = ("cause_specific_cox", "fine_gray")


def _withheld(value: Any) -> bool:
    return isinstance(value, str)


def check_models(summary: dict[str, Any]) -> SelfCheck:
    """Group terms of the cancer models shown while the cancers of that group, or of the
    reference group, are withheld."""
    groups = _get(summary, ("comparisons", "malignancy", "groups"))
    if not isinstance(groups, dict):
        return SelfCheck(())
    hidden = {
        g for g, row in groups.items() if isinstance(row, dict) and _withheld(row.get("events"))
    }
    findings = []
    for model in _MODELS:
        result = summary.get(model)
        if not isinstance(result, dict):
            continue
        reference = result.get("reference_group")
        for j, term in enumerate(result.get("terms") or []):
            name = str(term.get("term", ""))
            if not name.startswith("group_"):
                continue
            group = name.removeprefix("group_")
            if group not in hidden and reference not in hidden:
                continue
            whose = group if group in hidden else reference
            for key, value in term.items():
                shown = _is_number(value) or (
                    isinstance(value, list) and any(_is_number(x) for x in value)
                )
                if shown and key not in ("term",):
                    findings.append(
                        Finding(
                            "summary.json",
                            dotted((model, "terms", j, key)),
                            f"shown while the cancers of {whose} are withheld (a group term's "
                            "standard error gives them back)",
                        )
                    )
                    break
    return SelfCheck(tuple(findings))


# --------------------------------------------------------------------------- notes

_FEWER = re.compile(r"fewer than (\d+) values in: ([\w, ]+)")


def check_notes(summary: dict[str, Any], policy: Policy) -> SelfCheck:
    """Explanatory notes that narrow a marker: "fewer than 2 values in: srp" beside a
    ``<5`` tells that the group has one value (a note may say "too few values")."""
    findings = []
    for p, value in leaves(summary):
        match = _FEWER.search(value) if isinstance(value, str) else None
        if not match or not 0 < int(match.group(1)) < policy.min_count:
            continue
        # The result the note belongs to (a Table 1 row, a comparison): a count of a
        # named group withheld there is what the note narrows.
        scope = p[:3] if p[:1] == ("table_one",) else p[:2]
        named = {g.strip() for g in match.group(2).split(",")}
        if any(
            q[-1] == "n" and named & set(map(str, q)) and _withheld(v)
            for q, v in leaves(_get(summary, scope), scope)
        ):
            findings.append(
                Finding(
                    "summary.json",
                    dotted(p),
                    f"says fewer than {match.group(1)} values for {match.group(2)}, "
                    f"narrower than the marker {policy.marker}",
                )
            )
    return SelfCheck(tuple(findings))


def check_figures(
    figures: FigureData, summary: dict[str, Any], truth: dict[str, Any] | None = None
) -> SelfCheck:
    """Curves that show what the summary withholds (see the module)."""
    k = figures.min_count
    findings: list[Finding] = []
    plots = (
        ("figures/survival.svg", figures.survival, ("survival", "groups"), "deaths",
         ("survival_at_horizon",), 1.0),
        ("figures/cancer_incidence.svg", figures.incidence,
         ("comparisons", "malignancy", "groups"), "events", ("cumulative_incidence",), 0.0),
    )  # fmt: skip
    for output, curves, at, events, estimates, start in plots:
        for curve in curves:
            if not curve.value:
                continue
            where = f"curve {curve.label}"
            if _withheld(_get(summary, (*at, curve.label, events))):
                findings.append(
                    Finding(
                        output,
                        where,
                        f"drawn while summary.json withholds {dotted((*at, curve.label, events))}",
                    )
                )
                continue
            if k:
                for year, n in zip(figures.years, curve.at_risk, strict=False):
                    small = (isinstance(n, int) and n < k) or str(n).startswith("<")
                    late = [t for t in curve.time if t >= year]
                    if small and late:
                        findings.append(
                            Finding(
                                output,
                                where,
                                f"goes on at {late[0]:g} years with fewer than {k} at risk "
                                f"from year {year}",
                            )
                        )
                        break
            # The curve's value at the horizon, where it is drawn that far: the estimate
            # the summary reports there (a flat curve at its start shows no event only).
            horizon = _get(summary, (*at[:-1], "horizon_years"))
            if truth is None or not _is_number(horizon) or max(curve.time) < horizon:
                continue
            before = [v for t, v in zip(curve.time, curve.value, strict=True) if t <= horizon]
            if not before or before[-1] == start:
                continue
            for name in estimates:
                p = (*at, curve.label, name)
                hidden = _get(truth, p)
                withheld = _withheld(_get(summary, p)) and _is_number(hidden)
                if withheld and abs(before[-1] - hidden) <= 1e-9:
                    findings.append(Finding(output, where, f"shows the withheld {dotted(p)}"))
    findings += _course_figures(figures, summary)
    return SelfCheck(tuple(findings))


def _course_figures(figures: FigureData, summary: dict[str, Any]) -> list[Finding]:
    """The course figures draw published values only: a value (or an interval's end) that
    the summary does not publish is a finding."""
    if not figures.course:
        return []
    published = {float(v) for _, v in leaves(summary) if _is_number(v)}
    findings = []
    for figure in figures.course:
        for panel in figure.panels:
            for line in panel.lines:
                drawn = [*line.y, *(v for v in (*line.lower, *line.upper) if v is not None)]
                if any(v not in published for v in drawn):
                    where = f"line {'/'.join(filter(None, (panel.title, line.label)))}"
                    reason = "draws a value summary.json does not publish"
                    findings.append(Finding(f"figures/{figure.name}.svg", where, reason))
    return findings
