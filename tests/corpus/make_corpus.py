"""Write the malformed-extract corpus into tests/corpus/files/ and its expectations.

Run from the project root: ``python -m tests.corpus.make_corpus``. Each file is small and
made by this script so that it can be re-made and reviewed; ``expected.json`` says what the
toolkit must do with it: exit 1 with a one-line message containing a given text, or exit 0
with given (column, rule) quarantine reasons.
"""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pandas as pd

from tests.conftest import BASE_PATIENT

HERE = Path(__file__).parent
FILES = HERE / "files"
COLUMNS = list(BASE_PATIENT)


def rows(n: int, **cells) -> list[dict]:
    out = []
    for i in range(1, n + 1):
        row = {k: ("" if v is None else v) for k, v in BASE_PATIENT.items()}
        row["patient_id"] = f"C{i:03d}"
        row.update(cells)
        out.append(row)
    return out


def csv_text(
    records: list[dict], columns: list[str] | None = None, delimiter: str = ",", newline: str = "\n"
) -> str:
    columns = columns or list(records[0])
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=columns,
        delimiter=delimiter,
        lineterminator=newline,
        extrasaction="ignore",
    )
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def with_row(n: int, index: int, **cells) -> str:
    records = rows(n)
    records[index].update(cells)
    return csv_text(records)


def build() -> dict[str, dict]:
    FILES.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2025)
    expected: dict[str, dict] = {}

    def fail(name: str, content: str | bytes, message: str, **extra: str) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        (FILES / name).write_bytes(data)
        expected[name] = {"exit": 1, "message": message, **extra}

    def quarantine(
        name: str, content: str | bytes, reasons: list[list[str]], valid: int, **extra: str
    ) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        (FILES / name).write_bytes(data)
        expected[name] = {"exit": 0, "reasons": reasons, "valid": valid, **extra}

    fail("empty.csv", b"", "file is empty")
    fail("header_only.csv", ",".join(COLUMNS) + "\n", "no data rows")
    fail("blank_first_line.csv", "\n\n" + csv_text(rows(2)), "first line is empty")
    fail(
        "binary_garbage.csv",
        bytes(rng.randrange(256) for _ in range(2048)) + b"\x00",
        "binary file",
    )
    fail("latin1.csv", csv_text(rows(3, site="Clínica Sur")).encode("latin-1"), "not UTF-8")
    fail("utf16.csv", csv_text(rows(3)).encode("utf-16"), "UTF-16")
    fail("semicolon_delimited.csv", csv_text(rows(3), delimiter=";"), "delimited by ';'")
    fail(
        "missing_required_column.csv",
        csv_text(rows(3), [c for c in COLUMNS if c != "birth_date"]),
        "missing required column(s): birth_date",
    )
    fail(
        "duplicated_column.csv",
        csv_text(rows(3)).replace("cancer_icd10\n", "sex\n", 1),
        "duplicated column(s) in the header: sex",
    )
    fail(
        "ragged_row.csv",
        csv_text(rows(5)) + "C006,female,extra" + ",x" * 40 + "\n",
        "not a well-formed CSV file",
    )
    fail(
        "unterminated_quote.csv",
        csv_text(rows(3)) + '"C004,female,1955-03-01\n',
        "not a well-formed CSV file",
    )
    fail(
        "dates_in_another_format.csv",
        csv_text(rows(30, birth_date="01/03/1955")),
        "column 'birth_date' breaks rule 'not_a_date' in 30 of 30 rows",
    )
    shifted = rows(30)
    for r in shifted:
        r["sex"], r["birth_date"] = r["birth_date"], r["sex"]
    fail("shifted_columns.csv", csv_text(shifted), "in 30 of 30 rows")
    fail(
        "all_ids_the_same.csv",
        csv_text(rows(20, patient_id="X1")),
        "column 'patient_id' breaks rule 'duplicate_patient_id'",
    )
    fail("not_a_spreadsheet.xls", csv_text(rows(2)), "unsupported file type '.xls'")
    fail("csv_named_parquet.parquet", csv_text(rows(2)), "cannot be read as Parquet")
    fail("csv_named_xlsx.xlsx", csv_text(rows(2)), "cannot be read as an .xlsx workbook")

    quarantine(
        "duplicate_ids.csv",
        with_row(4, 3, patient_id="C001"),
        [["patient_id", "duplicate_patient_id"]],
        2,
    )
    quarantine(
        "impossible_date.csv",
        with_row(3, 1, onset_date="2015-02-30"),
        [["onset_date", "not_a_date"]],
        2,
    )
    quarantine(
        "malformed_date.csv",
        with_row(3, 2, diagnosis_date="2015/09/01"),
        [["diagnosis_date", "not_a_date"]],
        2,
    )
    quarantine("negative_ck.csv", with_row(3, 0, ck_peak="-200"), [["ck_peak", "out_of_range"]], 2)
    quarantine(
        "non_numeric_ck.csv", with_row(3, 0, ck_peak="8,000 U/L"), [["ck_peak", "not_a_number"]], 2
    )
    quarantine("unknown_category.csv", with_row(3, 1, sex="femme"), [["sex", "not_allowed"]], 2)
    quarantine(
        "unknown_antibody_result.csv",
        with_row(3, 1, anti_srp="weak positive"),
        [["anti_srp", "not_allowed"]],
        2,
    )
    quarantine(
        "unknown_msa.csv",
        with_row(3, 1, other_msa="jo1;ro52"),
        [["other_msa", "unknown_antibody"]],
        2,
    )
    quarantine(
        "bad_boolean.csv",
        with_row(3, 1, statin_exposed="unknown"),
        [["statin_exposed", "not_a_boolean"]],
        2,
    )
    quarantine(
        "long_id_cell.csv",
        with_row(3, 1, patient_id="X" * 10_000),
        [["patient_id", "invalid_patient_id"]],
        2,
    )
    quarantine("long_extra_cell.csv", csv_text(rows(3, notes="n" * 10_000)), [], 3)
    quarantine(
        "formula_strings.csv",
        with_row(3, 1, patient_id='=HYPERLINK("http://example.invalid","x")', statin_name="=1+1"),
        [["statin_name", "not_allowed"]],
        2,
    )
    quarantine(
        "death_before_followup.csv",
        with_row(3, 2, death_date="2019-01-01"),
        [["death_date", "death_before_followup"]],
        2,
    )
    quarantine(
        "birth_after_onset.csv",
        with_row(3, 2, birth_date="2016-01-01"),
        [["birth_date", "birth_not_before_onset"]],
        2,
    )
    quarantine(
        "missing_required_value.csv", with_row(3, 2, sex=""), [["sex", "missing_required"]], 2
    )
    quarantine(
        "invalid_icd10.csv",
        with_row(3, 2, cancer_date="2017-01-01", cancer_icd10="breast cancer"),
        [["cancer_icd10", "invalid_icd10"]],
        2,
    )
    quarantine("byte_order_mark.csv", "\ufeff" + csv_text(rows(3)), [], 3)
    quarantine("crlf_line_ends.csv", csv_text(rows(3), newline="\r\n"), [], 3)
    quarantine(
        "spaces_and_case.csv",
        csv_text(rows(3, sex=" FEMALE ", anti_hmgcr="Positive ")).replace(
            "patient_id,", " Patient_ID ,", 1
        ),
        [],
        3,
    )
    hostile(fail, quarantine)
    from tests.corpus.make_readers import readers

    readers(fail, quarantine)
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return expected


