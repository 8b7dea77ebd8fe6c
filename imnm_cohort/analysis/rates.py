"""Reference rates (contract v1.2): population incidence and mortality rates for SIR and SMR.

A reference-rate file is a CSV (UTF-8, header row), one row per sex, age band, optional
calendar period and site:

========================  ========  =====================================================
column                    required  meaning
========================  ========  =====================================================
``sex``                   yes       ``female``, ``male`` or ``all``
``age_from``              yes       first whole year of age in the band (e.g. 40)
``age_to``                no        last whole year of age in the band (44 for "40-44");
                                    empty: no upper limit ("85+")
``calendar_from``         no        first calendar year of the period (e.g. 2010); empty
                                    or absent column: no lower limit
``calendar_to``           no        last calendar year of the period (2014); empty or
                                    absent: no upper limit
``site``                  yes       ``all_malignant`` (the cancers the analysis counts),
                                    an ICD-10 range of three-character codes (``C50``,
                                    ``C18-C20``), or ``all_causes`` (deaths: the SMR)
``rate_per_100000``       yes       events per 100,000 person-years, >= 0
``source``                yes       where the rate comes from (shown in the report)
========================  ========  =====================================================

Bands are inclusive in whole years, as printed in registry tables: ``40, 44`` covers exact
ages from 40 up to (not including) 45. For one site, no two rows may cover the same sex,
age and period. Person-time that no row covers is left out of both observed and expected
counts and reported as such.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from imnm_cohort.contracts.rates import ALL_CAUSES as ALL_CAUSES
from imnm_cohort.contracts.rates import ALL_MALIGNANT as ALL_MALIGNANT
from imnm_cohort.contracts.rates import REFERENCE_RATES, SEXES, SITE_RANGE, first_problem
from imnm_cohort.errors import ConfigError, ReferenceRateError
from imnm_cohort.settings_files import RATES_MAX_BYTES, check_settings_file
from imnm_cohort.validation.validate import TableValidation, validate_table

REQUIRED = REFERENCE_RATES.required
OPTIONAL = tuple(c for c in REFERENCE_RATES.columns if c not in REQUIRED)
_RANGE = re.compile(SITE_RANGE)


@dataclass(frozen=True)
class ReferenceRates:
    """A validated reference-rate table.

    Attributes
    ----------
    name : str
        The file's name (for the report).
    path : str
        The file as given (for error messages).
    table : pandas.DataFrame
        One row per band: ``sex``, ``age_lo``, ``age_hi`` (exact years, half-open,
        ``inf`` when open), ``year_lo``, ``year_hi`` (calendar years, half-open, +-inf when
        open), ``site``, ``rate_per_100000``, ``source``.
    """

    name: str
    path: str
    table: pd.DataFrame = field(repr=False)

    def digest(self) -> str:
        """A short hash of the rates (not of the file's name or place)."""
        text = self.table.to_csv(index=False)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def sites(self) -> tuple[str, ...]:
        """The sites in file order."""
        return tuple(dict.fromkeys(self.table["site"]))

    @property
    def sources(self) -> tuple[str, ...]:
        """The distinct sources, in file order."""
        return tuple(dict.fromkeys(self.table["source"]))

    def age_breaks(self) -> np.ndarray:
        """Every finite band edge of age, in years, sorted."""
        return _edges(self.table, "age_lo", "age_hi")

    def year_breaks(self) -> np.ndarray:
        """Every finite band edge of calendar time, in years, sorted."""
        return _edges(self.table, "year_lo", "year_hi")

    def grid(self, site: str) -> np.ndarray:
        """Rates per person-year of ``site`` as an array [sex, age cell, year cell].

        Sex index 0 female, 1 male, 2 other or unknown (covered only by ``all`` rows). Age
        cell ``k`` is ``[b[k-1], b[k])`` of :meth:`age_breaks` ``b`` (cell 0 below the first
        edge), likewise for calendar years. NaN where no row gives a rate.
        """
        ages, years = self.age_breaks(), self.year_breaks()
        rows = self.table[self.table["site"] == site]
        out = np.full((3, len(ages) + 1, len(years) + 1), np.nan)
        age_lo, age_hi = _cells(ages)
        year_lo, year_hi = _cells(years)
        sex = rows["sex"].to_numpy(dtype=str)
        lo_age, hi_age = rows["age_lo"].to_numpy(float), rows["age_hi"].to_numpy(float)
        lo_year, hi_year = rows["year_lo"].to_numpy(float), rows["year_hi"].to_numpy(float)
        rate = rows["rate_per_100000"].to_numpy(float) / 100_000
        line = rows.index.to_numpy() + 1
        for i in range(len(rows)):  # one step per band of the table, not per patient
            sexes = np.array([0, 1, 2] if sex[i] == "all" else [SEXES.index(sex[i])])
            a = np.flatnonzero((age_lo >= lo_age[i]) & (age_hi <= hi_age[i]))
            y = np.flatnonzero((year_lo >= lo_year[i]) & (year_hi <= hi_year[i]))
            cells = np.ix_(sexes, a, y)
            if np.isfinite(out[cells]).any():
                raise ReferenceRateError(
                    f"{self.path}: site {site}: the band of row {line[i]} "
                    f"({sex[i]}, age {lo_age[i]:g}+) overlaps another row"
                )
            out[cells] = rate[i]
        return out


def _edges(table: pd.DataFrame, lo: str, hi: str) -> np.ndarray:
    values = np.concatenate([table[lo].to_numpy(float), table[hi].to_numpy(float)])
    return np.unique(values[np.isfinite(values)])


def _cells(breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.r_[-np.inf, breaks], np.r_[breaks, np.inf]


def site_codes(site: str, code: pd.Series) -> np.ndarray:
    """Whether each ICD-10 code falls in an ICD-10 range site such as ``C18-C20``."""
    match = _RANGE.match(site)
    if match is None:
        raise ValueError(f"not an ICD-10 range: {site!r}")
    first = match.group(1) + match.group(2)
    last = (match.group(3) or match.group(1)) + (match.group(4) or match.group(2))
    head = code.astype("string").str.upper().str.slice(0, 3)
    return ((head >= first) & (head <= last)).fillna(False).to_numpy(dtype=bool)


def read_reference_rates(path: str | Path) -> ReferenceRates:
    """Read and check a reference-rate file (contract v1.2).

    Parameters
    ----------
    path : str or Path
        The CSV file (format in ``docs/reference-rates.md`` and this module's docstring).

    Returns
    -------
    ReferenceRates

    Raises
    ------
    ReferenceRateError
        For a missing or unreadable file, a missing column, or a bad value; the message is
        one line naming the file, the row (1-based, below the header) and the column of the
        first problem, and how many rows have problems when there are several.
    """
    checked = validate_reference_rates(path)
    path = Path(checked.source)
    if checked.quarantined_rows:
        row, column, words, whole_file = first_problem(checked.reasons)
        if whole_file:
            message = f"{path}: {words}"
        else:
            value = checked.quarantine.loc[checked.quarantine["row_number"] == row, column].iloc[0]
            value = "" if pd.isna(value) else str(value).strip()
            message = f"{path}: row {row}, column '{column}': {words} (found {value!r})"
        if checked.quarantined_rows > 1:
            message += f" ({checked.quarantined_rows} rows in all break a rule)"
        raise ReferenceRateError(message)
    valid = checked.valid

    def number(column: str, empty: float) -> np.ndarray:
        return valid[column].fillna(empty).to_numpy(dtype=float)

    table = pd.DataFrame(
        {
            "sex": valid["sex"].to_numpy(dtype=object),
            "age_lo": number("age_from", np.nan),
            "age_hi": number("age_to", np.inf) + 1,
            "year_lo": number("calendar_from", -np.inf),
            "year_hi": number("calendar_to", np.inf) + 1,
            "site": valid["site"].to_numpy(dtype=object),
            "rate_per_100000": number("rate_per_100000", np.nan),
            "source": valid["source"].to_numpy(dtype=object),
        }
    )
    rates = ReferenceRates(path.name, str(path), table)
    for s in rates.sites:
        rates.grid(s)  # refuses overlapping bands now, before any analysis runs
    return rates


def validate_reference_rates(path: str | Path) -> TableValidation:
    """Read a reference-rate file and validate its rows against
    :data:`~imnm_cohort.contracts.rates.REFERENCE_RATES`, every bad row quarantined with
    every reason.

    Parameters
    ----------
    path : str or Path
        The CSV file.

    Returns
    -------
    TableValidation
        Counts in rows; ``source`` is the file's path.

    Raises
    ------
    ReferenceRateError
        For a file that cannot be read as a table: missing, unreadable, empty, a row with
        more fields than the header, a missing required column.
    """
    try:
        path = check_settings_file(path, "reference-rate file", RATES_MAX_BYTES)
    except ConfigError as exc:  # a device, a FIFO, a folder or a file over the limit
        raise ReferenceRateError(str(exc)) from None
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ReferenceRateError(f"{path}: reference-rate file not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ReferenceRateError(f"{path}: reference-rate file cannot be read ({reason})") from None
    except pd.errors.EmptyDataError:
        raise ReferenceRateError(f"{path}: reference-rate file is empty") from None
    if not isinstance(raw.index, pd.RangeIndex):
        raise ReferenceRateError(f"{path}: some rows have more fields than the header")
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ReferenceRateError(f"{path}: reference-rate file lacks column '{missing[0]}'")
    if raw.empty:
        raise ReferenceRateError(f"{path}: reference-rate file has no rows")
    return validate_table(raw, REFERENCE_RATES, str(path))
