"""The engine protocol: how validation and classification run over a source's rows.

An engine validates the rows of a :class:`~imnm_cohort.sources.base.Source` and classifies
the valid ones; every engine gives the same rows, reasons, warnings, groups and file-level
judgement (the spec tests run on each). ``classify`` and ``run`` choose an engine from
:data:`ENGINES`: ``in_memory`` (the default), ``batched`` (``--batch-rows``) or, for a
source kept in a database, ``database`` (:func:`engine_for_source`). A new engine
is one module with a class that follows :class:`Engine` and one line that registers it::

    ENGINES["my_engine"] = MyEngine
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from imnm_cohort.classify.criteria import CriteriaSet
    from imnm_cohort.sources.base import Source
    from imnm_cohort.validation.validate import ValidationResult


@runtime_checkable
class Engine(Protocol):
    """Validates a source and classifies its valid rows.

    Attributes
    ----------
    name : str
        The key it is registered under in :data:`ENGINES`.
    """

    @property
    def name(self) -> str:
        """The key it is registered under."""
        ...

    def validate(self, source: Source) -> ValidationResult:
        """Read and validate every row of ``source`` (a mapped export: one row per patient).

        Raises
        ------
        ExtractError
            The source cannot be used, or most of its rows break one rule.
        """
        ...

    def classify(self, result: ValidationResult, criteria: CriteriaSet) -> pd.DataFrame:
        """The valid rows of ``result`` with the classification columns (contract section 2)."""
        ...


#: An engine factory: ``factory(batch_rows)``; ``batch_rows`` is None unless asked for.
EngineFactory = Callable[[int | None], Engine]

#: The registry of engines, by name.
ENGINES: dict[str, EngineFactory] = {}
#: The package's own engines, imported when first asked for.
_BUILT_IN = {
    "in_memory": "imnm_cohort.engines.in_memory",
    "batched": "imnm_cohort.engines.batched",
    "duckdb": "imnm_cohort.engines.duckdb",
    "database": "imnm_cohort.engines.database",
}


def engine_names() -> list[str]:
    """The names of every engine: the package's own (registered when first asked for) and
    any registered by hand in :data:`ENGINES`, in that order."""
    return [*_BUILT_IN, *(name for name in ENGINES if name not in _BUILT_IN)]


def engine_for_source(source: Source, batch_rows: int | None = None) -> Engine:
    """The engine a run uses for ``source`` when none is asked for: for a source that keeps
    its rows in a database (:class:`~imnm_cohort.sources.base.TableSource`), the engine its
    ``[input] engine`` names (``database`` by default); otherwise :func:`engine_for`
    (``batched`` with ``batch_rows``, else ``in_memory``)."""
    from imnm_cohort.sources.base import TableSource

    wanted = getattr(source, "engine", None)
    if batch_rows is None and isinstance(wanted, str) and isinstance(source, TableSource):
        return engine_for(name=wanted)
    return engine_for(batch_rows)


def engine_for(batch_rows: int | None = None, name: str | None = None) -> Engine:
    """The engine named ``name``; without one, ``batched`` when ``batch_rows`` is given and
    ``in_memory`` otherwise.

    Raises
    ------
    ValueError
        An unknown engine name, or ``batch_rows`` below 1.
    """
    if batch_rows is not None and batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    chosen = name or ("batched" if batch_rows is not None else "in_memory")
    if chosen not in ENGINES and chosen in _BUILT_IN:  # registers itself when imported
        import_module(_BUILT_IN[chosen])
    if chosen not in ENGINES:
        raise ValueError(f"unknown engine {chosen!r}; choose one of: {', '.join(engine_names())}")
    return ENGINES[chosen](batch_rows)
