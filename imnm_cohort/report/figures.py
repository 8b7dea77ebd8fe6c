"""The report's figures (matplotlib), drawn once and saved as SVG, PDF and PNG.

Figures are sized for a journal page: box plots fit one column (85 mm wide), curves with
their numbers-at-risk tables two columns (175 mm). Colours are the Okabe-Ito palette, which
stays distinguishable with the common colour-vision deficiencies, and curves also differ by
line style so that they survive greyscale printing. Output is deterministic for the same
data (no timestamps, a fixed SVG id salt).

Reference: Okabe M, Ito K. Color universal design (CUD): how to make figures and
presentations that are friendly to colorblind people. J*Fly, 2002.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

import matplotlib

matplotlib.use("Agg")
# Figures are made as ``Figure`` objects, never through pyplot: importing pyplot (its
# figure manager and backend machinery) costs about 0.2 s of every run and draws nothing.
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from imnm_cohort.disclosure.figures import BoxStats, Curve, FigureData
from imnm_cohort.report.figure_process import svg_text
from imnm_cohort.vocabulary import GROUP_LABELS

MM_PER_INCH = 25.4
ONE_COLUMN_MM, TWO_COLUMNS_MM = 85.0, 175.0
PNG_DPI = 300
#: Okabe-Ito colours.
COLOURS = {
    "hmgcr": "#0072B2",  # blue
    "srp": "#D55E00",  # vermillion
    "seronegative": "#009E73",  # bluish green
    "statin_toxic": "#E69F00",  # orange
}
LINESTYLES = {"hmgcr": "-", "srp": "--", "seronegative": ":", "statin_toxic": "-."}
_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "imnm-cohort",
    "pdf.fonttype": 3,
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_METADATA = {
    "svg": {"Date": None, "Creator": "imnm-cohort"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "imnm-cohort", "Producer": None},
    "png": {"Software": "imnm-cohort"},
}


def _size(width_mm: float, height_mm: float) -> tuple[float, float]:
    return width_mm / MM_PER_INCH, height_mm / MM_PER_INCH


def _plain_log_label(keep: tuple[int, ...]) -> Callable[[float, Any], str]:
    def text(value: float, _: Any) -> str:
        if value <= 0:
            return ""
        leading = round(value / 10 ** math.floor(math.log10(value)))
        return f"{value:,.0f}" if leading in keep else ""

    return text


def _no_data(ax: Any, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def box_figure(
    stats: Sequence[BoxStats], title: str, ylabel: str, *, min_count: int, log: bool = False
) -> Figure:
    """Box plot from percentiles (whiskers 5th-95th; no individual points), one column wide."""
    fig = Figure(figsize=_size(ONE_COLUMN_MM, 68))
    ax = fig.subplots()
    # Fixed margins rather than a layout engine: the same page size in every format, and
    # no layout pass at each save.
    fig.subplots_adjust(left=0.2, right=0.97, top=0.9, bottom=0.2)
    ax.set_title(title)
    if not stats:
        shown = f"at least {min_count} patients" if min_count > 1 else "a patient"
        _no_data(ax, f"No data to show:\nno group has {shown} with a value.")
        return fig
    boxes = ax.bxp(
        [
            {
                "label": "\n".join(GROUP_LABELS.get(s.label, s.label).rsplit(" ", 1))
                + f"\n(n={s.n})",
                # A whisker the disclosure rules leave out ends at its box.
                "whislo": s.q1 if s.p5 is None else s.p5,
                "q1": s.q1,
                "med": s.median,
                "q3": s.q3,
                "whishi": s.q3 if s.p95 is None else s.p95,
                "fliers": [],
            }
            for s in stats
        ],
        showfliers=False,
        patch_artist=True,
        medianprops={"color": "#000000"},
    )
    if any(s.p5 is None or s.p95 is None for s in stats):
        fig.subplots_adjust(bottom=0.28)
        fig.text(
            0.02,
            0.01,
            f"Whiskers: 5th and 95th percentiles, left out\nwhere fewer than {min_count} "
            "values lie beyond.",
            fontsize=6,
            va="bottom",
        )
    ax.tick_params(axis="x", labelsize=7)
    for patch, s in zip(boxes["boxes"], stats, strict=True):
        patch.set_facecolor(COLOURS.get(s.label, "#999999"))
        patch.set_alpha(0.55)
    if log:
        ax.set_yscale("log")
        # Plain numbers (1,000; 2,000; 5,000) rather than mathtext powers of ten: easier to
        # read, and no TeX-like parsing at every save.
        ax.yaxis.set_major_formatter(FuncFormatter(_plain_log_label(keep=(1, 2, 5))))
        ax.yaxis.set_minor_formatter(FuncFormatter(_plain_log_label(keep=(2, 5))))
    ax.set_ylabel(ylabel)
    return fig


def curve_figure(
    curves: Sequence[Curve],
    years: Sequence[int],
    title: str,
    ylabel: str,
    *,
    start: float,
    min_count: int,
) -> Figure:
    """Step curves by group with a table of numbers at risk below, two columns wide."""
    fig = Figure(figsize=_size(TWO_COLUMNS_MM, 110))
    ax, table = fig.subplots(
        2, 1, gridspec_kw={"height_ratios": [4, 1.2], "hspace": 0.45}, sharex=True
    )
    fig.subplots_adjust(left=0.2, right=0.97, top=0.93, bottom=0.04)
    ax.set_title(title)
    ax.set_xlim(0, max(years))
    ax.set_xlabel("years since onset")
    ax.tick_params(labelbottom=True)
    table.set_axis_off()
    if not curves:
        _no_data(ax, f"No data to show: no group has at least {max(min_count, 1)} patients.")
        return fig
    if all(c.withheld is not None for c in curves):
        reasons = (f"{GROUP_LABELS.get(c.label, c.label)} ({c.withheld})" for c in curves)
        _no_data(ax, "\n".join(("No data to show.", *reasons)))
        return fig
    for c in curves:
        style = {"color": COLOURS.get(c.label), "linestyle": LINESTYLES.get(c.label, "-")}
        name = GROUP_LABELS.get(c.label, c.label)
        if c.withheld is not None:
            # No line, only a legend entry that says why.
            ax.plot([], [], label=f"{name} ({c.withheld})", **style)
            continue
        # The gid names the line in the SVG (deterministic), so that it can be read back.
        ax.step(
            [0.0, *c.time],
            [start, *c.value],
            where="post",
            label=name,
            gid=f"curve-{c.label}",
            **style,
        )
    if min_count:
        fig.subplots_adjust(bottom=0.08)
        fig.text(
            0.2,
            0.01,
            f"Each step stands for at least {min_count} events; curves stop where fewer "
            f"than {min_count} patients remain at risk.",
            fontsize=6,
            va="bottom",
        )
    top = max([start, *(v for c in curves for v in c.value)])
    # Probabilities: never below 0 nor above 1, with a little head-room above the curves.
    ax.set_ylim(0.0, min(1.0, top * 1.1) if top > 0 else 1.0)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, loc="best")
    table.text(
        -0.05, 1.0, "At risk", transform=table.transAxes, ha="right", va="top", fontweight="bold"
    )
    for row, c in enumerate(curves):
        y = 0.7 - 0.3 * row
        table.text(
            -0.05,
            y,
            GROUP_LABELS.get(c.label, c.label),
            transform=table.transAxes,
            ha="right",
            va="center",
            color=COLOURS.get(c.label),
        )
        for year, n in zip(years, c.at_risk, strict=True):
            table.text(
                year, y, str(n), ha="center", va="center", transform=table.get_xaxis_transform()
            )
    return fig


class FigureSet(Protocol):
    """What the writers read of the figures: :class:`Figures`, or the files drawn by a
    process of their own (:class:`~imnm_cohort.report.figure_process.DrawnFigures`)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The figures' file stems, in report order."""

    def two_columns(self, name: str) -> bool:
        """Whether a figure is two journal columns wide (else one)."""

    def save(self, name: str, fmt: str) -> bytes:
        """One figure in a file format (``svg``, ``pdf`` or ``png``)."""

    def svg(self, name: str) -> str:
        """A figure's SVG text without the XML prolog (to be inlined in HTML)."""


