"""Numbers as the reports show them: one rounding for HTML, Markdown and Word."""

from __future__ import annotations

from typing import Any


def num(value: Any, digits: int = 1) -> str:
    """A number for a table: withheld markers and text pass through, missing is a dash."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def pval(value: Any) -> str:
    """A p-value: three decimals, '<0.001' below."""
    if value is None or isinstance(value, str):
        return num(value)
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def p_text(value: Any) -> str:
    """'p = 0.123' or 'p < 0.001'."""
    text = pval(value)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def with_ci(value: Any, ci: Any, digits: int = 1, scale: float = 1.0, unit: str = "") -> str:
    """'value (lower to upper)', or the marker / dash."""
    if value is None or isinstance(value, str):
        return num(value)
    text = num(value * scale, digits) + unit
    if isinstance(ci, list | tuple) and len(ci) == 2 and None not in ci:
        text += f" ({num(ci[0] * scale, digits)} to {num(ci[1] * scale, digits)})"
    return text
