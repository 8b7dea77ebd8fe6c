"""The figures of the course of the disease, drawn from published values only
(:mod:`imnm_cohort.analysis.course_plotdata`): points with their intervals, joined by
lines, by group (or, for drug classes, by class in one panel per group)."""

from __future__ import annotations

from matplotlib.figure import Figure

from imnm_cohort.analysis.course_plotdata import CourseFigure
from imnm_cohort.report.figures import COLOURS, LINESTYLES, TWO_COLUMNS_MM, _no_data, _size
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


def course_figure(data: CourseFigure, min_count: int) -> Figure:
    """One course figure, two journal columns wide; a panel per group when it has several."""
    n = len(data.panels)
    fig = Figure(figsize=_size(TWO_COLUMNS_MM, 75))
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    fig.subplots_adjust(left=0.09, right=0.98, top=0.82, bottom=0.2, wspace=0.12)
    fig.suptitle(data.title, fontsize=9)
    by_class = n > 1
    for ax, panel in zip(axes, data.panels, strict=True):
        if panel.title:
            ax.set_title(GROUP_LABELS.get(panel.title, panel.title))
        ax.set_xlabel("months since diagnosis")
        if not panel.lines:
            shown = f"at least {min_count} patients" if min_count > 1 else "a patient"
            _no_data(ax, f"No value to show:\nno time with {shown}.")
            continue
        for line in panel.lines:
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
        ax.legend(frameon=False, fontsize=6, loc="best")
    axes[0].set_ylabel(data.ylabel)
    if not data.percent:
        axes[0].set_ylim(0.0, 1.0)
    fig.text(
        0.09,
        0.01,
        f"Only published values: none where fewer than {min_count} patients contribute or "
        "the value is withheld; no individual trajectory.",
        fontsize=6,
        va="bottom",
    )
    return fig
