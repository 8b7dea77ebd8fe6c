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
    """

    def __init__(
        self,
        source: str,
        column: str,
        rule: str,
        failing_rows: int,
        total_rows: int,
        examples: tuple[str, ...],
    ) -> None:
        self.source = source
        self.column = column
        self.rule = rule
        self.failing_rows = failing_rows
        self.total_rows = total_rows
        self.examples = examples
        shown = ", ".join(repr(e) for e in examples)
        super().__init__(
            f"{source}: column '{column}' breaks rule '{rule}' in {failing_rows} of "
            f"{total_rows} rows (for example {shown}); the file looks wrongly formatted "
            "or shifted, so no row was quarantined"
        )


class ConfigError(ImnmCohortError):
    """A usage or configuration error: unknown criteria set, bad pipeline file (exit code 2)."""


class UnknownCriteriaError(ConfigError, ValueError):
    """A criteria set name that the toolkit does not know; the message lists the known ones."""


class RunLockedError(ImnmCohortError):
    """Another run is writing to the same output folder (exit code 4; nothing written)."""
