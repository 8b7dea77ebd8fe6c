"""The registry of output formats: ``{format: writer}``.

A pipeline file's ``[output] formats`` may list any key of :data:`FORMATS`; nothing else
needs to know the formats. A writer takes the run's :class:`RunOutputs` and the run folder
and returns the files it wrote (for the manifest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from imnm_cohort.report.figures import FigureSet


@dataclass(frozen=True)
class RunOutputs:
    """Everything a writer may write.

    Attributes
    ----------
    summary : dict
        ``summary.json`` after disclosure control: the only source of numbers for every
        aggregate format.
    changes : dict or None
        ``changes.json`` after disclosure control, when there is an earlier run.
    report : dict
        The report's content (text tables built from ``summary``) for HTML and Markdown.
    meta : dict
        The report's metadata: title, study, data cut-off, authors, criteria, methods.
    figures : FigureSet or None
        The figures (drawn from disclosure-controlled aggregates), when a format uses them.
    classified, quarantine : pandas.DataFrame
        The patient-level tables; only the ``csv`` format writes them.
    table_quarantines : mapping of str to pandas.DataFrame
        Each event table's quarantine (contract section 6), by table name: row-level, with
        patient ids; the ``csv`` format writes each as ``<table>.quarantine.csv``.
    """

    summary: dict[str, Any]
    changes: dict[str, Any] | None
    report: dict[str, Any]
    meta: dict[str, Any]
    figures: FigureSet | None
    classified: pd.DataFrame
    quarantine: pd.DataFrame
    table_quarantines: Mapping[str, pd.DataFrame] = field(default_factory=dict)


Writer = Callable[[RunOutputs, Path], list[Path]]


#: The figures' file formats: SVG text, PDF and PNG at 300 dpi.
FIGURE_FILES = ("svg", "pdf", "png")


@dataclass(frozen=True)
class OutputFormat:
    """One output format: its writer, what it writes, whether it uses the figures and which
    of their file formats (:data:`FIGURE_FILES`) it reads.

    A run draws the figures before it writes, in a process of its own where it can
    (:mod:`imnm_cohort.report.figure_process`), in the file formats its formats read; a
    writer that reads another one still gets it, drawn when asked.
    """

    writer: Writer
    files: str
    uses_figures: bool = False
    figure_files: tuple[str, ...] = ("svg",)


def _lazy(module: str, name: str) -> Writer:
    """A writer imported on first use (Word, Excel and matplotlib take time to import)."""

    def write(out: RunOutputs, folder: Path) -> list[Path]:
        from importlib import import_module

        writer: Writer = getattr(import_module(module), name)
        return writer(out, folder)

    return write


FORMATS: dict[str, OutputFormat] = {
    "html": OutputFormat(
        _lazy("imnm_cohort.outputs.text", "write_html"), "report.html", uses_figures=True
    ),
    "md": OutputFormat(
        _lazy("imnm_cohort.outputs.text", "write_markdown"),
        "report.md, figures/*.svg",
        uses_figures=True,
    ),
    "json": OutputFormat(
        _lazy("imnm_cohort.outputs.text", "write_json"), "summary.json, changes.json"
    ),
    "csv": OutputFormat(
        _lazy("imnm_cohort.outputs.text", "write_csv"),
        "classified.csv, quarantine.csv, <table>.quarantine.csv",
    ),
    "docx": OutputFormat(_lazy("imnm_cohort.outputs.word", "write_docx"), "tables.docx"),
    "xlsx": OutputFormat(_lazy("imnm_cohort.outputs.excel", "write_xlsx"), "tables.xlsx"),
    "figures": OutputFormat(
        _lazy("imnm_cohort.outputs.text", "write_figures"),
        "figures/*.svg, figures/*.pdf, figures/*.png",
        uses_figures=True,
        figure_files=FIGURE_FILES,
    ),
}


def uses_figures(formats: Iterable[str]) -> bool:
    """Whether any of the formats draws the figures."""
    return any(FORMATS[f].uses_figures for f in formats)


def figure_files(formats: Iterable[str]) -> tuple[str, ...]:
    """The figures' file formats that the formats read, in :data:`FIGURE_FILES` order."""
    wanted = {
        f for name in formats if FORMATS[name].uses_figures for f in FORMATS[name].figure_files
    }
    return tuple(f for f in FIGURE_FILES if f in wanted)


def write_outputs(out: RunOutputs, folder: Path, formats: Iterable[str]) -> list[Path]:
    """Write each format into ``folder``; every file written, once, in order."""
    written: dict[Path, None] = {}
    for name in formats:
        for path in FORMATS[name].writer(out, folder):
            written[path] = None
    return list(written)
