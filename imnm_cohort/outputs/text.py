"""The report (HTML, Markdown), the summary (JSON), the patient-level tables (CSV) and the
figure files (SVG, PDF, PNG)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imnm_cohort.io.tables import write_bytes, write_table, write_text
from imnm_cohort.outputs.registry import FIGURE_FILES, RunOutputs
from imnm_cohort.report.render import render_html, render_markdown


def to_json(data: dict[str, Any]) -> str:
    """JSON as the toolkit writes it: indented, no NaN."""
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def write_html(out: RunOutputs, folder: Path) -> list[Path]:
    """``report.html``: self-contained, figures inline."""
    return [write_text(render_html(out.report), folder / "report.html")]


def _svg_files(out: RunOutputs, folder: Path) -> dict[str, Path]:
    assert out.figures is not None
    return {
        name: write_text(out.figures.svg(name), folder / "figures" / f"{name}.svg")
        for name in out.figures.names
    }


def write_markdown(out: RunOutputs, folder: Path) -> list[Path]:
    """``report.md`` with its figures as SVG files in ``figures/``."""
    svgs = _svg_files(out, folder)
    links = {name: f"figures/{path.name}" for name, path in svgs.items()}
    return [*svgs.values(), write_text(render_markdown(out.report, links), folder / "report.md")]


def write_figures(out: RunOutputs, folder: Path) -> list[Path]:
    """Every figure as SVG, PDF and PNG (300 dpi) in ``figures/``."""
    assert out.figures is not None
    files = list(_svg_files(out, folder).values())
    for name in out.figures.names:
        for fmt in FIGURE_FILES:
            if fmt != "svg":
                data = out.figures.save(name, fmt)
                files.append(write_bytes(data, folder / "figures" / f"{name}.{fmt}"))
    return files


def write_json(out: RunOutputs, folder: Path) -> list[Path]:
    """``summary.json``, and ``changes.json`` when there is an earlier run."""
    files = [write_text(to_json(out.summary), folder / "summary.json")]
    if out.changes is not None:
        files.append(write_text(to_json(out.changes), folder / "changes.json"))
    return files


def write_csv(out: RunOutputs, folder: Path) -> list[Path]:
    """The patient-level ``classified.csv`` and ``quarantine.csv``, and each event table's
    quarantine as ``<table>.quarantine.csv`` (contract section 6)."""
    return [
        write_table(out.classified, folder / "classified.csv"),
        write_table(out.quarantine, folder / "quarantine.csv"),
        *(
            write_table(rows, folder / f"{name}.quarantine.csv")
            for name, rows in out.table_quarantines.items()
        ),
    ]
