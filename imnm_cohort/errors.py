"""The toolkit's errors: one hierarchy.

Library users catch :class:`ImnmCohortError` (or a subclass); the command line maps each
class to the exit code of the public contract in one place (``imnm_cohort.cli.EXIT_CODES``).
Every message is one line that names the file or setting and the problem.
"""

from __future__ import annotations


class ImnmCohortError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class ExtractError(ImnmCohortError):
    """A registry extract cannot be used at all (exit code 1; nothing is written).

    Raised for a missing, empty or unreadable file, a wrong encoding, a missing or duplicated
    required column, and for file-level problems (see :class:`FileLevelError`).
    """


class FileLevelError(ExtractError):
    """Most rows break the same rule: the file, not the rows, is wrong (exit code 1).

    Typical causes are a date column exported in another format or a shifted column.

    Attributes
    ----------
    column, rule : str
        The column and the stable rule code that most rows break.
    failing_rows, total_rows : int
        How many rows break it, out of how many.
    examples : tuple of str
        A few offending values.
    expected : str
        What the rule expects, in words (the date format, the allowed values).
    more : tuple of str
        The other columns and rules that most rows break, one phrase each: every
        file-level problem of a file is reported at once.
    source_column : str
        After a mapping, the export column that ``column`` came from.
    """

    def __init__(
        self,
        source: str,
        column: str,
        rule: str,
        failing_rows: int,
        total_rows: int,
        examples: tuple[str, ...],
        *,
        expected: str = "",
        more: tuple[str, ...] = (),
        source_column: str = "",
    ) -> None:
        self.source = source
        self.column = column
        self.rule = rule
        self.failing_rows = failing_rows
        self.total_rows = total_rows
        self.examples = examples
        self.expected = expected
        self.more = more
        self.source_column = source_column
        origin = f" (from '{source_column}')" if source_column and source_column != column else ""
        shown = ", ".join(repr(e) for e in examples)
        hint = f"; expected {expected}" if expected else ""
        others = "".join(f"; also {m}" for m in more)
        super().__init__(
            f"{source}: column '{column}'{origin} breaks rule '{rule}' in {failing_rows} of "
            f"{total_rows} rows (for example {shown}{hint}){others}; the file looks wrongly "
            "formatted or shifted, so no row was quarantined"
        )


class ConfigError(ImnmCohortError):
    """A usage or configuration error: unknown criteria set, bad pipeline file (exit code 2)."""


class UnknownCriteriaError(ConfigError, ValueError):
    """A criteria set name that the toolkit does not know; the message lists the known ones."""


class OutputError(ImnmCohortError):
    """The outputs cannot be written (a full disk, a file size limit): exit code 1.

    Nothing is published: the run's temporary folder and lock are removed and the earlier
    runs and ``latest`` stay as they were.
    """


class ReferenceRateError(ConfigError):
    """A reference-rate file (population rates for SIR and SMR) that cannot be used (exit code
    2); the message names the file, and the row and column where one is at fault."""


class RunLockedError(ImnmCohortError):
    """Another run is writing to the same output folder (exit code 4; nothing written)."""


class MappingError(ConfigError):
    """A mapping file that cannot be used (exit code 2).

    Every problem of the file is reported at once, in one line that names the file and,
    for each problem, the key.

    Attributes
    ----------
    path : Path
        The mapping file.
    problems : tuple of str
        One phrase per problem, each naming its key.
    """

    def __init__(self, path: object, problems: list[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(f"{path}: " + "; ".join(self.problems))


class ResponseMeasureError(ImnmCohortError, ValueError):
    """A core set measure that the myositis response criteria cannot use (exit code 1).

    Raised by :func:`imnm_cohort.total_improvement_score` and the other response functions
    of :mod:`imnm_cohort.analysis.response` when a measure is missing (absent, ``None`` or
    NaN) at baseline or follow-up, or outside its scale. A missing measure is never read as
    0; ``partial=True`` scores it 0 and marks the total as a lower bound instead.

    Attributes
    ----------
    reasons : tuple of str
        One stable code per problem, ``missing_<measure>_<visit>`` or
        ``out_of_range_<measure>_<visit>`` or ``not_numeric_<measure>_<visit>`` (visit
        ``baseline`` or ``followup``).
    """

    def __init__(self, what: str, reasons: tuple[str, ...]) -> None:
        self.reasons = reasons
        super().__init__(f"{what}: cannot be computed: " + "; ".join(_phrase(r) for r in reasons))


def _phrase(reason: str) -> str:
    """``missing_haq_followup`` -> ``'haq' is missing at followup``."""
    phrases = (
        ("missing_", "is missing"),
        ("out_of_range_", "is out of range"),
        ("not_numeric_", "is not a number"),
    )
    for prefix, words in phrases:
        if reason.startswith(prefix):
            measure, _, visit = reason[len(prefix) :].rpartition("_")
            return f"measure '{measure}' {words} at {visit}"
    return reason


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (at most 200 characters), or its type's name
    when it has none: what a one-line error quotes of a library's exception."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


#: What a message shows in place of a secret (a password).
HIDDEN = "***"


def quoted(exc: BaseException, secret: str | None = None, longest: int | None = 200) -> str:
    """What a one-line error quotes of a database driver's exception: its message with white
    space folded (its type's name when it has none), ``secret`` shown as ``***``, cut to
    ``longest`` characters (ending ``...``; None: not cut)."""
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if secret:
        detail = detail.replace(secret, HIDDEN)
    if longest is None or len(detail) <= longest:
        return detail
    return detail[: longest - 3] + "..."