class Figures:
    """The report's figures, each drawn once; SVG text and files are made from the same objects.

    Parameters
    ----------
    data : FigureData
        Disclosure-controlled aggregates (see :mod:`imnm_cohort.analysis.plotdata`).
    """

    def __init__(self, data: FigureData) -> None:
        k = data.min_count
        with matplotlib.rc_context(cast(Any, _STYLE)):
            self._figures: dict[str, Figure] = {
                "onset_age": box_figure(data.onset_age, "Onset age by group", "years", min_count=k),
                "ck_peak": box_figure(
                    data.ck_peak, "Peak CK by group", "U/L (log scale)", log=True, min_count=k
                ),
                "statin_latency": box_figure(
                    data.statin_latency,
                    "Statin latency by group",
                    "months from statin start to onset",
                    min_count=k,
                ),
                "cancer_incidence": curve_figure(
                    data.incidence,
                    data.years,
                    "Cumulative incidence of cancer (death competing)",
                    "cumulative incidence",
                    start=0.0,
                    min_count=k,
                ),
                "survival": curve_figure(
                    data.survival,
                    data.years,
                    "Overall survival",
                    "survival probability",
                    start=1.0,
                    min_count=k,
                ),
            }
            if data.course:  # only when the run had event tables: otherwise no import
                from imnm_cohort.report.course_figures import course_figure

                for course in data.course:
                    self._figures[course.name] = course_figure(course, k)
        self._svg: dict[str, str] = {}

    @property
    def names(self) -> tuple[str, ...]:
        """The figures' file stems, in report order."""
        return tuple(self._figures)

    def two_columns(self, name: str) -> bool:
        """Whether a figure is two journal columns wide (else one)."""
        width, _ = self._figures[name].get_size_inches()
        return bool(width * MM_PER_INCH > ONE_COLUMN_MM + 1)

    def figure(self, name: str) -> Figure:
        """The matplotlib figure itself (to restyle it in a notebook, for example)."""
        return self._figures[name]

    def save(self, name: str, fmt: str) -> bytes:
        """One figure in a file format (``svg``, ``pdf`` or ``png`` at 300 dpi)."""
        buffer = io.BytesIO()
        with matplotlib.rc_context(cast(Any, _STYLE)):
            self._figures[name].savefig(
                buffer,
                format=fmt,
                dpi=PNG_DPI,
                metadata=cast(Any, _METADATA[fmt]),
                # zlib level 1 instead of 6: a few per cent larger, much faster to write.
                **cast(
                    dict[str, Any], {"pil_kwargs": {"compress_level": 1}} if fmt == "png" else {}
                ),
            )
        return buffer.getvalue()

    def svg(self, name: str) -> str:
        """A figure's SVG text without the XML prolog (to be inlined in HTML); cached."""
        if name not in self._svg:
            self._svg[name] = svg_text(self.save(name, "svg"))
        return self._svg[name]
