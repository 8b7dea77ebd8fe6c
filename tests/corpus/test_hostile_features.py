"""The hostile corpus, run against a site's mapping files, reference-rate files and a
configurable Table 1: one line and its exit code, or a correct result; nothing lost; no
identifier, date or rare value in an aggregate output; nothing from a user's file runs in
a report or a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort import classify, classify_in_batches, load_extract, vocabulary
from imnm_cohort.analysis.table_spec import RARE_LEVEL
from imnm_cohort.classify import SCORED_CLASSIFIERS, procedure
from imnm_cohort.cli import main
from imnm_cohort.contracts.coerce import NUMBER_PATTERN, decimal_point_text
from imnm_cohort.contracts.hints import expected
from imnm_cohort.contracts.patients import PARSE_RULES
from imnm_cohort.pipeline.runfolder import LATEST
from imnm_cohort.report.labels import RULE_WORDS
from imnm_cohort.sources.files import (
    CELL_PROBLEMS,
    RESERVED_COLUMNS,
    SourceOptions,
    is_reserved,
    read_source,
)
from tests.corpus.cohorts import patients, write_csv
from tests.corpus.test_hostile_runs import live_formulas, pipeline, run

DATA = Path(__file__).parents[2] / "imnm_cohort" / "data"
RATES = DATA / "illustrative_rates.csv"
LINK = "[x](javascript:alert(1))<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://example.invalid","x")'


def aggregate_text(folder: Path) -> str:
    return "".join((folder / n).read_text() for n in ("summary.json", "report.md", "report.html"))


def office_text(folder: Path) -> str:
    """Every cell of the Excel and Word tables, and whether any is a live formula."""
    import docx
    import openpyxl

    cells = [c for ws in openpyxl.load_workbook(folder / "tables.xlsx") for r in ws.iter_rows()
             for c in r]  # fmt: skip
    assert not [c.value for c in cells if c.data_type == "f"]
    assert not [v for c in cells if isinstance(v := c.value, str) and re.match(r"^[=+@]", v)]
    document = docx.Document(str(folder / "tables.docx"))
    words = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return " ".join([*(str(c.value) for c in cells), *words])


# --------------------------------------------------------------------------- Table 1


@pytest.fixture(scope="module")
def cohort_with_identifiers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = patients({"hmgcr": 11, "srp": 2, "seronegative": 5})
    for i, row in enumerate(rows):
        row.update(
            mrn=f"MRN{i:04d}",
            visit=f"2020-01-{1 + i:02d}",
            centre="Lyon" if i < 15 else "Nice",
            code=f"AB{100 + i // 3}",  # six codes, three patients each
        )
    return write_csv(rows, tmp_path_factory.mktemp("t1") / "ids.csv")


@pytest.mark.parametrize("column", ["patient_id", "birth_date", "cancer_date"])
def test_table_one_refuses_an_identifier_or_a_date_before_any_work(tmp_path, column):
    rows = patients({"hmgcr": 6})
    path = pipeline(
        tmp_path,
        write_csv(rows, tmp_path / "x.csv"),
        table_one={"variables": f'[{{ column = "{column}", kind = "categorical" }}]'},
    )
    code, _, lines = run("run", str(path))
    assert code == 2 and len(lines) == 1
    assert f"column '{column}' is a" in lines[0] and "never shows identifiers or dates" in lines[0]
    assert not (tmp_path / "out").exists()


def test_table_one_never_names_a_value_fewer_than_five_patients_hold(
    tmp_path, cohort_with_identifiers
):
    label = f"{LINK} {FORMULA}".replace('"', '\\"')
    variables = (
        f'[{{ column = "code", kind = "categorical", label = "{label}" }}, '
        '{ column = "centre", kind = "categorical" }]'
    )
    path = pipeline(
        tmp_path,
        cohort_with_identifiers,
        table_one={"variables": variables, "missing": '"exclude"'},
    )
    formats = 'formats = ["html", "md", "json", "csv", "xlsx", "docx"]\n'
    path.write_text(path.read_text().replace("[table_one]", formats + "[table_one]", 1))
    code, _, lines = run("run", str(path))
    assert code == 0, lines
    folder = tmp_path / "out" / LATEST
    text = aggregate_text(folder) + office_text(folder)
    assert not re.search(r"MRN\d|2020-01-|[A-Z]{2}\d{3}", text)
    summary = pd.read_json(folder / "summary.json", typ="series")
    levels = {r["variable"]: r["levels"] for r in summary["table_one"]["rows"]}
    assert levels == {"code": [RARE_LEVEL], "centre": ["Lyon", RARE_LEVEL]}
    # The user's label is shown, inert: escaped in Markdown and HTML.
    md = (folder / "report.md").read_text()
    assert "\\[x\\]\\(javascript:alert\\(1\\)\\)\\<img" in md and "[x](" not in md
    html = (folder / "report.html").read_text()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    ("column", "message"),
    [("mrn", "looks like an identifier"), ("visit", "its values read as dates")],
)
def test_table_one_refuses_a_row_of_identifiers_or_dates_even_if_pooling_would_hide_them(
    tmp_path, cohort_with_identifiers, column, message
):
    # Pooling hides values fewer than 5 patients hold, not a date 5 patients share: a
    # column of dates or identifiers is refused outright, whatever kind it declares.
    variables = f'[{{ column = "{column}", kind = "categorical" }}]'
    path = pipeline(tmp_path, cohort_with_identifiers, table_one={"variables": variables})
    code, _, lines = run("run", str(path))
    assert code == 2 and len(lines) == 1
    assert f"variable '{column}'" in lines[0] and message in lines[0]


# --------------------------------------------------------------------------- reference rates


def rates_file(folder: Path, name: str = "rates.csv", **change: str) -> Path:
    """The illustrative rates with the first row's cells changed."""
    with RATES.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0].update(change)
    path = folder / name
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rate_per_100000": "inf"}, "column 'rate_per_100000': must be from 0 to 100,000"),
        ({"rate_per_100000": "nan"}, "column 'rate_per_100000': not a number"),
        ({"rate_per_100000": "1e400"}, "column 'rate_per_100000': not a number"),
        ({"rate_per_100000": "-3"}, "column 'rate_per_100000': must be from 0 to 100,000"),
        ({"age_from": "inf", "age_to": "inf"}, "column 'age_from': must be from 0 to 150"),
        ({"age_to": "1e12"}, "column 'age_to': must be from age_from to 150"),
        ({"calendar_from": "-1e15"}, "column 'calendar_from': must be from 1677 to 2262"),
        ({"calendar_to": "inf"}, "column 'calendar_to': must be from 1677 to 2262"),
        ({"age_to": "39"}, "overlaps another row"),
    ],
)
def test_a_rate_file_out_of_bounds_is_one_line_exit_2(tmp_path, change, message):
    rates = rates_file(tmp_path, **change)
    extract = write_csv(patients({"hmgcr": 6}), tmp_path / "x.csv")
    path = pipeline(tmp_path, extract, analysis={"reference_rates": f'"{rates}"'})
    code, _, lines = run("run", str(path))
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_a_rate_file_that_is_a_folder_is_one_line_exit_2(tmp_path):
    (tmp_path / "rates.csv").mkdir()
    extract = write_csv(patients({"hmgcr": 6}), tmp_path / "x.csv")
    path = pipeline(tmp_path, extract, analysis={"reference_rates": f'"{tmp_path / "rates.csv"}"'})
    code, _, lines = run("run", str(path))
    assert code == 2 and len(lines) == 1 and "is a folder, not a reference-rate file" in lines[0]


