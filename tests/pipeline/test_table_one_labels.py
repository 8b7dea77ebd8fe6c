"""Dates and identifiers never become Table 1 row labels: such a row is refused with exit 2
naming the column, whatever kind it declares and however many patients share a value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from imnm_cohort import synthesize, write_extract
from imnm_cohort.analysis import TableOneOptions, table_one
from imnm_cohort.analysis.table_spec import TableOneVariable
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import IMNM_GROUPS
from tests.pipeline.readers import run


def _frame(values: list) -> pd.DataFrame:
    groups = [IMNM_GROUPS[i % 3] for i in range(len(values))]
    return pd.DataFrame({"imnm_group": groups, "extra": pd.array(values, dtype="object")})


def _row(values: list, kind: str = "categorical") -> None:
    variable = TableOneVariable(
        "extra", "Extra", kind, test="chi2" if kind == "categorical" else "kruskal"
    )
    table_one(_frame(values), IMNM_GROUPS, TableOneOptions(variables=(variable,)))


@pytest.mark.parametrize(
    "date",
    [
        "2019-03-04", "04/03/2019", "3/4/2019", "04.03.2019", "2019-03-04 10:22",
        "2019-03-04T10:22:33Z", "4 Mar 2019", "March 4, 2019", "04/03/2019 10:22 PM",
    ],
)  # fmt: skip
def test_a_date_shared_by_many_patients_is_refused_in_any_common_format(date):
    values = [date] * 6 + ["site A"] * 10 + [None] * 4
    with pytest.raises(ConfigError, match=r"variable 'extra': its values read as dates"):
        _row(values)


def test_an_identifier_like_column_is_refused_and_a_real_category_is_not():
    ids = [f"MRN{i:05d}" for i in range(30)]
    with pytest.raises(ConfigError, match=r"variable 'extra' looks like an identifier"):
        _row(ids)
    _row(["Lyon", "Paris", "Nice"] * 10)  # three centres: shown as usual
    _row(["a", "b", "c", "d", "e", "f"])  # too few patients to tell: rare values pooled


def test_the_refusal_exits_2_naming_the_column(tmp_path: Path):
    frame = synthesize(60, seed=2)
    frame["visit"] = None
    frame.loc[:5, "visit"] = "2019-03-04"
    extract = write_extract(frame, tmp_path / "registry.csv")
    pipeline = tmp_path / "p.toml"
    pipeline.write_text(
        f'[input]\nextract = "{extract}"\n[output]\nroot = "o"\n'
        '[table_one]\nvariables = ["sex", { column = "visit", kind = "categorical" }]\n'
    )
    code, _, err = run("run", str(pipeline))
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("imnm-cohort: error")]
    assert len(errors) == 1 and "'visit'" in errors[0] and "dates" in errors[0]
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").glob("2*"))
