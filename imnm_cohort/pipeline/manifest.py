"""``manifest.json``: what a run read, how it was set up, what it wrote and how long it took."""

from __future__ import annotations

import datetime as dt
import functools
import platform
import re
import tomllib
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path
from typing import Any

from imnm_cohort.classify.criteria import CriteriaSet
from imnm_cohort.contracts.patients import CONTRACT_VERSION
from imnm_cohort.disclosure.declarations import Declaration
from imnm_cohort.pipeline import runfolder
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.validation.events import EventTables
from imnm_cohort.validation.validate import ValidationResult

#: The toolkit's distribution name (``[project] name`` in ``pyproject.toml``).
DISTRIBUTION = "imnm-cohort"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _dependencies() -> tuple[str, ...]:
    """The toolkit's required dependencies by name, sorted: its installed metadata, which
    ``pyproject.toml``'s ``[project] dependencies`` writes (optional extras left out); from
    that file itself when the toolkit runs uninstalled from a source tree."""
    try:
        required = [r for r in requires(DISTRIBUTION) or () if not _is_extra(r)]
    except PackageNotFoundError:  # pragma: no cover - a source tree, not installed
        if not _PYPROJECT.is_file():
            return ()
        with _PYPROJECT.open("rb") as handle:
            required = tomllib.load(handle).get("project", {}).get("dependencies", [])
    names = {m[0] for r in required if (m := _NAME.match(r.strip()))}
    return tuple(sorted(names, key=str.lower))


def _is_extra(requirement: str) -> bool:
    """Whether a requirement belongs to an optional extra (``pytest; extra == "test"``)."""
    _, _, marker = requirement.partition(";")
    return "extra" in marker


#: Every required dependency, whose installed version the manifest records.
DEPENDENCIES = _dependencies()


@functools.cache
def package_version(name: str) -> str:
    """An installed package's version, or ``unknown``. Looked up once a process: each
    look-up reads the installed packages' metadata (a run asks about 30 times)."""
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def versions() -> dict[str, str]:
    """The toolkit's version and its dependencies'."""
    return {
        DISTRIBUTION: package_version(DISTRIBUTION),
        **{d: package_version(d) for d in DEPENDENCIES},
    }


def build_manifest(
    *,
    config: PipelineConfig,
    criteria: CriteriaSet,
    result: ValidationResult,
    published: dict[str, Any],
    run_name: str,
    started: dt.datetime,
    strict: bool,
    input_sha: str,
    withheld: list[str],
    undeclared: list[str],
    notes: list[str],
    previous: Path | None,
    folder: Path,
    files: list[Path],
    timings: dict[str, float],
    tables: EventTables | None = None,
) -> dict[str, Any]:
    """The run's manifest (aggregate: its row counts are the published summary's, the
    event tables' too, under ``tables`` when the run read any)."""
    counts = published["counts"]
    events = {"tables": _tables(tables, published)} if tables else {}
    return {
        "toolkit": {
            "name": DISTRIBUTION,
            "version": package_version(DISTRIBUTION),
            "extract_contract": CONTRACT_VERSION,
        },
        "run": {
            "name": run_name,
            "started_utc": started.isoformat(),
            "status": "rows_quarantined" if _any_quarantined(result, tables) else "ok",
            "strict": strict,
        },
        "python": platform.python_version(),
        "dependencies": {d: package_version(d) for d in DEPENDENCIES},
        "criteria": {"name": criteria.name, "citation": criteria.citation},
        "config": config.to_dict(),
        "input": {
            **config.input_source().describe(),
            "sha256": input_sha,
            **({"mapping": result.mapping} if result.mapping else {}),
        },
        "rows": {
            "input": counts["input_rows"],
            "valid": counts["valid_rows"],
            "quarantined": counts["quarantined_rows"],
            "classified": counts["valid_rows"],  # every valid row is classified
            **({"empty": counts["empty_rows"]} if "empty_rows" in counts else {}),
        },
        **events,
        "disclosure": {
            "min_cell_count": config.min_cell_count,
            "rounding": config.rounding,
            "withheld_count": len(withheld),
            "withheld": withheld,
            "undeclared": undeclared,
        },
        "notes": notes,
        "previous_run": previous.name if previous else None,
        "outputs": {str(p.relative_to(folder)): runfolder.sha256_of(p) for p in files},
        "timings_seconds": timings,
    }


def _any_quarantined(result: ValidationResult, tables: EventTables | None) -> bool:
    """Whether any row of the patient table or of an event table was quarantined."""
    checked = tables.tables.values() if tables is not None else ()
    return bool(result.quarantined_rows) or any(t.quarantined_rows for t in checked)


def _tables(tables: EventTables, published: dict[str, Any]) -> dict[str, Any]:
    """Each event table's source, SHA-256 and published counts of rows (its quarantine,
    ``<table>.quarantine.csv``, is among the outputs when the ``csv`` format is written)."""
    shown = published.get("tables", {})
    return {
        name: {
            **tables.descriptions.get(name, {}),
            "unit": tables[name].unit,
            "rows": {
                "input": shown[name]["input_rows"],
                "valid": shown[name]["valid_rows"],
                "quarantined": shown[name]["quarantined_rows"],
            },
        }
        for name in tables
    }


#: The manifest's numbers: settings, timings, and the summary's published counts.
MANIFEST_DISCLOSURE = Declaration(
    cleared=(
        ("run",),
        ("config",),
        ("rows",),
        ("disclosure",),
        ("timings_seconds",),
        ("tables",),  # the event tables' sources and their published counts of rows
        ("input",),  # where the input is: a REDCap project's size is the input's, as "rows"
    )
)
