"""Corpus files for the source readers: spreadsheets, Parquet types, encodings, dates, ids.

Called by :mod:`tests.corpus.make_corpus` (``python -m tests.corpus.make_corpus``). Each
case is one hostile input and what the toolkit must do with it: exit 1 with one line, or
the rows quarantined with the right reasons. A case with ``mapping`` is validated through
that mapping file (its text is kept in ``expected.json``).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tests.corpus.make_corpus import COLUMNS, csv_text, rows, with_row

Fail = Callable[..., None]
Quarantine = Callable[..., None]


def readers(fail: Fail, quarantine: Quarantine) -> None:
    """Every reader case (the order does not matter: expected.json is sorted)."""
    dates_and_ids(fail, quarantine)
    encodings(fail, quarantine)
    spreadsheets(fail, quarantine)
    parquet(fail, quarantine)


# --------------------------------------------------------------------------- dates and ids


def dates_and_ids(fail: Fail, quarantine: Quarantine) -> None:
    out = "date_out_of_range"
    quarantine("date_1600.csv", with_row(3, 0, birth_date="1600-01-01"), [["birth_date", out]], 2)
    quarantine(
        "date_placeholder_9999.csv",
        with_row(3, 1, death_date="9999-12-31"),
        [["death_date", out]],
        2,
    )
    quarantine(
        "date_after_2262.csv",
        with_row(3, 2, last_followup_date="2262-04-12"),
        [["last_followup_date", out]],
        2,
    )
    quarantine(  # an impossible day is not a date, whatever its year
        "impossible_day_out_of_range.csv",
        with_row(3, 2, onset_date="1500-02-30"),
        [["onset_date", "not_a_date"]],
        2,
    )
    fail(
        "dates_out_of_range_in_most_rows.csv",
        csv_text(rows(20, birth_date="1600-03-01")),
        "breaks rule 'date_out_of_range' in 20 of 20 rows (for example '1600-03-01'; "
        "expected dates from 1677-09-22 to 2262-04-11)",
    )
    nfc, nfd = unicodedata.normalize("NFC", "Zoë-7"), unicodedata.normalize("NFD", "Zoë-7")
    assert nfc != nfd
    records = rows(3)
    records[0]["patient_id"], records[2]["patient_id"] = nfc, nfd
    quarantine(
        "same_id_in_nfc_and_nfd.csv",
        csv_text(records),
        [["patient_id", "duplicate_patient_id"]],
        1,
    )
    quarantine("id_in_nfd_alone.csv", with_row(3, 1, patient_id=nfd), [], 3)
    reserved = {
        "eular_acr_2017_category": "definite",
        "EULAR_ACR_2017_score_with_biopsy_min": "9",
        " eular_acr_2017_missing ": "",
        "eular_acr_2017_future_column": "x",
        "export_rows": "1;2",
    }
    quarantine("reserved_classifier_names.csv", csv_text(rows(3, **reserved)), [], 3)


# --------------------------------------------------------------------------- encodings


def _source(**settings: str) -> str:
    """A mapping file that only sets ``[source]`` (every contract column by its own name)."""
    return "[source]\n" + "".join(f'{key} = "{value}"\n' for key, value in settings.items())


def encodings(fail: Fail, quarantine: Quarantine) -> None:
    text = csv_text(rows(3, site="Clínica Sur"))
    for name, codec, declared in (
        ("declared_utf16.csv", "utf-16", "utf-16"),
        ("declared_utf16_be_no_bom.csv", "utf-16-be", "utf-16-be"),
        ("declared_utf16_le_no_bom.csv", "utf-16-le", "UTF-16LE"),
        ("declared_utf32.csv", "utf-32", "utf-32"),
        ("declared_cp1252.csv", "cp1252", "cp1252"),
    ):
        quarantine(name, text.encode(codec), [], 3, mapping=_source(encoding=declared))
    fail(
        "declared_utf16_with_nul.csv",
        (text + "C004,female\x00,1955-03-01\n").encode("utf-16"),
        "contains a NUL character on line 5",
        mapping=_source(encoding="utf-16"),
    )
    fail(
        "declared_utf16_but_utf8.csv",
        text.encode("utf-8") + b"x",  # odd length: not UTF-16
        "cannot be decoded as utf-16",
        mapping=_source(encoding="utf-16"),
    )
    bom = ("\ufeff" + text).encode("utf-8")
    quarantine("declared_utf8_with_bom.csv", bom, [], 3, mapping=_source(encoding="utf-8"))
    quarantine("declared_utf_8_alias_with_bom.csv", bom, [], 3, mapping=_source(encoding="UTF8"))
    quarantine("declared_utf8_sig_with_bom.csv", bom, [], 3, mapping=_source(encoding="utf-8-sig"))
    comma = _source(decimal=",")
    quarantine(
        "decimal_comma_thousands_point.csv",
        with_row(3, 0, ck_peak="5.000"),
        [["ck_peak", "not_a_number"]],
        2,
        mapping=comma,
    )
    quarantine(
        "decimal_comma_grouped.csv",
        with_row(3, 1, ck_peak="1.234,5"),
        [["ck_peak", "not_a_number"]],
        2,
        mapping=comma,
    )
    quarantine("decimal_comma_plain.csv", with_row(3, 1, ck_peak="5000,5"), [], 3, mapping=comma)


# --------------------------------------------------------------------------- spreadsheets


def _workbook(
    records: list[dict[str, Any]], change: Callable[[Any], None] | None = None, epoch: Any = None
) -> bytes:
    """An .xlsx file of ``records`` (text cells), after ``change(sheet)``."""
    import openpyxl

    book = openpyxl.Workbook()
    if epoch is not None:
        book.epoch = epoch
    sheet = book.active
    columns = list(records[0])
    sheet.append(columns)
    for record in records:
        sheet.append([record[c] if record[c] != "" else None for c in columns])
    if change is not None:
        change(sheet)
    return _saved(book)


def _saved(book: Any) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return stable_xlsx(buffer.getvalue())


def stable_xlsx(data: bytes) -> bytes:
    """An .xlsx file's bytes made the same on every run: the zip entries' times and the
    document's "modified" date (both the time of saving) fixed."""
    import re
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename == "docProps/core.xml":
                part = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>2026-01-01T00:00:00Z",
                    part,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            target.writestr(fixed, part, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _cell(column: str, row: int, value: Any, number_format: str | None = None) -> Callable:
    """A change that sets the cell of contract column ``column`` in data row ``row``."""

    def change(sheet: Any) -> None:
        header = [c.value for c in sheet[1]]
        cell = sheet.cell(row=row + 1, column=header.index(column) + 1, value=value)
        if number_format:
            cell.number_format = number_format

    return change


def spreadsheets(fail: Fail, quarantine: Quarantine) -> None:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    base = rows(3)
    error = "spreadsheet_error"
    for name, column, value in (
        ("excel_div0_in_antibody.xlsx", "anti_hmgcr", "#DIV/0!"),
        ("excel_na_in_ck.xlsx", "ck_peak", "#N/A"),
        ("excel_value_error_in_date.xlsx", "onset_date", "#VALUE!"),
        ("excel_ref_error_as_id.xlsx", "patient_id", "#REF!"),
        ("excel_name_error_in_sex.xlsx", "sex", "#NAME?"),
        ("excel_num_error_in_ck_uln.xlsx", "ck_uln", "#NUM!"),
        ("excel_null_error_in_msa.xlsx", "other_msa", "#NULL!"),
        ("excel_na_in_boolean.xlsx", "statin_exposed", "#N/A"),
    ):
        quarantine(name, _workbook(base, _cell(column, 2, value)), [[column, error]], 2)
    quarantine(
        "excel_error_in_extra_column.xlsx",
        _workbook(rows(3, bmi="24.1"), _cell("bmi", 1, "#DIV/0!")),
        [],
        3,
    )
    # The same cells in an export read through a mapping: a renamed source column, the id.
    renamed = [
        {("hmgcr_result" if k == "anti_hmgcr" else k): v for k, v in r.items()} for r in base
    ]
    by_name = '[columns]\nanti_hmgcr = "hmgcr_result"\n'
    quarantine(
        "excel_div0_in_mapped_antibody.xlsx",
        _workbook(renamed, _cell("hmgcr_result", 1, "#DIV/0!")),
        [["anti_hmgcr", error]],
        2,
        mapping=by_name,
    )
    quarantine(
        "excel_formula_id_in_mapped_export.xlsx",
        _workbook(renamed, _cell("patient_id", 2, '="P"&ROW()')),
        [["patient_id", "formula_without_value"]],
        2,
        mapping=by_name,
    )
    quarantine(
        "excel_error_in_a_column_the_mapping_leaves_out.xlsx",
        _workbook([{**r, "notes": "x"} for r in renamed], _cell("notes", 1, "#N/A")),
        [],
        3,
        mapping=by_name,
    )
    without = "formula_without_value"
    for name, column, formula in (
        ("excel_formula_ck_without_value.xlsx", "ck_peak", "=A2*2"),
        ("excel_formula_antibody_without_value.xlsx", "anti_hmgcr", '=IF(B2="f","positive","")'),
        ("excel_formula_id_without_value.xlsx", "patient_id", '="P"&ROW()'),
        ("excel_formula_date_without_value.xlsx", "onset_date", "=DATE(2015,6,1)"),
    ):
        quarantine(name, _workbook(base, _cell(column, 3, formula)), [[column, without]], 2)
    quarantine(
        "excel_serial_60.xlsx",
        _workbook(base, _cell("birth_date", 1, 60, "yyyy-mm-dd")),
        [["birth_date", "not_a_date"]],
        2,
    )

    def around_60(sheet: Any) -> None:
        _cell("birth_date", 1, 59, "yyyy-mm-dd")(sheet)  # 1900-02-28
        _cell("birth_date", 2, 61, "yyyy-mm-dd")(sheet)  # 1900-03-01
        _cell("birth_date", 3, 60.75, "yyyy-mm-dd hh:mm")(sheet)  # 1900-02-29 18:00

    quarantine(
        "excel_serials_59_60_61.xlsx", _workbook(base, around_60), [["birth_date", "not_a_date"]], 2
    )
    quarantine(
        "excel_1904_serial_60.xlsx",
        _workbook(base, _cell("birth_date", 1, 60, "yyyy-mm-dd"), epoch=CALENDAR_MAC_1904),
        [],
        3,
    )
    import datetime as dt

    def typed(sheet: Any) -> None:
        _cell("birth_date", 1, dt.datetime(1955, 3, 1, 13, 45), "yyyy-mm-dd hh:mm")(sheet)
        _cell("onset_date", 2, dt.date(2015, 6, 1), "dd/mm/yyyy")(sheet)
        _cell("ck_peak", 3, 8000.0)(sheet)
        _cell("dm_rash", 3, False)(sheet)

    quarantine("excel_typed_cells.xlsx", _workbook(base, typed), [], 3)
    fail(
        "excel_merged_cells.xlsx",
        _workbook(base, lambda sheet: sheet.merge_cells("B2:B4")),
        "the first sheet has merged cells (B2:B4)",
    )
    fail(
        "excel_merged_extra_cells.xlsx",
        _workbook(
            rows(3, site="Lyon"),
            lambda sheet: sheet.merge_cells(f"{_letter(COLUMNS)}2:{_letter(COLUMNS)}3"),
        ),
        "merged cells",
    )
    fail(
        "excel_shared_string_bomb.xlsx",
        _shared_string_bomb(8_000_000, 400),
        "a cell holds 8,000,000 characters, more than Excel's limit of 32,767",
    )
    fail(
        "excel_shared_string_in_many_cells.xlsx",
        _shared_string_bomb(32_000, 9_000),
        "holds more than 268,435,456 characters of text",
    )


def _letter(columns: list[str]) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(len(columns) + 1)


def _shared_string_bomb(length: int, cells: int) -> bytes:
    """A workbook whose column B holds one shared string of ``length`` characters in
    ``cells`` rows: the string is stored once, so the file is a few kilobytes."""
    rows_xml = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    rows_xml += "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="s"><v>2</v></c></row>'
        for r in range(2, cells + 2)
    )
    return raw_workbook(rows_xml, ["patient_id", "notes", "n" * length])


