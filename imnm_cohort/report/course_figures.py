"""The figures of the course of the disease, drawn from published values only
(:mod:`imnm_cohort.analysis.course_plotdata`): points with their intervals, joined by
lines, by group (or, for drug classes, by class in one panel per group); steps with their
interval as a band (the relapses' mean cumulative function); or one point per group with
its interval (the anti-HMGCR level at diagnosis)."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from imnm_cohort.disclosure.figures import CourseFigure, Points
from imnm_cohort.report.figures import (
    COLOURS,
    LINESTYLES,
    ONE_COLUMN_MM,
    TWO_COLUMNS_MM,
    _no_data,
    _size,
)
from imnm_cohort.vocabulary import GROUP_LABELS

#: Okabe-Ito colours for the drug classes (the groups keep theirs).
CLASS_COLOURS = {
    "glucocorticoid": "#000000",
    "immunosuppressant": "#0072B2",
    "ivig": "#D55E00",
    "biologic": "#009E73",
    "procedure": "#CC79A7",
    "other": "#999999",
}
CLASS_STYLES = {"glucocorticoid": "-", "immunosuppressant": "--", "ivig": ":", "biologic": "-."}


def _note(fig: Figure, left: float, min_count: int, wrap: str = " ") -> None:
    fig.text(
        left,
        0.01,
        f"Only published values: none where fewer than {min_count} patients contribute or"
        f"{wrap}the value is withheld; no individual trajectory.",
        fontsize=6,
        va="bottom",
    )


def _nothing(ax: Any, min_count: int, where: str = "time") -> None:
    shown = f"at least {min_count} patients" if min_count > 1 else "a patient"
    _no_data(ax, f"No value to show:\nno {where} with {shown}.")


def _steps(ax: Any, line: Points, gid: str) -> None:
    """A step line held from each published time to the next, its interval a band (where
    the summary gives one; none where the estimate is 0)."""
    colour = COLOURS.get(line.label, "#999999")
    name = GROUP_LABELS.get(line.label, line.label)
    ax.step(
        line.x, line.y, where="post", color=colour, linestyle=LINESTYLES.get(line.label, "-"),
        label=name, gid=gid,
    )  # fmt: skip
    ax.plot(line.x, line.y, "o", color=colour, markersize=2.5, gid=gid)
    lower = [y if lo is None else lo for y, lo in zip(line.y, line.lower, strict=True)]
    upper = [y if hi is None else hi for y, hi in zip(line.y, line.upper, strict=True)]
    ax.fill_between(line.x, lower, upper, step="post", color=colour, alpha=0.15, linewidth=0)


def _group_figure(data: CourseFigure, min_count: int) -> Figure:
    """One point per group (its median) with its interval (the interquartile range), one
    journal column wide."""
    fig = Figure(figsize=_size(ONE_COLUMN_MM, 70))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.2, right=0.97, top=0.82, bottom=0.22)
    fig.suptitle(data.title, fontsize=8)
    (panel,) = data.panels
    if not panel.lines:
        _nothing(ax, min_count, "group")
    else:
        for line in panel.lines:
            colour = COLOURS.get(line.label, "#999999")
            below = [
                y - lo if lo is not None else 0.0 for y, lo in zip(line.y, line.lower, strict=True)
            ]
            above = [
                hi - y if hi is not None else 0.0 for y, hi in zip(line.y, line.upper, strict=True)
            ]
            ax.errorbar(
                line.x, line.y, yerr=[below, above], color=colour, marker="s", markersize=4,
                capsize=3, linestyle="none", gid=f"{data.name}--{line.label}",
            )  # fmt: skip
        ax.set_xticks([line.x[0] for line in panel.lines])
        ax.set_xticklabels([GROUP_LABELS.get(line.label, line.label) for line in panel.lines])
        ax.set_xlim(-0.5, max(line.x[0] for line in panel.lines) + 0.5)
        if data.log:
            ax.set_yscale("log")
        ax.set_ylabel(data.ylabel)
    _note(fig, 0.02, min_count, "\n")
    return fig


def course_figure(data: CourseFigure, min_count: int) -> Figure:
    """One course figure, two journal columns wide; a panel per group when it has several
    (or per response category); one column for a figure of one point per group."""
    if data.kind == "groups":
        return _group_figure(data, min_count)
    n = len(data.panels)
    fig = Figure(figsize=_size(TWO_COLUMNS_MM, 75))
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    fig.subplots_adjust(left=0.09, right=0.98, top=0.82, bottom=0.2, wspace=0.12)
    fig.suptitle(data.title, fontsize=9)
    by_class = data.lines == "classes"
    legend_once = n > 1 and not by_class  # the groups' legend in the first panel only
    legend_shown = False
    for ax, panel in zip(axes, data.panels, strict=True):
        if panel.title:
            ax.set_title(GROUP_LABELS.get(panel.title, panel.title))
        ax.set_xlabel("months since diagnosis")
        if not panel.lines:
            _nothing(ax, min_count)
            continue
        for line in panel.lines:
            if data.kind == "steps":
                _steps(ax, line, f"{data.name}-{panel.title}-{line.label}")
                continue
            colour = (CLASS_COLOURS if by_class else COLOURS).get(line.label, "#999999")
            style = (CLASS_STYLES if by_class else LINESTYLES).get(line.label, "-")
            name = line.label if by_class else GROUP_LABELS.get(line.label, line.label)
            below = [
                y - lo if lo is not None else 0.0 for y, lo in zip(line.y, line.lower, strict=True)
            ]
            above = [
                hi - y if hi is not None else 0.0 for y, hi in zip(line.y, line.upper, strict=True)
            ]
            ax.errorbar(
                line.x, line.y, yerr=[below, above], color=colour, linestyle=style, marker="o",
                markersize=3, capsize=2, label=name, gid=f"{data.name}-{panel.title}-{line.label}",
            )  # fmt: skip
        ax.set_xlim(left=0)
        if not (legend_once and legend_shown):
            ax.legend(frameon=False, fontsize=6, loc="best")
            legend_shown = True
    axes[0].set_ylabel(data.ylabel)
    if data.kind == "steps":
        axes[0].set_ylim(bottom=0.0)
    elif not data.percent:
        axes[0].set_ylim(0.0, 1.0)
    _note(fig, 0.09, min_count)
    return fig
