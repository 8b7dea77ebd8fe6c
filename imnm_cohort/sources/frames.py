"""A frame already in memory as a source: rows an analyst built, or a test's rows.

Not a pipeline ``[input] kind`` (a pipeline file cannot hold a frame); it lets an engine
(:mod:`imnm_cohort.engines`) validate and classify a frame as it would a file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from imnm_cohort.sources.base import slices


@dataclass(frozen=True)
class FrameSource:
    """A frame of text cells, as :func:`~imnm_cohort.sources.files.read_extract` gives.

    Attributes
    ----------
    frame : pandas.DataFrame
        The rows (not modified).
    name : str
        How messages name it.
    """

    frame: pd.DataFrame = field(repr=False)
    name: str = "<frame>"
    kind: str = "frame"

    @property
    def label(self) -> str:
        """The name."""
        return self.name

    def fingerprint(self) -> str:
        """SHA-256 of the column names and pandas' hash of every row."""
        digest = hashlib.sha256("\x1f".join(map(str, self.frame.columns)).encode())
        rows = pd.util.hash_pandas_object(self.frame.astype(object), index=False)
        digest.update(rows.to_numpy().tobytes())
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        """``{"kind": "frame", "name": ..., "rows": ...}``."""
        return {"kind": self.kind, "name": self.name, "rows": len(self.frame)}

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The frame (or the given columns of it)."""
        return self.frame if columns is None else self.frame[list(columns)]

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """Slices of ``rows`` rows."""
        return slices(self.frame, rows)
