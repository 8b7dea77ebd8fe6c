"""The figures drawn from their aggregates: axes, empty data, palette, sizes."""

from __future__ import annotations

from imnm_cohort.disclosure.figures import BoxStats, Curve, FigureData
from imnm_cohort.report.figures import COLOURS, Figures

EMPTY = FigureData((), (), (), (), (), tuple(range(6)), 5)


def test_cumulative_incidence_axis_starts_at_zero_and_survival_stays_within_one():
    curve = Curve("hmgcr", (0.5, 1.0, 2.0), (0.01, 0.02, 0.05), (40, 30, 20, 10, "<5", 0))
    survival = Curve("hmgcr", (0.5, 1.0), (0.95, 0.9), (40, 30, 20, 10, "<5", 0))
    figures = Figures(FigureData((), (), (), (curve,), (survival,), tuple(range(6)), 5))
    low, high = figures.figure("cancer_incidence").axes[0].get_ylim()
    assert low == 0.0 and 0.05 < high <= 1.0
    low, high = figures.figure("survival").axes[0].get_ylim()
    assert low == 0.0 and high == 1.0
    svg = figures.svg("cancer_incidence")
    assert "&lt;5" in svg and "At risk" in svg


def test_empty_figures_say_no_data_instead_of_empty_axes():
    figures = Figures(EMPTY)
    for name in figures.names:
        assert "No data to show" in figures.svg(name), name
        assert not figures.figure(name).axes[0].axison


def test_colour_blind_safe_palette_and_one_column_box_plots():
    box = BoxStats("srp", 12, 1.0, 2.0, 3.0, 4.0, 5.0)
    figures = Figures(FigureData((box,), (), (), (), (), tuple(range(6)), 5))
    assert COLOURS["srp"] == "#D55E00"  # Okabe-Ito vermillion
    width, _ = figures.figure("onset_age").get_size_inches()
    assert round(width * 25.4) == 85
    assert figures.save("onset_age", "pdf").startswith(b"%PDF")
    assert figures.save("onset_age", "png").startswith(b"\x89PNG")
