"""Text that Word and Excel files can hold.

``.docx`` and ``.xlsx`` files are XML 1.0, which cannot hold most ASCII control characters
(NUL, the vertical tab, the form feed, ...), lone surrogates or U+FFFE/U+FFFF; python-docx
and openpyxl raise on them. Text written by a person in a pipeline file is refused when the
file is read (``[report]`` and ``[table_one]`` labels, exit code 2). Text from the data (a
category value of an extra column, a file name) is written with each such character
replaced by U+FFFD, the replacement character, so that the cell shows that something was
there; tab, line feed and carriage return are kept.
"""

from __future__ import annotations

import re

#: The characters XML 1.0 does not allow.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def xml_text(value: object) -> str:
    """``value`` as text, each character that XML cannot hold replaced by U+FFFD."""
    return XML_ILLEGAL.sub(REPLACEMENT, str(value))


def first_illegal(text: str) -> str | None:
    """The first character of ``text`` that XML cannot hold, as ``U+XXXX``, or None."""
    found = XML_ILLEGAL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None
