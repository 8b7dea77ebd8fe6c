"""The shared names: one home at the bottom of the package, and the malignant ICD-10 test."""

import ast
import inspect

import pandas as pd
import pytest

from imnm_cohort import vocabulary
from imnm_cohort.analysis import compare
from imnm_cohort.analysis.malignancy import MalignancyOptions, qualifying_cancer
from imnm_cohort.analysis.table_spec import DEFAULT_VARIABLES
from imnm_cohort.classify import derived, rules
from imnm_cohort.contracts import patients as schema
from imnm_cohort.report import figures, render
from imnm_cohort.vocabulary import VARIABLE_TITLES, malignant_icd10


def test_the_vocabulary_imports_nothing_from_the_package():
    tree = ast.parse(inspect.getsource(vocabulary))
    imported = [
        node.module or "" if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert not relative
    assert not [m for m in imported if m.split(".")[0] == "imnm_cohort"]


def test_the_old_names_are_gone_and_the_users_take_the_vocabulary_s():
    for module, name in [(rules, "GROUPS"), (rules, "IMNM_GROUPS"), (schema, "DAYS_PER_YEAR"),
                         (schema, "DAYS_PER_MONTH"), (figures, "LABELS")]:  # fmt: skip
        assert not hasattr(module, name), f"{module.__name__}.{name}"
    assert not {"DAYS_PER_YEAR", "DAYS_PER_MONTH"} & set(derived.__all__)
    assert compare.GROUP_COLUMN is vocabulary.GROUP_COLUMN == "imnm_group"
    assert compare.VARIABLE_NAMES is vocabulary.VARIABLE_NAMES
    assert vocabulary.DAYS_PER_YEAR == 365.25
    assert vocabulary.DAYS_PER_MONTH * 12 == vocabulary.DAYS_PER_YEAR


def test_every_group_has_a_label_and_the_imnm_groups_come_first():
    assert set(vocabulary.GROUP_LABELS) == set(vocabulary.GROUPS)
    assert vocabulary.GROUPS[: len(vocabulary.IMNM_GROUPS)] == vocabulary.IMNM_GROUPS
    assert render.label("hmgcr") == "anti-HMGCR"
    assert render.label("not_imnm") == "not IMNM"


def test_table_one_titles_come_from_the_vocabulary():
    titles = {v.column: v.label for v in DEFAULT_VARIABLES if v.column in VARIABLE_TITLES}
    assert len(titles) == 7
    assert titles == {v: vocabulary.VARIABLE_TITLES[v] for v in titles}


# Hand-worked from ICD-10 chapter II: C00-C97 malignant neoplasms (C44 other malignant
# neoplasms of skin), D00-D09 in situ neoplasms, D10-D36 benign.
CODES = ["C00", "C50.9", "c509", "C97", "C98", "C43.9", "C44.9", "D00", "D05.1", "D09.9", "D10",
         "E11.9", "Z85", "", "C", None]  # fmt: skip
DEFAULT = [True, True, True, True, False, True, True, False, False, False, False,
           False, False, False, False, False]  # fmt: skip


@pytest.mark.parametrize("dtype", [object, "string[pyarrow]"])
@pytest.mark.parametrize(
    ("exclude_c44", "include_in_situ", "changed"),
    [
        (False, False, {}),
        (True, False, {"C44.9": False}),
        (False, True, {"D00": True, "D05.1": True, "D09.9": True}),
        (True, True, {"C44.9": False, "D00": True, "D05.1": True, "D09.9": True}),
    ],
)
def test_malignant_icd10(dtype, exclude_c44, include_in_situ, changed):
    codes = pd.Series(CODES, dtype=dtype, index=range(10, 10 + len(CODES)))
    expected = [
        changed.get(c, d) if c is not None else d for c, d in zip(CODES, DEFAULT, strict=True)
    ]
    got = malignant_icd10(codes, exclude_c44=exclude_c44, include_in_situ=include_in_situ)
    assert got.dtype == bool
    assert got.index.equals(codes.index)
    assert got.tolist() == expected


def test_a_cancer_counts_by_the_options_and_a_date_without_a_code_counts():
    frame = pd.DataFrame(
        {
            "cancer_icd10": pd.Series(
                ["C44.9", "D05.1", "C50.9", None, "E11", None], dtype="string[pyarrow]"
            ),
            "cancer_date": pd.to_datetime(
                ["2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01", "2020-01-01", None]
            ),
        }
    )
    assert qualifying_cancer(frame, MalignancyOptions()).tolist() == [
        False, False, True, True, False, False,
    ]  # fmt: skip
    both = MalignancyOptions(exclude_c44=False, include_in_situ=True)
    assert qualifying_cancer(frame, both).tolist() == [True, True, True, True, False, False]
