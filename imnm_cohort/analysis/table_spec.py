"""What Table 1 shows: its variables (rows), how each is summarised and tested, and the
missing-value convention. A pipeline's ``[table_one]`` section is read here.

Example::

    [table_one]
    missing = "row"          # missing values as their own row (default), or "exclude"
    smd = true               # standardized mean differences (default true)
    variables = [
        "age_at_onset_years",
        "sex",
        { column = "ck_peak", summary = "mean_sd" },
        { column = "site", label = "Centre", kind = "categorical" },
        { column = "bmi", label = "BMI (kg/m2)", kind = "continuous", test = "anova" },
    ]

A contract, derived or classifier column needs only its name: its label, kind, summary and
test have defaults. Any other (extra) column needs ``kind``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from imnm_cohort.classify.eular_acr import PREFIX as EULAR
from imnm_cohort.contracts.patients import EXTRACT_SCHEMA
from imnm_cohort.errors import ConfigError
from imnm_cohort.vocabulary import DAYS_PER_MONTH, VARIABLE_TITLES

KINDS = ("continuous", "categorical")
SUMMARIES = ("median_iqr", "mean_sd")
TESTS = {"continuous": ("kruskal", "anova", "none"), "categorical": ("chi2", "none")}
MISSING = ("row", "exclude")
#: A value of a free-text column (an extra column, a code) held by fewer patients than this
#: is never named in Table 1: such values are pooled into :data:`RARE_LEVEL`, so that an
#: identifier, a date or a rare code never reaches an aggregate output as a row label.
MIN_LEVEL_PATIENTS = 5
RARE_LEVEL = f"other values (each held by fewer than {MIN_LEVEL_PATIENTS} patients)"
VARIABLE_KEYS = ("column", "label", "kind", "summary", "test")
#: Collapse before suppress: where a level of one of these columns is held by 1 to
#: ``COLLAPSE_BELOW - 1`` patients in any column of Table 1, it is first merged with its
#: neighbours into one row (the levels listed, in the row of the first of them); disclosure
#: control then withholds the merged row only where it is still small. The one table of
#: neighbour merges: column -> ((levels merged, the merged row's label), ...).
NEIGHBOURS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "sex": ((("other", "unknown"), "other or unknown"),),
    "proximal_weakness": ((("none", "mild"), "none or mild"),),
    "weakness_course": ((("acute", "subacute"), "acute or subacute"),),
    "statin_name": (
        (
            ("cerivastatin", "fluvastatin", "lovastatin", "pitavastatin", "pravastatin"),
            "another statin",
        ),
    ),
}
COLLAPSE_BELOW = MIN_LEVEL_PATIENTS
#: An extra column is taken for an identifier, and refused as a categorical row, when at
#: least :data:`IDENTIFIER_MIN_PATIENTS` patients have a value and more than this share of
#: those values are different (a record number, a free-text comment, a timestamp).
IDENTIFIER_SHARE = 0.5
IDENTIFIER_MIN_PATIENTS = 2 * MIN_LEVEL_PATIENTS
#: The date formats a value is tried against (after any time of day is taken off): ISO,
#: day-first and month-first with ``/``, ``.`` or ``-``, two- or four-digit years, compact
#: ``YYYYMMDD`` and month names. A value that reads as a date from 1800 to 2200 in any of
#: them is a date.
DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d",
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%m.%d.%Y", "%d-%m-%Y", "%m-%d-%Y",
    "%d/%m/%y", "%m/%d/%y", "%d.%m.%y", "%d-%m-%y",
    "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y", "%d-%b-%y",
)  # fmt: skip
DATE_SAMPLE = 10_000
_TIME_OF_DAY = (
    r"(?:[ T]+\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:[.,]\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?"
    r"\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?)?$"
)


@dataclass(frozen=True)
class TableOneVariable:
    """One row of Table 1.

    Attributes
    ----------
    column : str
        The column (contract, derived, classifier or extra column).
    label : str
        The row's label.
    kind : str
        ``continuous`` or ``categorical``.
    summary : str
        ``median_iqr`` (median [Q1, Q3]) or ``mean_sd`` (mean (SD)); continuous only.
    test : str
        ``kruskal`` or ``anova`` (continuous), ``chi2`` (categorical: chi-square, or Fisher /
        permutation when expected counts are small), or ``none``.
    """

    column: str
    label: str
    kind: str
    summary: str = "median_iqr"
    test: str = "kruskal"


def _days_to_months(frame: pd.DataFrame) -> pd.Series:
    return (frame["diagnosis_date"] - frame["onset_date"]).dt.days / DAYS_PER_MONTH


#: Variables computed for Table 1 from other columns: name -> (label, function).
COMPUTED: dict[str, tuple[str, Callable[[pd.DataFrame], pd.Series]]] = {
    "onset_to_diagnosis_months": ("Onset to diagnosis (months)", _days_to_months),
}
_DERIVED = {
    **{
        v: VARIABLE_TITLES[v]
        for v in ("age_at_onset_years", "statin_latency_months", "followup_years")
    },
    f"{EULAR}_score_without_biopsy_min": "EULAR/ACR 2017 score without biopsy",
    f"{EULAR}_score_with_biopsy_min": "EULAR/ACR 2017 score with biopsy",
}
_CATEGORICAL = {
    f"{EULAR}_category": "EULAR/ACR 2017 IIM category",
    f"{EULAR}_basis": "EULAR/ACR 2017 score used",
    "criteria": "Criteria set",
}


#: Contract columns of free codes rather than a fixed vocabulary: a rare ICD-10 code or a
#: rare combination of antibodies can point at one patient, so their rare values are pooled
#: like an extra column's.
_FREE_CODE_KINDS = frozenset({"icd10", "msa_list"})


def pools_rare_values(column: str) -> bool:
    """Whether Table 1 pools the rare values of a column into :data:`RARE_LEVEL`: extra
    columns (their values come from the export) and contract columns of free codes."""
    if column in EXTRACT_SCHEMA.columns:
        return EXTRACT_SCHEMA.columns[column].metadata["kind"] in _FREE_CODE_KINDS
    return known_variable(column) is None


def _as_dates(text: pd.Series) -> pd.Series:
    """Whether each text reads as a date (with or without a time of day) in one of
    :data:`DATE_FORMATS`: vectorised, one pass per format."""
    day = text.str.replace(",", " ", regex=False).str.replace(r"\s+", " ", regex=True)
    day = day.str.replace(_TIME_OF_DAY, "", regex=True).str.strip()
    found = pd.Series(False, index=text.index)
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(day, format=fmt, errors="coerce")
        found |= parsed.notna() & parsed.dt.year.between(1800, 2200)
        if found.all():
            break
    return found


def refuse_dates_and_identifiers(column: str, values: pd.Series, kind: str) -> None:
    """Refuse a Table 1 row whose labels would be dates or identifiers.

    Any value that reads as a date (:data:`DATE_FORMATS`) makes the column a date, and a
    categorical row on an extra column with more than :data:`IDENTIFIER_SHARE` of its
    values different (at least :data:`IDENTIFIER_MIN_PATIENTS` patients with a value) is
    taken for an identifier: Table 1 never shows either, whatever kind the row declares.
    The toolkit's own vocabulary (sex, booleans, categories) is not checked.

    Raises
    ------
    ConfigError
        Naming the column (exit code 2).
    """
    if not pools_rare_values(column) or pd.api.types.is_numeric_dtype(values.dtype):
        return
    present = values.dropna()
    distinct = pd.Series(present.astype(str).str.strip().unique(), dtype="string")
    # A date column shows dates among its first values: a bounded sample keeps this fast.
    sample = distinct.iloc[:DATE_SAMPLE]
    dates = _as_dates(sample)
    if dates.any():
        raise ConfigError(
            f"[table_one] variable '{column}': its values read as dates (such as "
            f"{sample[dates].iloc[0]!r}); Table 1 never shows a date as a row label"
        )
    if (
        kind == "categorical"
        and column not in EXTRACT_SCHEMA.columns
        and len(present) >= IDENTIFIER_MIN_PATIENTS
        and len(distinct) > IDENTIFIER_SHARE * len(present)
    ):
        raise ConfigError(
            f"[table_one] variable '{column}' looks like an identifier ({len(distinct)} "
            f"different values among {len(present)} patients, more than "
            f"{IDENTIFIER_SHARE:.0%}); Table 1 never shows identifiers as row labels"
        )


def known_variable(column: str) -> TableOneVariable | None:
    """The default row for a column the toolkit knows (None for an extra column)."""
    if column in _DERIVED:
        return TableOneVariable(column, _DERIVED[column], "continuous")
    if column in COMPUTED:
        return TableOneVariable(column, COMPUTED[column][0], "continuous")
    if column in _CATEGORICAL:
        return TableOneVariable(column, _CATEGORICAL[column], "categorical", test="chi2")
    if column in EXTRACT_SCHEMA.columns:
        schema_column = EXTRACT_SCHEMA.columns[column]
        kind = schema_column.metadata["kind"]
        if kind in ("date", "id"):
            return None
        label = VARIABLE_TITLES.get(column, str(schema_column.title))
        if kind == "float":
            return TableOneVariable(column, label, "continuous")
        return TableOneVariable(column, label, "categorical", test="chi2")
    return None


def _defaults(*columns: str) -> tuple[TableOneVariable, ...]:
    return tuple(v for v in map(known_variable, columns) if v is not None)


#: Table 1 without a ``[table_one]`` section.
DEFAULT_VARIABLES = _defaults(
    "age_at_onset_years", "ck_peak", "followup_years", "onset_to_diagnosis_months",
    "sex", "statin_exposed", "dm_rash", "emg_myopathic", f"{EULAR}_category",
)  # fmt: skip


@dataclass(frozen=True)
class TableOneOptions:
    """The choices that shape Table 1.

    Attributes
    ----------
    variables : tuple of TableOneVariable
        The rows, in order (default :data:`DEFAULT_VARIABLES`).
    missing : str
        ``row``: missing values are a row of their own and stay in the denominator
        (default); ``exclude``: percentages are of the patients with a known value.
    smd : bool
        Add standardized mean differences between each pair of groups.
    """

    variables: tuple[TableOneVariable, ...] = DEFAULT_VARIABLES
    missing: str = "row"
    smd: bool = True

    def to_dict(self) -> dict[str, Any]:
        """As recorded in the manifest."""
        return {
            "missing": self.missing,
            "smd": self.smd,
            "variables": [vars(v) for v in self.variables],
        }


def table_one_options(raw: dict[str, Any], where: str) -> TableOneOptions:
    """Read a pipeline's ``[table_one]`` section.

    Parameters
    ----------
    raw : dict
        The section as parsed from TOML (keys ``variables``, ``missing``, ``smd``).
    where : str
        The pipeline file, for messages.

    Returns
    -------
    TableOneOptions

    Raises
    ------
    ConfigError
        One line naming the key and the problem.
    """
    unknown = sorted(set(raw) - {"variables", "missing", "smd"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key '{unknown[0]}' in [table_one]; known keys: "
            "variables, missing, smd"
        )
    missing = raw.get("missing", "row")
    if missing not in MISSING:
        raise ConfigError(
            f"{where}: [table_one] missing must be 'row' or 'exclude', not {missing!r}"
        )
    smd = raw.get("smd", True)
    if not isinstance(smd, bool):
        raise ConfigError(f"{where}: [table_one] smd must be true or false, not {smd!r}")
    given = raw.get("variables")
    if given is None:
        return TableOneOptions(missing=missing, smd=smd)
    if not isinstance(given, list) or not given:
        raise ConfigError(f"{where}: [table_one] variables must be a non-empty list")
    variables = [_variable(item, f"{where}: [table_one] variables[{i}]") for i, item in
                 enumerate(given)]  # fmt: skip
    seen: set[str] = set()
    for i, v in enumerate(variables):
        if v.column in seen:
            raise ConfigError(
                f"{where}: [table_one] variables[{i}]: column '{v.column}' is listed twice"
            )
        seen.add(v.column)
    return TableOneOptions(tuple(variables), missing, smd)


def _variable(item: Any, key: str) -> TableOneVariable:
    if isinstance(item, str):
        item = {"column": item}
    if not isinstance(item, dict):
        raise ConfigError(f"{key} must be a column name or a table with 'column'")
    unknown = sorted(set(item) - set(VARIABLE_KEYS))
    if unknown:
        raise ConfigError(
            f"{key}: unknown key '{unknown[0]}'; known keys: {', '.join(VARIABLE_KEYS)}"
        )
    for name, value in item.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{key}: {name} must be non-empty text, not {value!r}")
    if "column" not in item:
        raise ConfigError(f"{key}: 'column' is required")
    column = item["column"]
    if column in EXTRACT_SCHEMA.columns:
        schema_kind = EXTRACT_SCHEMA.columns[column].metadata["kind"]
        if schema_kind in ("id", "date"):
            what = "an identifier" if schema_kind == "id" else "a date"
            raise ConfigError(
                f"{key}: column '{column}' is {what}; Table 1 never shows identifiers or dates"
            )
    base = known_variable(column)
    kind = item.get("kind", base.kind if base else None)
    if kind is None:
        raise ConfigError(
            f"{key}: kind is required for column '{column}' (continuous or categorical)"
        )
    if kind not in KINDS:
        raise ConfigError(f"{key}: kind must be continuous or categorical, not {kind!r}")
    summary = item.get("summary", "median_iqr")
    if summary not in SUMMARIES:
        raise ConfigError(f"{key}: summary must be median_iqr or mean_sd, not {summary!r}")
    default_test = "anova" if summary == "mean_sd" else "kruskal"
    test = item.get("test", default_test if kind == "continuous" else "chi2")
    if test not in TESTS[kind]:
        raise ConfigError(
            f"{key}: test for a {kind} variable must be one of {', '.join(TESTS[kind])}, "
            f"not {test!r}"
        )
    default_label = base.label if base is not None and base.kind == kind else column
    label = str(item.get("label", default_label))
    return TableOneVariable(column, label, kind, summary, test)