def raw_workbook(rows_xml: str, shared: list[str]) -> bytes:
    """The smallest .xlsx a spreadsheet program opens: one sheet, its shared strings."""
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006"
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{package}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{kind}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{kind}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}.sharedStrings+xml"/>'
        "</Types>",
        "_rels/.rels": f'<Relationships xmlns="{package}/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{package}/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{rows_xml}'
        "</sheetData></worksheet>",
        "xl/sharedStrings.xml": f'<sst xmlns="{main}" count="{len(shared)}" '
        f'uniqueCount="{len(shared)}">'
        + "".join(f"<si><t>{t}</t></si>" for t in shared)
        + "</sst>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            archive.writestr(info, text, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


# --------------------------------------------------------------------------- Parquet


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _table(records: list[dict[str, Any]], **columns: pa.Array) -> pa.Table:
    """Text cells of ``records``, with the named columns replaced (or added) typed."""
    frame = pd.DataFrame(records).replace("", None)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name, array in columns.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, array)
        else:
            table = table.append_column(name, array)
    return table


def parquet(fail: Fail, quarantine: Quarantine) -> None:
    import datetime as dt

    base = rows(3)
    big = 2**53
    quarantine(
        "parquet_int64_ck_above_2_53.parquet",
        _parquet(_table(base, ck_peak=pa.array([8000, big + 1, 9000], pa.int64()))),
        [["ck_peak", "out_of_range"]],
        2,
    )
    quarantine(
        "parquet_uint64_max_ck.parquet",
        _parquet(_table(base, ck_peak=pa.array([2**64 - 1, 100, None], pa.uint64()))),
        [["ck_peak", "out_of_range"]],
        2,
    )
    quarantine(  # as floats, the three ids would be two
        "parquet_int64_ids_above_2_53.parquet",
        _parquet(_table(base, patient_id=pa.array([big, big + 1, big + 2], pa.int64()))),
        [],
        3,
    )
    quarantine(
        "parquet_int64_extra_above_2_53.parquet",
        _parquet(_table(base, lab_id=pa.array([big + 1, None, -(2**63)], pa.int64()))),
        [],
        3,
    )
    for name, column, array, words in (
        ("parquet_list_column.parquet", "visits", pa.array([[1, 2], [], None]), "list"),
        (
            "parquet_list_of_antibodies.parquet",
            "other_msa",
            pa.array([["jo1"], ["pl7", "pl12"], None]),
            "list",
        ),
        (
            "parquet_struct_column.parquet",
            "address",
            pa.array([{"city": "Lyon"}, {"city": "Nice"}, None]),
            "struct",
        ),
        (
            "parquet_map_column.parquet",
            "labs",
            pa.array([[("ck", 1.0)], [], None], pa.map_(pa.string(), pa.float64())),
            "map",
        ),
    ):
        fail(
            name,
            _parquet(_table(base, **{column: array})),
            f"column '{column}' holds {words} values",
        )
    quarantine(
        "parquet_binary_ids.parquet",
        _parquet(_table(base, patient_id=pa.array([b"A1", "Zoë".encode(), b"A3"], pa.binary()))),
        [],
        3,
    )
    fail(
        "parquet_binary_ids_not_utf8.parquet",
        _parquet(_table(base, patient_id=pa.array([b"A1", b"\xff\xfeA2", b"A3"], pa.binary()))),
        "column 'patient_id' holds bytes that are not UTF-8 text (data row 2)",
    )
    fail(
        "parquet_binary_extra_not_utf8.parquet",
        _parquet(_table(base, blob=pa.array([None, None, b"\xc3"], pa.large_binary()))),
        "column 'blob' holds bytes that are not UTF-8 text (data row 3)",
    )
    quarantine(
        "parquet_dictionary_categories.parquet",
        _parquet(
            _table(
                base,
                sex=pa.array(["female", "male", "female"]).dictionary_encode(),
                anti_srp=pa.array(["negative", None, "Positive"]).dictionary_encode(),
            )
        ),
        [],
        3,
    )
    quarantine(
        "parquet_date_1600.parquet",
        _parquet(
            _table(
                base,
                birth_date=pa.array(
                    [dt.date(1600, 1, 1), dt.date(1955, 3, 1), dt.date(1955, 3, 1)]
                ),
            )
        ),
        [["birth_date", "date_out_of_range"]],
        2,
    )
    quarantine(
        "parquet_timestamp_year_3000.parquet",
        _parquet(
            _table(
                base,
                death_date=pa.array(
                    [None, dt.datetime(3000, 1, 1), None], pa.timestamp("us", tz="UTC")
                ),
            )
        ),
        [["death_date", "date_out_of_range"]],
        2,
    )
    quarantine(
        "parquet_dates_as_integers.parquet",
        _parquet(_table(base, diagnosis_date=pa.array([20150901, None, None], pa.int32()))),
        [["diagnosis_date", "not_a_date"]],
        2,
    )