def test_a_rate_file_name_and_source_are_inert_in_the_reports(tmp_path):
    with RATES.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    name = f"r{LINK}.csv"
    rates = tmp_path / name
    with rates.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**r, "source": f"{FORMULA} {LINK}"} for r in rows)
    extract = write_csv(patients({"hmgcr": 12, "seronegative": 6}), tmp_path / "x.csv")
    path = pipeline(tmp_path, extract, analysis={"reference_rates": f"'{rates}'"})
    code, _, lines = run("run", str(path))
    assert code == 0, lines
    md = (tmp_path / "out" / LATEST / "report.md").read_text()
    assert "[x](" not in md and not re.search(r"(?<!\\)<img", md)
    html = (tmp_path / "out" / LATEST / "report.html").read_text()
    assert "<img src=x" not in html


# --------------------------------------------------------------------------- mapping files

EXPORT = pd.read_csv(DATA / "redcap_export.csv", dtype=str, keep_default_na=False).head(40)
MAPPING = (DATA / "redcap_export.mapping.toml").read_text()


def map_export(folder: Path, export: pd.DataFrame, mapping: str = MAPPING) -> tuple[int, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    export.to_csv(folder / "export.csv", index=False)
    (folder / f"m{LINK}.toml").write_text(mapping)
    code, _, lines = run(
        "map",
        str(folder / "export.csv"),
        "--mapping",
        str(folder / f"m{LINK}.toml"),
        "-o",
        str(folder / "extract.csv"),
    )
    assert code == 0, lines
    return code, folder / "extract.csv"


def test_a_number_made_infinite_by_its_unit_is_quarantined_not_mapped(tmp_path):
    export = EXPORT.copy()
    first = export["record_id"].iloc[0]
    export.loc[0, "ck"] = "1e308"  # x 60 for ukat/L: beyond any float
    mapping = MAPPING.replace('unit = "U/L"', "").replace(
        'ck_peak = { from = "ck", combine = "max" }',
        'ck_peak = { from = "ck", combine = "max", unit = "ukat/L" }',
    )
    _, extract = map_export(tmp_path, export, mapping)
    quarantine = pd.read_csv(tmp_path / "extract.quarantine.csv", dtype=str)
    assert quarantine["patient_id"].tolist() == [first]
    assert "ck_peak" in quarantine["quarantine_reasons"].iloc[0]
    assert "not_a_number" in quarantine["quarantine_reasons"].iloc[0]
    assert "inf" not in pd.read_csv(extract, dtype=str)["ck_peak"].str.lower().tolist()


HOSTILE_CELLS = [
    FORMULA,
    "=+SUM(1,2)",
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "1e400",
    "1.234,5",
    "1677-09-21",
    "2262-04-12",
    "",
    " ",
    "x" * 5000,
    LINK,
]
COLUMNS = [
    "record_id",
    "sex",
    "dob",
    "ck",
    "visit_date",
    "ca_date",
    "ca_icd10",
    "hmgcr_ab",
    "msa___1",
]


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    breaks=st.lists(
        st.tuples(st.integers(0, 39), st.sampled_from(COLUMNS), st.sampled_from(HOSTILE_CELLS)),
        min_size=1,
        max_size=12,
    )
)
@pytest.mark.slow
def test_a_hostile_export_loses_nothing_and_writes_no_live_formula(tmp_path, breaks):
    export = EXPORT.copy()
    for row, column, value in breaks:
        export.loc[row, column] = value
    folder = tmp_path / str(abs(hash(tuple(breaks))))
    _, extract = map_export(folder, export)
    valid = pd.read_csv(extract, dtype=str, keep_default_na=False)
    quarantine = pd.read_csv(folder / "extract.quarantine.csv", dtype=str, keep_default_na=False)
    quarantined = quarantine["export_rows"].str.split(";").explode()
    quarantined = quarantined[quarantined != ""].astype(int)
    assert quarantined.is_unique
    # Rows of valid patients: the export rows whose id a valid patient carries.
    ids = export["record_id"].str.strip()
    written = valid["patient_id"].str.removeprefix("'")
    rows_of_valid = int((ids.isin(written) & (ids != "")).sum())
    assert rows_of_valid + len(quarantined) == len(export)
    assert live_formulas(extract) == [] and live_formulas(folder / "extract.quarantine.csv") == []
    out = io.StringIO()
    code = main(["validate", str(extract), "-o", str(folder / "v")], stdout=out, stderr=out)
    assert "Traceback" not in out.getvalue() and code in (0, 1)


