"""Where a secret (a password, an API token) could leak from a run: every file it wrote,
and every member of the zip files among them (Word and Excel files)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path


def every_file(root: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file under ``root``, and every member of the zip files (docx, xlsx) in it."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        yield path, data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield path / name, z.read(name)


def holding(root: Path, secret: str) -> list[str]:
    """The files and zip members under ``root`` whose bytes hold ``secret``."""
    return [str(p) for p, data in every_file(root) if secret.encode() in data]
