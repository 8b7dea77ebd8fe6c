"""Make text that does not come from the toolkit inert in Markdown.

File names, column names, category values and reason values come from the user's data:
in Markdown, each ASCII punctuation character that could open a link, an image, a code
span, emphasis, an HTML tag or a table cell is escaped with a backslash (CommonMark allows
escaping any ASCII punctuation), and line breaks become spaces. HTML output is escaped by
its template engine (autoescaping); HTML written outside a template (the manuscript
tables) goes through :func:`html_text`.
"""

from __future__ import annotations

import html
import re
from typing import Any

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&$])")


def md_text(value: Any) -> str:
    """Any value as inert Markdown text (shown as written)."""
    text = " ".join(str(value).splitlines())
    return _SPECIAL.sub(r"\\\1", text)


def html_text(value: Any) -> str:
    """Any value as inert HTML text: ``&``, ``<``, ``>`` and both quotes escaped."""
    return html.escape(str(value), quote=True)
