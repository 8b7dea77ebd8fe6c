"""A site's own export read through a mapping file: a source that wraps any source.

The wrapped source gives the export's cells under the export's own column names
(``read_export``, read with the mapping's ``[source]`` settings); the mapping turns them into
a section-1 extract, one row per patient. Nothing here validates: validation takes the mapped
extract, the mapping's own reasons and the export rows of each patient
(:func:`~imnm_cohort.validation.load.load_input`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.mapping.apply import MappedExport, MappedTable, apply_mapping, apply_tables
from imnm_cohort.mapping.spec import MappingSpec, load_mapping
from imnm_cohort.sources.base import Source, slices

if TYPE_CHECKING:
    import pandas as pd

    from imnm_cohort.sources.files import SourceOptions


class ExportSource(Source, Protocol):
    """A source that can also give its cells under its own column names, read with a
    mapping's ``[source]`` settings (:class:`~imnm_cohort.sources.files.FileSource`)."""

    def read_export(self, options: SourceOptions) -> pd.DataFrame:
        """The cells as text under the source's own header, index 0..n-1."""
        ...


@dataclass(frozen=True)
class MappedSource:
    """An export and the mapping file that turns it into an extract.

    Attributes
    ----------
    source : ExportSource
        The site's export.
    mapping : Path or MappingSpec
        The mapping file (contract section 5), or one already read.
    """

    source: Source
    mapping: Path | MappingSpec

    @property
    def kind(self) -> str:
        """The wrapped source's kind."""
        return self.source.kind

    @property
    def name(self) -> str:
        """The wrapped source's name."""
        return self.source.name

    @property
    def label(self) -> str:
        """The wrapped source's label."""
        return self.source.label

    def fingerprint(self) -> str:
        """The export's fingerprint (the manifest records the mapping file apart)."""
        return self.source.fingerprint()

    def describe(self) -> dict[str, Any]:
        """The export's description."""
        return self.source.describe()

    def spec(self) -> MappingSpec:
        """The mapping, read and checked.

        Raises
        ------
        MappingError
            The mapping file cannot be used (exit code 2).
        """
        return self.mapping if isinstance(self.mapping, MappingSpec) else load_mapping(self.mapping)

    def mapped(self) -> tuple[MappingSpec, MappedExport]:
        """Check the mapping file, read the export with its settings and map it.

        Raises
        ------
        MappingError
            The mapping file cannot be used (exit code 2).
        ExtractError
            The export cannot be read, or has no data rows.
        ConfigError
            The wrapped source cannot give an export's cells.
        """
        spec = self.spec()
        return spec, apply_mapping(self._export(spec), spec)

    def tables(self) -> tuple[MappingSpec, dict[str, MappedTable]]:
        """Check the mapping file, read the export and fill its ``[tables.NAME]`` event
        tables (contract section 6); none when the mapping names none.

        Raises
        ------
        MappingError, ExtractError, ConfigError
            As :meth:`mapped`.
        """
        spec = self.spec()
        if not spec.tables:
            return spec, {}
        return spec, apply_tables(self._export(spec), spec)

    def _export(self, spec: MappingSpec) -> pd.DataFrame:
        """The export's cells, read with the mapping's ``[source]`` settings."""
        read_export = getattr(self.source, "read_export", None)
        if read_export is None:
            raise ConfigError(
                f"{self.name}: a source of kind {self.kind!r} cannot be read through a mapping"
            )
        raw = read_export(spec.source_options())
        if len(raw) == 0:
            raise ExtractError(f"{self.name}: has a header but no data rows")
        return raw

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The mapped extract (every patient the mapping could read, before validation)."""
        extract = self.mapped()[1].extract
        return extract if columns is None else extract[list(columns)]

    def batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """The mapped extract in slices (a mapping combines each patient's rows, so the
        whole export is read first)."""
        return slices(self.read(), rows)
