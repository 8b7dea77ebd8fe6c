"""What the self-check reports: findings, its outcome, and the error that stops a run."""

from __future__ import annotations

from dataclasses import dataclass

from imnm_cohort.errors import ImnmCohortError


class DisclosureLeakError(ImnmCohortError):
    """The self-check got a withheld value back from the outputs (exit code 1; nothing
    is published)."""


@dataclass(frozen=True)
class Finding:
    """One withheld value that the outputs give back.

    Attributes
    ----------
    output : str
        The file (``summary.json``, ``figures/survival.svg``).
    path : str
        Where in it (a dotted path, or a figure's curve).
    reason : str
        How it comes back.
    """

    output: str
    path: str
    reason: str

    def line(self) -> str:
        """The finding in one line."""
        return f"{self.output}: {self.path}: {self.reason}"


@dataclass(frozen=True)
class SelfCheck:
    """The outcome of the self-check.

    Attributes
    ----------
    findings : tuple of Finding
    variables, relations, solves : int
        The size of the integer system and the integer programs it took.
    """

    findings: tuple[Finding, ...]
    variables: int = 0
    relations: int = 0
    solves: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing withheld came back."""
        return not self.findings

    def raise_if_leaks(self) -> None:
        """Raise :class:`DisclosureLeakError` naming the first finding.

        Raises
        ------
        DisclosureLeakError
        """
        if self.findings:
            more = len(self.findings) - 1
            extra = f" (and {more} more)" if more else ""
            raise DisclosureLeakError(
                f"disclosure self-check: {self.findings[0].line()}{extra}; nothing was published"
            )
