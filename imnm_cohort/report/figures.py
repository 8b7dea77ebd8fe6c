"""The report's figures as SVG text (matplotlib), deterministic for the same data."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from imnm_cohort.report.plotdata import BoxStats, Curve, FigureData
from imnm_cohort.vocabulary import GROUP_LABELS as LABELS

COLOURS = {
    "hmgcr": "#1f77b4",
    "srp": "#d62728",
    "seronegative": "#2ca02c",
    "statin_toxic": "#7f7f7f",
}
_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "imnm-cohort",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog: the SVG is inlined in HTML


def box_figure(stats: Sequence[BoxStats], title: str, ylabel: str, *, log: bool = False) -> str:
    """Box plot from percentiles (whiskers 5th-95th; no individual points)."""
    with plt.rc_context(cast(Any, _STYLE)):
        fig, ax = plt.subplots(figsize=(5.2, 3.2))
        if stats:
            ax.bxp(
                [
                    {
                        "label": f"{LABELS.get(s.label, s.label).replace(' ', chr(10), 1)}"
                        f"\n(n={s.n})",
                        "whislo": s.p5,
                        "q1": s.q1,
                        "med": s.median,
                        "q3": s.q3,
                        "whishi": s.p95,
                        "fliers": [],
                    }
                    for s in stats
                ],
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": "#e8eef6"},
                medianprops={"color": "#1a1a1a"},
            )
        else:
            ax.text(0.5, 0.5, "no group large enough to show", ha="center", transform=ax.transAxes)
        if log:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        return _svg(fig)


def curve_figure(
    curves: Sequence[Curve], years: Sequence[int], title: str, ylabel: str, *, start: float
) -> str:
    """Step curves by group with a table of numbers at risk below."""
    with plt.rc_context(cast(Any, _STYLE)):
        fig, (ax, table) = plt.subplots(
            2,
            1,
            figsize=(6.4, 4.6),
            gridspec_kw={"height_ratios": [4, 1.3], "hspace": 0.35},
            sharex=True,
        )
        for c in curves:
            xs = [0.0, *c.time]
            ys = [start, *c.value]
            ax.step(
                xs, ys, where="post", color=COLOURS.get(c.label), label=LABELS.get(c.label, c.label)
            )
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, max(years))
        if curves:
            ax.legend(frameon=False, loc="best")
        ax.set_xlabel("years since onset")
        ax.tick_params(labelbottom=True)
        table.set_axis_off()
        table.text(
            -0.06,
            1.0,
            "At risk",
            transform=table.transAxes,
            ha="right",
            va="top",
            fontweight="bold",
        )
        for row, c in enumerate(curves):
            y = 0.72 - 0.28 * row
            table.text(
                -0.06,
                y,
                LABELS.get(c.label, c.label),
                transform=table.transAxes,
                ha="right",
                va="center",
                color=COLOURS.get(c.label),
            )
            for year, n in zip(years, c.at_risk, strict=True):
                table.text(
                    year, y, str(n), ha="center", va="center", transform=table.get_xaxis_transform()
                )
        return _svg(fig)


def all_figures(data: FigureData) -> dict[str, str]:
    """Every figure of the report by file stem."""
    return {
        "onset_age": box_figure(data.onset_age, "Onset age by group", "years"),
        "ck_peak": box_figure(data.ck_peak, "Peak CK by group", "U/L (log scale)", log=True),
        "statin_latency": box_figure(
            data.statin_latency, "Statin latency by group", "months from statin start to onset"
        ),
        "cancer_incidence": curve_figure(
            data.incidence,
            data.years,
            "Cumulative incidence of cancer (death competing)",
            "cumulative incidence",
            start=0.0,
        ),
        "survival": curve_figure(
            data.survival, data.years, "Overall survival", "survival probability", start=1.0
        ),
    }