#: A file name that would open a link in Markdown if it were not escaped.
INJECTION_NAME = "x`[click me](javascript:alert(1))`<img src=x onerror=alert(1)>.csv"


def hostile(fail, quarantine) -> None:  # type: ignore[no-untyped-def]
    """Files a careless or hostile export can bring: each must be refused in one line or
    read exactly (nothing shifted, renamed silently or lost)."""
    text = csv_text(rows(3))
    padding = csv_text(rows(3, notes="n" * 40_000))
    fail(
        "nul_after_64_kib.csv",
        padding.encode() + b"C009,female\x00,1955-03-01\n",
        "contains a NUL byte at offset",
    )
    quarantine("trailing_blank_rows.csv", text + ("," * (len(COLUMNS) - 1) + "\n") * 6, [], 3)
    quarantine(
        "case_colliding_extras.csv", csv_text(rows(3, site="a", Site="b", **{" site": "c"})), [], 3
    )
    quarantine(
        "blank_extra_headers.csv",
        text.replace("\n", ",,\n"),
        [],
        3,
    )
    reserved = {
        "row_number": "7",
        "quarantine_reasons": "none",
        "imnm_group": "hmgcr",
        "age_at_onset_years": "12",
        "criteria": "mine",
    }
    quarantine("reserved_extra_names.csv", csv_text(rows(3, **reserved)), [], 3)
    fail(
        "contract_column_twice_by_case.csv",
        text.replace("cancer_icd10\n", "Sex\n", 1),
        "duplicated column(s) in the header: sex",
    )
    edges = dict(
        birth_date="1677-09-22",
        onset_date="2262-04-09",
        diagnosis_date="2262-04-10",
        last_followup_date="2262-04-11",
        statin_start_date="1677-09-23",
        cancer_date="1677-09-23",
        cancer_icd10="C50.9",
    )
    quarantine("date_range_edges.csv", csv_text(rows(3, **edges)), [], 3)
    quarantine("born_1700.csv", with_row(3, 0, birth_date="1700-01-01"), [], 3)
    quarantine(
        "beyond_date_range.csv",
        with_row(3, 0, birth_date="1677-09-20"),
        [["birth_date", "date_out_of_range"]],
        2,
    )
    quarantine("name_injection.csv", text, [], 3)  # renamed to INJECTION_NAME by the test
    frame = pd.DataFrame(rows(3))
    for column in ("birth_date", "onset_date", "last_followup_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("Europe/Paris")
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    quarantine("timezone_aware_dates.parquet", buffer.getvalue(), [], 3)
    frame = pd.DataFrame(rows(3, notes="ok"))
    frame.loc[1, "notes"] = "bad\x00cell"
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    fail("nul_in_parquet_cell.parquet", buffer.getvalue(), "holds a NUL character")
    buffer = io.BytesIO()
    blank = pd.DataFrame([{c: None for c in COLUMNS}] * 5)
    pd.concat([pd.DataFrame(rows(3)), blank]).to_excel(buffer, index=False)
    from tests.corpus.make_readers import stable_xlsx

    quarantine("excel_trailing_blank_rows.xlsx", stable_xlsx(buffer.getvalue()), [], 3)


if __name__ == "__main__":
    print(f"wrote {len(build())} corpus files")
