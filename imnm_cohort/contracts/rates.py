"""The reference-rate file (contract v1.2) as a table contract.

Population rates for the SIR and SMR, one row per sex, age band, optional calendar period and
site (the format is in ``docs/reference-rates.md``). Each row is checked by
:func:`~imnm_cohort.validation.validate.validate_table` like every other table, so every bad
row is quarantined with every reason; the reader
(:func:`~imnm_cohort.analysis.rates.read_reference_rates`) then refuses a file with any
quarantined row, naming the first problem in the words below (exit code 2). Rules between
rows (overlapping bands) and the reading of the file stay with the reader.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from imnm_cohort.contracts.table import OrderRule, TableContract, allowed, column, whole_numbers

SEXES = ("female", "male", "all")
ALL_MALIGNANT, ALL_CAUSES = "all_malignant", "all_causes"
#: Bounds of a band (whole years of age; calendar years of the dates the toolkit reads) and of
#: a rate (one event per person-year): they keep the rate grid small and every number finite.
MAX_AGE = 150
YEARS = (1677, 2262)
MAX_RATE = 100_000
#: An ICD-10 range of three-character codes: ``C50``, ``C18-C20``.
SITE_RANGE = r"^([A-Z])(\d{2})(?:-([A-Z])(\d{2}))?$"
SITE_PATTERN = rf"^({ALL_MALIGNANT}|{ALL_CAUSES}|[A-Z]\d{{2}}(-[A-Z]\d{{2}})?)$"

#: The rule codes of the rows' checks.
NOT_WHOLE = "not_whole_number"


def _number(
    title: str,
    description: str,
    low: float,
    high: float,
    *,
    required: bool = False,
    whole: bool = True,
) -> pa.Column:
    checks = [pa.Check.in_range(low, high, error="out_of_range")]
    return column(
        "number",
        required=required,
        checks=[*checks, whole_numbers(NOT_WHOLE)] if whole else checks,
        title=title,
        description=description,
    )


def tidy_sites(typed: pd.DataFrame) -> pd.DataFrame:
    """Sites without spaces, keywords in lower case and ICD-10 ranges in upper case."""
    site = typed["site"].str.replace(" ", "", regex=False)
    lower = site.str.lower()
    keyword = lower.isin((ALL_MALIGNANT, ALL_CAUSES)).fillna(False).astype(bool)
    typed["site"] = site.str.upper().where(~keyword, lower)
    return typed


#: The reference-rate file: one row per band of sex, age, calendar period and site.
REFERENCE_RATES = TableContract(
    name="reference_rates",
    unit="rows",
    title="Reference rates, contract v1.2",
    description="Population rates per 100,000 person-years for the SIR and SMR.",
    columns={
        "sex": column(
            "category",
            required=True,
            checks=allowed(SEXES),
            title="Sex",
            description="female, male, or all (every patient, including other and unknown).",
        ),
        "age_from": _number(
            "First year of age", "First whole year of age of the band.", 0, MAX_AGE, required=True
        ),
        "age_to": _number(
            "Last year of age",
            "Last whole year of age of the band; empty: no upper limit.",
            0,
            MAX_AGE,
        ),
        "calendar_from": _number(
            "First calendar year", "First year of the period; empty: no lower limit.", *YEARS
        ),
        "calendar_to": _number(
            "Last calendar year", "Last year of the period; empty: no upper limit.", *YEARS
        ),
        "site": column(
            "string",
            required=True,
            checks=[pa.Check.str_matches(SITE_PATTERN, error="unknown_site")],
            title="Site",
            description="all_malignant, an ICD-10 range (C50, C18-C20) or all_causes.",
        ),
        "rate_per_100000": _number(
            "Rate per 100,000",
            "Events per 100,000 person-years.",
            0,
            MAX_RATE,
            required=True,
            whole=False,
        ),
        "source": column(
            "string",
            required=True,
            title="Source",
            description="Where the rate comes from (shown in the report).",
        ),
    },
    order_rules=(
        OrderRule("age_to_before_age_from", "age_to", "age_from", "age_to"),
        OrderRule(
            "calendar_to_before_calendar_from", "calendar_to", "calendar_from", "calendar_to"
        ),
    ),
    key=("sex", "age_from", "calendar_from", "site"),
    file_level=False,  # every bad row is named: the file is refused as a whole anyway
    prepare=tidy_sites,
)

#: The words of each rule, in the order the reader has always checked them: the first
#: problem of a file is the first of these that any row breaks (rule ``None``: any rule of
#: the column but whole numbers; column ``""``: any column).
RULE_WORDS: tuple[tuple[str, str | None, str], ...] = (
    ("sex", None, "must be female, male or all"),
    ("age_from", "not_a_number", "not a number"),
    ("age_from", None, f"must be from 0 to {MAX_AGE}"),
    ("age_to", "not_a_number", "not a number"),
    ("age_to", None, f"must be from age_from to {MAX_AGE}"),
    ("calendar_from", "not_a_number", "not a number"),
    ("calendar_to", "not_a_number", "not a number"),
    ("calendar_from", "out_of_range", f"must be from {YEARS[0]} to {YEARS[1]}"),
    ("calendar_to", "out_of_range", f"must be from {YEARS[0]} to {YEARS[1]}"),
    ("calendar_to", "calendar_to_before_calendar_from", "must be at least calendar_from"),
    ("", NOT_WHOLE, "ages and calendar years must be whole numbers"),
    ("rate_per_100000", "not_a_number", "not a number"),
    ("rate_per_100000", None, f"must be from 0 to {MAX_RATE:,}"),
    ("site", None, "must be all_malignant, all_causes or an ICD-10 range"),
    ("source", None, "must name where the rate comes from"),
)


def first_problem(reasons: pd.DataFrame) -> tuple[int, str, str, bool]:
    """The first problem of a rate file: the reason of the first rule of :data:`RULE_WORDS`
    that any row breaks, in its first row.

    Parameters
    ----------
    reasons : pandas.DataFrame
        The reasons of a validation of the file (``row_number``, ``column``, ``rule``).

    Returns
    -------
    row_number : int
    column : str
    words : str
        What the column must be.
    whole_file : bool
        True for a rule the reader has always stated of the whole file (whole numbers).
    """
    rank = pd.Series(len(RULE_WORDS), index=reasons.index)
    for i, (name, rule, _) in reversed(list(enumerate(RULE_WORDS))):
        hit = reasons["rule"].eq(rule) if rule is not None else reasons["rule"].ne(NOT_WHOLE)
        if name:
            hit &= reasons["column"].eq(name)
        rank = rank.where(~hit, i)
    ordered = reasons.assign(_rank=rank).sort_values(["_rank", "row_number"], kind="stable")
    first = ordered.iloc[0]
    at = int(first["_rank"])
    words = RULE_WORDS[at][2] if at < len(RULE_WORDS) else str(first["rule"])
    whole_file = at < len(RULE_WORDS) and RULE_WORDS[at][1] == NOT_WHOLE
    return int(first["row_number"]), str(first["column"]), words, whole_file
