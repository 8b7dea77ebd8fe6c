"""The toolkit's shared names: groups, their labels, variable titles, time units, malignancy.

Every stage speaks of the same groups, columns and units. Their one home is here, at the
bottom of the package: this module imports nothing from ``imnm_cohort``, so any module may
import it without a cycle. Import them from here; the modules that once defined them no
longer carry them under their old names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and pandas are imported where used: the command line reads names
    import pandas as pd

#: The classification groups of contract v1, in the order of the decision procedure's outcomes.
GROUPS = (
    "hmgcr", "srp", "seronegative", "statin_toxic", "other_myositis", "not_imnm", "unclassified",
)  # fmt: skip
#: The three IMNM groups the analyses compare.
IMNM_GROUPS = ("hmgcr", "srp", "seronegative")
#: The groups whose patients the analyses read: the three IMNM groups, and statin_toxic for
#: the statin-latency comparison (hmgcr against statin_toxic, contract section 4). A run
#: whose rows stay in a database fetches these patients alone; the other groups are counted
#: there.
ANALYSED_GROUPS = (*IMNM_GROUPS, "statin_toxic")
#: ``DataFrame.attrs`` key of a classified frame whose rows were classified in a database:
#: the counts made there (``groups``, ``classification_reasons``) and what was fetched.
IN_DATABASE = "imnm_in_database"
#: The column of the classified frame that holds each patient's group.
GROUP_COLUMN = "imnm_group"

#: Columns validation adds to its patient-level files (quarantine; a mapping's export rows).
VALIDATION_COLUMNS = ("row_number", "quarantine_reasons", "export_rows")
#: Columns classification adds: the decision procedure's, then the derived columns
#: (``imnm_cohort.classify.procedure.OUTPUT_COLUMNS`` is this tuple).
CLASSIFICATION_COLUMNS = (
    GROUP_COLUMN, "criteria", "classification_reasons",
    "age_at_onset_years", "statin_latency_months", "followup_years",
)  # fmt: skip
#: The scored classifiers and the columns each adds, all named ``<name>_...``. The file
#: readers sit below the classifiers and must know these names, so they live here; each
#: classifier takes its columns from here, and a test checks them against what the
#: registry (``imnm_cohort.classify.registry.SCORED_CLASSIFIERS``) really adds.
SCORED_CLASSIFIER_COLUMNS: dict[str, tuple[str, ...]] = {
    "eular_acr_2017": (
        "eular_acr_2017_score_without_biopsy_min",
        "eular_acr_2017_score_without_biopsy_max",
        "eular_acr_2017_score_with_biopsy_min",
        "eular_acr_2017_score_with_biopsy_max",
        "eular_acr_2017_basis",
        "eular_acr_2017_category",
        "eular_acr_2017_category_max",
        "eular_acr_2017_missing",
    ),
}
SCORED_CLASSIFIER_NAMES = tuple(SCORED_CLASSIFIER_COLUMNS)
#: The criteria sets, the default first (``imnm_cohort.classify.available_criteria()``, checked
#: by a test): the command line's help lists them without importing the criteria.
CRITERIA_NAMES = ("tma2025", "enmc2017", "ehr2026")

#: Each group's name for people (reports, figures).
GROUP_LABELS = {
    "hmgcr": "anti-HMGCR",
    "srp": "anti-SRP",
    "seronegative": "seronegative",
    "statin_toxic": "toxic statin myopathy",
    "other_myositis": "other myositis",
    "not_imnm": "not IMNM",
    "unclassified": "unclassified",
}

#: Titles of the analysed variables in tables (with their units).
VARIABLE_TITLES = {
    "age_at_onset_years": "Onset age (years)",
    "ck_peak": "Peak CK (U/L)",
    "followup_years": "Follow-up (years)",
    "statin_latency_months": "Statin latency (months)",
    "sex": "Sex",
    "statin_exposed": "Statin exposed",
    "dm_rash": "Dermatomyositis rash",
    "emg_myopathic": "Myopathic EMG",
}
#: Names of the continuous variables in a sentence (methods text, no units).
VARIABLE_NAMES = {
    "age_at_onset_years": "Onset age",
    "ck_peak": "Peak creatine kinase",
    "followup_years": "Follow-up",
    "statin_latency_months": "Statin latency",
}

#: Contract section 2: years and months of the derived columns, in days.
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = 30.4375


def days_between(later: pd.Series, earlier: pd.Series) -> pd.Series:
    """Whole days from ``earlier`` to ``later`` as floats (missing where either is).

    Computed on day numbers, not nanosecond timestamps: two valid dates at the ends of the
    accepted range (1677-09-22 and 2262-04-11) are further apart than a nanosecond
    difference can hold, and must give a number rather than an overflow.
    """
    import numpy as np
    import pandas as pd

    a = np.asarray(later.to_numpy(dtype="datetime64[ns]"))
    b = np.asarray(earlier.to_numpy(dtype="datetime64[ns]"))
    # Integer floor division of nanoseconds: numpy's own cast to days overflows near 1677.
    per_day = np.int64(86_400_000_000_000)
    days = (a.view(np.int64) // per_day - b.view(np.int64) // per_day).astype(float)
    days[np.isnat(a) | np.isnat(b)] = np.nan
    return pd.Series(days, index=later.index)


def malignant_icd10(
    codes: pd.Series, *, exclude_c44: bool = False, include_in_situ: bool = False
) -> pd.Series:
    """Whether each ICD-10 code is a malignant neoplasm: chapter II, C00-C97.

    Only the letter and the first two digits are read (``C50.9`` and ``C509`` are C50);
    letters are read in either case.

    Parameters
    ----------
    codes : pandas.Series
        ICD-10 codes (text); missing values allowed.
    exclude_c44 : bool
        Leave out C44, other malignant neoplasms of skin (non-melanoma skin cancer).
    include_in_situ : bool
        Count D00-D09, in situ neoplasms, as well.

    Returns
    -------
    pandas.Series
        Boolean, on the index of ``codes``; False for a missing code or for text that is not
        an ICD-10 code.

    References
    ----------
    World Health Organization. ICD-10: International Statistical Classification of Diseases
    and Related Health Problems, 10th revision, chapter II (Neoplasms).
    """
    import numpy as np
    import pandas as pd

    # Read on the distinct codes only (a registry repeats a few hundred codes), then spread.
    text = codes if isinstance(codes.dtype, pd.StringDtype) else codes.astype("string")
    where, distinct = pd.factorize(text, use_na_sentinel=True)
    code = pd.Series(distinct, dtype="string").str.upper()
    letter = code.str.slice(0, 1)
    number = pd.to_numeric(code.str.slice(1, 3), errors="coerce")
    malignant = (letter == "C") & number.between(0, 97)
    if exclude_c44:
        malignant &= ~((letter == "C") & (number == 44))
    if include_in_situ:
        malignant |= (letter == "D") & number.between(0, 9)
    known = np.append(malignant.fillna(False).to_numpy(dtype=bool), False)  # -1: missing
    return pd.Series(known[where], index=codes.index, name=codes.name)