# --------------------------------------------------------------------------- source readers

NFC_ID, NFD_ID = (unicodedata.normalize(form, "Zoë-7") for form in ("NFC", "NFD"))


def test_an_id_is_read_in_nfc_so_canonically_equivalent_ids_are_one_patient(tmp_path):
    rows = patients({"hmgcr": 3})
    rows[1]["patient_id"] = NFD_ID
    result = load_extract(write_csv(rows, tmp_path / "x.csv"))
    assert result.valid_rows == 3
    assert result.valid["patient_id"].iloc[1] == NFC_ID != NFD_ID


def test_nfc_and_nfd_ids_in_different_batches_are_one_patient(tmp_path):
    rows = patients({"hmgcr": 6})
    rows[0]["patient_id"], rows[5]["patient_id"] = NFC_ID, NFD_ID
    result = classify_in_batches(write_csv(rows, tmp_path / "x.csv"), tmp_path / "c.csv",
                                 batch_rows=2)  # fmt: skip
    assert sorted(result.quarantine["row_number"]) == [1, 6]
    assert set(result.reasons["rule"]) == {"duplicate_patient_id"}


def test_reserved_names_are_the_classifier_registry_s():
    assert procedure.OUTPUT_COLUMNS == vocabulary.CLASSIFICATION_COLUMNS
    assert tuple(SCORED_CLASSIFIERS) == vocabulary.SCORED_CLASSIFIER_NAMES
    assert set(vocabulary.CLASSIFICATION_COLUMNS) <= set(RESERVED_COLUMNS)


