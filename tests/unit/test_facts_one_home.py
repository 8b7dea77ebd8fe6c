"""Facts written once: reserved columns, defaults, file suffixes and dependencies each have
one home, and every other module takes them from there."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

import imnm_cohort
from imnm_cohort import classify, load_extract, vocabulary
from imnm_cohort.classify.criteria import DEFAULT_CRITERIA
from imnm_cohort.classify.procedure import OUTPUT_COLUMNS
from imnm_cohort.classify.registry import SCORED_CLASSIFIERS
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.io.tables import TABLE_SUFFIXES
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.pipeline.manifest import DEPENDENCIES, _is_extra, versions
from imnm_cohort.sources.files import (
    BATCHED_SUFFIXES,
    READERS,
    RESERVED_COLUMNS,
    SOURCE_FILES,
    is_reserved,
)
from tests.corpus.cohorts import patients, write_csv

PACKAGE = Path(imnm_cohort.__file__).parent
ROOT = PACKAGE.parent


def _code_nodes() -> list[tuple[str, ast.AST]]:
    """Every node of every module of the package, with the module's path; docstrings left out."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        rel = str(path.relative_to(ROOT))
        found += [(rel, node) for node in ast.walk(tree) if id(node) not in docstrings]
    return found


CODE = _code_nodes()


# --------------------------------------------------------------------------- reserved columns


def test_reserved_columns_are_every_column_validation_and_the_registries_add(tmp_path):
    result = load_extract(write_csv(patients({"hmgcr": 3, "srp": 2}), tmp_path / "x.csv"))
    classified = classify(result.valid)
    added = [c for c in classified.columns if c not in result.valid.columns]
    scored = [c for c in added if c not in OUTPUT_COLUMNS]
    assert list(RESERVED_COLUMNS) == [*vocabulary.VALIDATION_COLUMNS, *OUTPUT_COLUMNS, *scored]
    for name, classifier in SCORED_CLASSIFIERS.items():
        assert vocabulary.SCORED_CLASSIFIER_COLUMNS[name] == tuple(
            classifier.classify(classified).columns
        )
    assert tuple(SCORED_CLASSIFIERS) == vocabulary.SCORED_CLASSIFIER_NAMES
    assert "eular_acr_2017_category" in RESERVED_COLUMNS


def test_an_extract_with_every_reserved_column_is_read_under_the_extract_prefix(tmp_path):
    taken = {f" {name.upper()} ": "x" for name in RESERVED_COLUMNS}
    path = write_csv([{**r, **taken} for r in patients({"hmgcr": 3})], tmp_path / "x.csv")
    result = load_extract(path)
    assert result.valid_rows == 3
    assert {f"extract. {n.upper()} " for n in RESERVED_COLUMNS} <= set(result.valid.columns)
    assert all(is_reserved(name) for name in taken)
    assert classify(result.valid).columns.is_unique


# --------------------------------------------------------------------------- defaults


def test_a_pipeline_without_classification_or_disclosure_takes_the_defaults(tmp_path):
    (tmp_path / "x.csv").write_text("patient_id\n1\n")
    (tmp_path / "p.toml").write_text('[input]\nextract = "x.csv"\n')
    config = load_pipeline(tmp_path / "p.toml")
    assert (config.criteria, config.min_cell_count) == (DEFAULT_CRITERIA, DEFAULT_MIN_COUNT)
    # The contract's defaults (contract v1, sections 2 and 4).
    assert (DEFAULT_CRITERIA, DEFAULT_MIN_COUNT) == ("tma2025", 5)


def test_the_default_criteria_name_is_written_once():
    places = [
        rel for rel, node in CODE if isinstance(node, ast.Constant) and node.value == "tma2025"
    ]
    # The set's definition, and the light list of names the command line's help shows
    # without importing pandas (checked against the registry in tests/cli/test_startup.py).
    assert places == ["imnm_cohort/classify/criteria.py", "imnm_cohort/vocabulary.py"]


def test_no_minimum_count_default_is_written_beside_default_min_count():
    names = re.compile(r"min_(cell_)?count$")

    def literal(value: ast.AST | None) -> bool:
        return any(isinstance(n, ast.Constant) and type(n.value) is int for n in ast.walk(value))

    written = []
    for rel, node in CODE:
        pairs: list[tuple[str, ast.AST | None]] = []
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            pairs.append((node.target.id, node.value))
        elif isinstance(node, ast.Assign):
            pairs += [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.keyword) and node.arg:
            pairs.append((node.arg, node.value))
        elif isinstance(node, ast.Dict):
            pairs += [
                (k.value, v)
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        elif isinstance(node, ast.arguments):
            args = [*node.posonlyargs, *node.args]
            defaults = [None] * (len(args) - len(node.defaults)) + list(node.defaults)
            pairs += [(a.arg, d) for a, d in zip(args, defaults, strict=True)]
            pairs += [(a.arg, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True)]
        written += [
            (rel, name) for name, value in pairs if names.search(name) and value and literal(value)
        ]
    assert written == []


# --------------------------------------------------------------------------- file suffixes

SUFFIX = re.compile(r"^\.(csv|tsv|txt|xlsx|xlsm|xls|parquet|pq|sav|zsav|por|dta|sas7bdat|xpt)$")
#: Modules that may write a suffix: the two tables, and two reasons given in the module.
SUFFIX_HOMES = {
    "imnm_cohort/sources/files.py",  # every suffix the toolkit reads
    "imnm_cohort/io/tables.py",  # the suffixes of the tables it writes
    "imnm_cohort/synth.py",  # after checking TABLE_SUFFIXES: Parquet, else CSV
    "imnm_cohort/synth_redcap.py",  # a REDCap export is a CSV file by definition
    "imnm_cohort/synth_omop/write.py",  # an OMOP folder is one Parquet file per table
}


def test_file_suffixes_are_written_only_in_their_homes():
    places = {
        rel
        for rel, node in CODE
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and SUFFIX.match(node.value.lower())
    }
    assert places <= SUFFIX_HOMES
    assert {"imnm_cohort/sources/files.py", "imnm_cohort/io/tables.py"} <= places


def test_the_source_table_gives_every_reader_and_the_batched_suffixes():
    assert set(READERS) == set(SOURCE_FILES)
    assert {".csv", ".parquet", ".pq", ".xlsx", ".sav", ".zsav", ".dta"} == set(SOURCE_FILES)
    assert set(BATCHED_SUFFIXES) == {".csv", ".parquet", ".pq"}
    assert set(TABLE_SUFFIXES) <= set(BATCHED_SUFFIXES)


# --------------------------------------------------------------------------- dependencies


def test_the_manifest_lists_every_dependency_of_pyproject_sorted():
    with (ROOT / "pyproject.toml").open("rb") as handle:
        required = tomllib.load(handle)["project"]["dependencies"]
    names = {re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r)[0] for r in required}
    assert set(DEPENDENCIES) == names
    assert "pyreadstat" in DEPENDENCIES
    assert list(DEPENDENCIES) == sorted(DEPENDENCIES, key=str.lower)
    assert list(versions()) == ["imnm-cohort", *DEPENDENCIES]


@pytest.mark.parametrize(
    ("requirement", "extra"),
    [("pandas>=2.2", False), ('pytest>=8; extra == "test"', True),
     ("tomli; python_version < '3.11'", False)],
)  # fmt: skip
def test_only_optional_extras_are_left_out(requirement, extra):
    assert _is_extra(requirement) is extra
