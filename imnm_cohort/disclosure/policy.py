"""The governance applied to aggregate outputs: a minimum cell count, optionally with
rounding (contract section 4: counts from 1 up to the minimum less one are withheld)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeGuard

__all__ = ["DEFAULT_MIN_COUNT", "Policy"]

DEFAULT_MIN_COUNT = 5


@dataclass(frozen=True)
class Policy:
    """The governance applied: a minimum cell count, optionally with rounding.

    Attributes
    ----------
    min_count : int
        0 turns disclosure control off.
    rounding : int
        0 (threshold policy) or the base counts are rounded to (rounding policy).
    """

    min_count: int = DEFAULT_MIN_COUNT
    rounding: int = 0

    def __post_init__(self) -> None:
        if self.min_count < 0 or self.rounding < 0:
            raise ValueError("min_count and rounding must be 0 or more")

    @property
    def active(self) -> bool:
        """Whether any value is ever withheld."""
        return self.min_count > 0 or self.rounding > 0

    @property
    def marker(self) -> str:
        """The text shown for a small count."""
        if self.rounding:
            return f"<={self.min_count}"
        return f"<{self.min_count}"

    def is_small(self, value: Any) -> bool:
        """Whether a count is withheld for being small."""
        if _is_int(value) and value > 0:
            return value <= self.min_count if self.rounding else value < self.min_count
        return False

    def shown(self, value: int) -> int | str:
        """A count as published: the marker, the rounded count or the count."""
        if self.is_small(value):
            return self.marker
        if self.rounding:
            return int(self.rounding * math.floor(value / self.rounding + 0.5))
        return value


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