def test_every_column_classify_adds_is_reserved_and_an_extra_of_that_name_is_kept(tmp_path):
    taken = {"eular_acr_2017_category": "definite", "EULAR_ACR_2017_Missing": "x"}
    path = write_csv([{**r, **taken} for r in patients({"hmgcr": 3})], tmp_path / "x.csv")
    result = load_extract(path)
    classified = classify(result.valid)
    added = [c for c in classified.columns if c not in result.valid.columns]
    assert added and all(is_reserved(c) for c in added)
    assert classified.columns.is_unique
    assert classified["extract.eular_acr_2017_category"].tolist() == ["definite"] * 3
    assert classified["extract.EULAR_ACR_2017_Missing"].tolist() == ["x"] * 3
    assert set(classified["eular_acr_2017_category"].astype(str)) <= {
        "not_iim", "possible", "probable", "definite"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("5.000", None),  # German 5,000 U/L, never 5 U/L
        ("1.234,5", None),
        ("1.234.567", None),
        (".5", None),
        ("133,5", 133.5),
        ("5000", 5000.0),
        (",5", 0.5),
        ("-1,5e3", -1500.0),
        ("1,2,3", None),
    ],
)
def test_a_decimal_comma_never_reads_a_thousands_point(cell, number):
    text = decimal_point_text(pa.chunked_array([[cell]]), ",")
    ok = re.fullmatch(NUMBER_PATTERN, text[0].as_py()) is not None
    assert ok == (number is not None)
    if ok:
        assert float(text[0].as_py()) == number


def test_a_decimal_point_leaves_the_text_alone():
    text = pa.chunked_array([["5.000", "1,5"]])
    assert decimal_point_text(text, ".") is text


def test_a_workbook_that_unpacks_too_far_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from imnm_cohort.sources import xlsx

    path = tmp_path / "x.xlsx"
    pd.DataFrame(patients({"hmgcr": 3})).to_excel(path, index=False)
    assert load_extract(path).valid_rows == 3
    monkeypatch.setattr(xlsx, "MAX_UNPACKED_BYTES", 4096)
    code, _, lines = run("validate", str(path))
    assert code == 1 and len(lines) == 1
    assert "unpacks to" in lines[0] and "more than the 4,096 an .xlsx extract may hold" in lines[0]


def test_a_spreadsheet_s_problems_reach_a_mapping_by_column_and_row(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["record_id", "hmgcr_ab", "ck"])
    sheet.append(["A1", "#DIV/0!", "=B2*2"])
    sheet.append(["A2", "#N/A", 1200])
    book.save(tmp_path / "export.xlsx")
    raw = read_source(tmp_path / "export.xlsx", SourceOptions(required=()))
    assert raw.attrs[CELL_PROBLEMS] == (
        (0, "hmgcr_ab", "spreadsheet_error", "#DIV/0!"),
        (0, "ck", "formula_without_value", "=B2*2"),
        (1, "hmgcr_ab", "spreadsheet_error", "#N/A"),
    )
    assert raw["hmgcr_ab"].tolist() == ["#DIV/0!", "#N/A"]  # never an empty cell


def test_a_wide_integer_keeps_every_digit_when_read_as_text(tmp_path):
    table = pa.table({"record_id": pa.array([2**53 + 1, None, 2**63 - 1], pa.int64())})
    pq.write_table(table, tmp_path / "x.parquet")
    raw = read_source(tmp_path / "x.parquet", SourceOptions(required=()))
    assert raw["record_id"].tolist()[::2] == [str(2**53 + 1), str(2**63 - 1)]


@pytest.mark.parametrize(
    ("column", "array", "message"),
    [
        ("notes", pa.array([[1], [2], [3]] * 2), "column 'notes' holds list values"),
        ("patient_id", pa.array([b"\xff"] * 6, pa.binary()), "bytes that are not UTF-8 text"),
    ],
)
def test_batched_parquet_reading_refuses_in_one_line(tmp_path, column, array, message):
    frame = pd.DataFrame(patients({"hmgcr": 6}))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if column in table.column_names:
        table = table.set_column(table.column_names.index(column), column, array)
    else:
        table = table.append_column(column, array)
    pq.write_table(table, tmp_path / "x.parquet")
    code, _, lines = run(
        "classify", str(tmp_path / "x.parquet"), "--batch-rows", "2", "-o", str(tmp_path / "c.csv")
    )
    assert code == 1 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.parametrize(
    "rule", ["date_out_of_range", "spreadsheet_error", "formula_without_value"]
)
def test_every_new_reader_rule_has_words(rule):
    assert rule in PARSE_RULES and rule in RULE_WORDS
    assert expected("onset_date", rule)
    if rule == "date_out_of_range":
        assert "1677-09-22 to 2262-04-11" in PARSE_RULES[rule]
        assert expected("onset_date", rule) == "dates from 1677-09-22 to 2262-04-11"
