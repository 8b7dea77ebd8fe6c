"""The hostile corpus, run against a site's mapping files, reference-rate files and a
configurable Table 1: one line and its exit code, or a correct result; nothing lost; no
identifier, date or rare value in an aggregate output; nothing from a user's file runs in
a report or a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort.analysis.table_spec import RARE_LEVEL
from imnm_cohort.cli import main
from imnm_cohort.pipeline.runfolder import LATEST
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
    rows = list(csv.DictReader(RATES.open()))
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
    assert code == 2 and len(lines) == 1 and "reference-rate file cannot be read" in lines[0]


def test_a_rate_file_name_and_source_are_inert_in_the_reports(tmp_path):
    rows = list(csv.DictReader(RATES.open()))
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
