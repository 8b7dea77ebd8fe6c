"""REDCap data dictionaries, read whatever shape they were saved in.

REDCap downloads its data dictionary as a comma-separated UTF-8 file with 18 columns, but
the files that reach a data manager have often been through a spreadsheet: saved with ``;``
or tab between fields (European Excel), saved as ``.xlsx``, or downloaded from an older
REDCap whose headers were ``Choices OR Calculations`` and ``Text Validation Type``. The API's
metadata export names the same columns ``field_name``, ``select_choices_or_calculations``....
:func:`read_redcap_dictionary` reads all of these into :class:`Field` records; labels and
choice labels lose their HTML tags and entities (REDCap allows rich text in both).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from imnm_cohort.errors import ExtractError
from imnm_cohort.mapping.antibodies import clean_label
from imnm_cohort.sources.files import WORKBOOK_SUFFIXES, not_utf8_message

#: Each dictionary column the draft reads, and the header names REDCap has given it (current
#: download, older downloads, API metadata), compared ignoring case and surrounding spaces.
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("Variable / Field Name", "field_name"),
    "form": ("Form Name", "form_name"),
    "type": ("Field Type", "field_type"),
    "label": ("Field Label", "field_label"),
    "choices": (
        "Choices, Calculations, OR Slider Labels",
        "Choices OR Calculations",
        "select_choices_or_calculations",
    ),
    "validation": (
        "Text Validation Type OR Show Slider Number",
        "Text Validation Type",
        "text_validation_type_or_show_slider_number",
    ),
    "identifier": ("Identifier?", "identifier"),
    "section": ("Section Header", "section_header"),
}
_NEEDED = ("name", "type", "label")
_DELIMITERS = (",", ";", "\t")
#: Field types whose "choices" column holds choices (not a calculation or slider labels).
CODED_TYPES = ("radio", "dropdown", "checkbox")
#: REDCap's fixed choices of its yes/no and true/false field types.
IMPLICIT_CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "yesno": (("1", "Yes"), ("0", "No")),
    "truefalse": (("1", "True"), ("0", "False")),
}


@dataclass(frozen=True)
class Field:
    """One field of a data dictionary.

    Attributes
    ----------
    name : str
        The variable name (the export's column; a checkbox exports ``NAME___CODE``).
    ftype : str
        REDCap's field type, lower case (``text``, ``radio``, ``yesno``, ``checkbox``, ...).
    label : str
        The field label, without HTML.
    choices : tuple of (str, str)
        ``(code, label)`` pairs, labels without HTML; REDCap's own for yesno/truefalse.
    validation : str
        The text validation type, lower case (``date_dmy``, ``number_comma_decimal``, ...).
    form : str
        The form (instrument) name.
    identifier : bool
        Flagged ``Identifier? = y``.
    section : str
        The section header the field stands under in its form (REDCap writes a header on
        the first field of a section only; the fields after it inherit it), without HTML.
    """

    name: str
    ftype: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    validation: str = ""
    form: str = ""
    identifier: bool = False
    section: str = ""


@dataclass(frozen=True)
class Dictionary:
    """A data dictionary read from a file.

    Attributes
    ----------
    fields : tuple of Field
        In the dictionary's order (descriptive fields left out).
    delimiter : str
        The file's field delimiter (``","`` for ``.xlsx``).
    """

    fields: tuple[Field, ...]
    delimiter: str = ","


def read_redcap_dictionary(path: str | Path) -> Dictionary:
    """Read a REDCap data dictionary: CSV (``,``, ``;`` or tab) or ``.xlsx``.

    Raises
    ------
    ExtractError
        When the file cannot be read or lacks REDCap's field name, type or label columns
        (one line naming the file and the columns, exit code 1).
    """
    path = Path(path)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        rows, delimiter = _xlsx_rows(path), ","
    else:
        rows, delimiter = _csv_rows(path)
    header = [str(h or "").strip().lower() for h in (rows[0] if rows else [])]
    where = {
        key: next((header.index(n.lower()) for n in names if n.lower() in header), None)
        for key, names in HEADERS.items()
    }
    known = {n.lower() for names in HEADERS.values() for n in names}
    if where["name"] is None and None not in (where["form"], where["type"], where["label"]):
        # REDCap's first column is always the variable name; a copy whose first header was
        # overwritten (a stray "1" from a spreadsheet) still has its names there.
        where["name"] = 0 if header and header[0] not in known else None
    missing = [HEADERS[key][0] for key in _NEEDED if where[key] is None]
    if missing:
        raise ExtractError(
            f"{path}: not a REDCap data dictionary (missing column(s): {', '.join(missing)}; "
            "download it from Project Setup > Data Dictionary)"
        )

    def cell(row: list[str], key: str) -> str:
        at = where[key]
        return str(row[at] or "").strip() if at is not None and at < len(row) else ""

    fields = []
    form = section = ""
    for row in rows[1:]:
        name, ftype = cell(row, "name"), cell(row, "type").lower()
        if cell(row, "form") != form:
            form, section = cell(row, "form"), ""
        section = clean_label(cell(row, "section")) or section
        if not name or ftype == "descriptive":
            continue
        if ftype in IMPLICIT_CHOICES:
            choices = IMPLICIT_CHOICES[ftype]
        else:
            choices = parse_choices(cell(row, "choices")) if ftype in CODED_TYPES else ()
        fields.append(
            Field(
                name=name,
                ftype=ftype,
                label=clean_label(cell(row, "label")),
                choices=choices,
                validation=cell(row, "validation").lower(),
                form=cell(row, "form"),
                identifier=cell(row, "identifier").lower() in ("y", "yes", "1"),
                section=section,
            )
        )
    return Dictionary(tuple(fields), delimiter)


def parse_choices(text: str) -> tuple[tuple[str, str], ...]:
    """``1, Female | 2, Male`` -> ``(("1", "Female"), ("2", "Male"))``, labels without HTML."""
    pairs = []
    for part in text.split("|"):
        code, _, label = part.partition(",")
        label = clean_label(label)
        if code.strip() and label:
            pairs.append((code.strip(), label))
    return tuple(pairs)


def _csv_rows(path: Path) -> tuple[list[list[str]], str]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        advice = (
            "REDCap downloads its data dictionary as UTF-8: download it again, or "
            "re-save it as 'CSV UTF-8'"
        )
        raise ExtractError(not_utf8_message(path, exc, advice)) from None
    except OSError as exc:
        raise ExtractError(f"{path}: cannot be read as a REDCap data dictionary ({exc})") from None
    first = text.split("\n", 1)[0]
    names = {n.lower() for n in HEADERS["name"]}
    # The delimiter whose first line holds REDCap's field-name header; "," when none does.
    delimiter = next(
        (
            d
            for d in _DELIMITERS
            if names & {h.strip().lower() for h in next(csv.reader([first], delimiter=d), [])}
        ),
        ",",
    )
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), delimiter
    except csv.Error as exc:
        raise ExtractError(f"{path}: cannot be read as a REDCap data dictionary ({exc})") from None


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ExtractError(
            f"{path}: cannot be read as an .xlsx data dictionary ({type(exc).__name__}: {exc})"
        ) from None
    try:
        sheet = book.worksheets[0]
        return [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        book.close()
