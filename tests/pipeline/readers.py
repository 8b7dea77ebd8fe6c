"""For the end-to-end tests: running the command line, and the text of every aggregate file
of a run folder as a reader (or a search) would see it."""

from __future__ import annotations

import io
from pathlib import Path

from imnm_cohort.cli import main

#: Aggregate files read as text; the binary ones are opened with their own libraries.
TEXT_FILES = ("report.html", "report.md", "summary.json", "manifest.json", "changes.json")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def docx_text(path: Path) -> str:
    """Every paragraph and table cell of a Word document."""
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    props = document.core_properties
    parts += [props.title or "", props.author or ""]
    return "\n".join(parts)


def xlsx_text(path: Path) -> str:
    """Every cell value and cell note of a workbook."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    parts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    parts.append(str(cell.value))
                if cell.comment is not None:
                    parts.append(cell.comment.text)
    return "\n".join(parts)


def pdf_text(path: Path) -> str:
    """The text of every page of a PDF (pypdf)."""
    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def aggregate_texts(folder: Path) -> dict[str, str]:
    """Relative path -> text, for every aggregate file of a run folder."""
    texts = {n: (folder / n).read_text() for n in TEXT_FILES if (folder / n).exists()}
    if (folder / "tables.docx").exists():
        texts["tables.docx"] = docx_text(folder / "tables.docx")
    if (folder / "tables.xlsx").exists():
        texts["tables.xlsx"] = xlsx_text(folder / "tables.xlsx")
    figures = folder / "figures"
    for p in sorted(figures.iterdir()) if figures.is_dir() else ():
        if p.suffix == ".svg":
            texts[f"figures/{p.name}"] = p.read_text()
        elif p.suffix == ".pdf":
            texts[f"figures/{p.name}"] = pdf_text(p)
    return texts
