"""``manifest.json``: what a run read, how it was set up, what it wrote and how long it took."""

from __future__ import annotations

import datetime as dt
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from imnm_cohort.classify.criteria import CriteriaSet
from imnm_cohort.extract.schema import CONTRACT_VERSION
from imnm_cohort.extract.validate import ValidationResult
from imnm_cohort.pipeline import runfolder
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.report.disclosure import suppress

DEPENDENCIES = (
    "pandas",
    "numpy",
    "scipy",
    "lifelines",
    "pandera",
    "pyarrow",
    "matplotlib",
    "jinja2",
    "python-docx",
    "openpyxl",
)


def package_version(name: str) -> str:
    """An installed package's version, or ``unknown``."""
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def versions() -> dict[str, str]:
    """The toolkit's version and its dependencies'."""
    return {
        "imnm-cohort": package_version("imnm-cohort"),
        **{d: package_version(d) for d in DEPENDENCIES},
    }


def row_counts(result: ValidationResult, min_cell_count: int) -> dict[str, Any]:
    """Rows per stage, with small counts withheld like the summary's."""
    rows = suppress(
        {
            "counts": {
                "input": result.input_rows,
                "valid": result.valid_rows,
                "quarantined": result.quarantined_rows,
            }
        },
        min_cell_count,
    ).data["counts"]
    # Every valid row is classified, so "classified" shows what "valid" shows.
    rows["classified"] = rows["valid"]
    return rows


def build_manifest(
    *,
    config: PipelineConfig,
    criteria: CriteriaSet,
    result: ValidationResult,
    run_name: str,
    started: dt.datetime,
    strict: bool,
    input_sha: str,
    withheld: list[str],
    previous: Path | None,
    folder: Path,
    files: list[Path],
    timings: dict[str, float],
) -> dict[str, Any]:
    """The run's manifest (aggregate: its row counts are disclosure-controlled)."""
    return {
        "toolkit": {
            "name": "imnm-cohort",
            "version": package_version("imnm-cohort"),
            "extract_contract": CONTRACT_VERSION,
        },
        "run": {
            "name": run_name,
            "started_utc": started.isoformat(),
            "status": "rows_quarantined" if result.quarantined_rows else "ok",
            "strict": strict,
        },
        "python": platform.python_version(),
        "dependencies": {d: package_version(d) for d in DEPENDENCIES},
        "criteria": {"name": criteria.name, "citation": criteria.citation},
        "config": config.to_dict(),
        "input": {
            "file": config.extract.name,
            "sha256": input_sha,
            **({"mapping": result.mapping} if result.mapping else {}),
        },
        "rows": row_counts(result, config.min_cell_count),
        "disclosure": {
            "min_cell_count": config.min_cell_count,
            "withheld_count": len(withheld),
            "withheld": withheld,
        },
        "previous_run": previous.name if previous else None,
        "outputs": {str(p.relative_to(folder)): runfolder.sha256_of(p) for p in files},
        "timings_seconds": timings,
    }
