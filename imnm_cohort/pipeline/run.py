"""Run a pipeline: validate, classify, analyse, suppress, render, and publish a run folder.

Outputs (contract section 4), in one folder per run under the output root:
``report.html``, ``report.md`` (figures in ``figures/``), ``summary.json`` and
``changes.json`` (aggregate, disclosure-controlled), ``classified.csv`` and
``quarantine.csv`` (patient-level), and ``manifest.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from imnm_cohort.analysis.cohort import AnalysisProgress, CohortAnalysis, analyse
from imnm_cohort.classify.criteria import get_criteria
from imnm_cohort.classify.procedure import classify, reason_counts
from imnm_cohort.classify.rules import REASON_CODES
from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.extract.schema import CONTRACT_VERSION
from imnm_cohort.extract.validate import ValidationResult
from imnm_cohort.mapping.load import load_input
from imnm_cohort.pipeline import runfolder
from imnm_cohort.pipeline.changes import SNAPSHOT, changes_disclosure, changes_since, snapshot
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.pipeline.disclosure import (
    WITHHELD,
    Count,
    Declaration,
    Margin,
    Policy,
    suppress,
)
from imnm_cohort.report.figures import all_figures
from imnm_cohort.report.plotdata import figure_data
from imnm_cohort.report.render import render_html, render_markdown, view
from imnm_cohort.tables import write_failure, write_table, write_text

T = TypeVar("T")
DEPENDENCIES = (
    "pandas",
    "numpy",
    "scipy",
    "lifelines",
    "pandera",
    "pyarrow",
    "matplotlib",
    "jinja2",
)
EXIT_OK, EXIT_QUARANTINED = 0, 3


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    folder : Path
        The published run folder.
    exit_code : int
        0, or 3 when rows were quarantined and ``strict`` was asked for.
    quarantined_rows : int
    timings : dict
        Seconds per stage.
    notes : list of str
        One line per thing the run skipped (e.g. a comparison with a damaged earlier run).
    declarations : dict
        Each aggregate JSON output's disclosure declaration, by file name.
    absent_columns : tuple of str
        Optional contract columns the input did not have (read as empty).
    """

    folder: Path
    exit_code: int
    quarantined_rows: int
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    declarations: dict[str, Declaration] = field(default_factory=dict)
    absent_columns: tuple[str, ...] = ()


def run_pipeline(
    config: PipelineConfig,
    *,
    strict: bool = False,
    progress: Callable[[str, float | None], None] | None = None,
    analysis_progress: AnalysisProgress | None = None,
    now: dt.datetime | None = None,
) -> RunResult:
    """Run a pipeline and publish its run folder.

    Parameters
    ----------
    config : PipelineConfig
    strict : bool
        Exit code 3 (outputs still written) when any row was quarantined.
    progress : callable, optional
        Called as ``progress(stage, None)`` when a stage starts and
        ``progress(stage, seconds)`` when it ends.
    analysis_progress : callable, optional
        Passed to :func:`~imnm_cohort.analysis.analyse`: progress within the analyse stage.
    now : datetime, optional
        The run's time (for tests); the current UTC time otherwise.

    Returns
    -------
    RunResult

    Raises
    ------
    ExtractError
        The input cannot be used; nothing is written.
    RunLockedError
        Another run is writing to the output root; nothing is done.
    ConfigError, OutputError
        The output folder cannot be written to, or the disk is full; nothing is published.
    """
    say = progress or (lambda stage, seconds: None)
    timings: dict[str, float] = {}

    def stage(name: str, fn: Callable[[], T]) -> T:
        say(name, None)
        start = time.perf_counter()
        value = fn()
        timings[name] = round(time.perf_counter() - start, 3)
        say(name, timings[name])
        return value

    started = now or dt.datetime.now(dt.UTC)
    if not config.extract.is_file():
        raise ExtractError(f"{config.extract}: file not found")
    root = config.output_root
    policy = Policy(config.min_cell_count, config.rounding)
    notes: list[str] = []
    # The lock first: a run that meets another one stops before doing any work.
    with runfolder.locked(root):
        input_sha = stage("checksum", lambda: runfolder.sha256_of(config.extract))
        result = stage("validate", lambda: load_input(config.input_spec()))
        criteria = get_criteria(config.criteria)
        classified = stage("classify", lambda: classify(result.valid, criteria))
        try:
            analysis = stage(
                "analyse",
                lambda: analyse(
                    classified,
                    config.malignancy,
                    seed=config.seed,
                    reference_rates=config.reference_rates,
                    table_one_options=config.table_one,
                    progress=analysis_progress,
                ),
            )
        except ConfigError as exc:  # a [table_one] variable the extract cannot give
            raise ConfigError(f"{config.source or 'pipeline'}: {exc}") from None
        summary = build_summary(config, result, classified, analysis)
        declarations = {"summary.json": summary_disclosure(summary, analysis)}
        published = stage(
            "disclosure", lambda: suppress(summary, declarations["summary.json"], policy)
        )
        name = runfolder.run_name(started, config.digest(), input_sha)
        previous = runfolder.latest_run(root)
        work = runfolder.start(root, name)
        try:
            changes = None
            if previous is not None:
                raw_changes = stage(
                    "changes", lambda: changes_since(previous, classified, published.data)
                )
                if isinstance(raw_changes, str):
                    notes.append(raw_changes)
                else:
                    declarations["changes.json"] = changes_disclosure(raw_changes)
                    changes = suppress(raw_changes, declarations["changes.json"], policy)
            figures = stage(
                "figures",
                lambda: all_figures(figure_data(classified, analysis, policy, published.data)),
            )
            exit_code = EXIT_QUARANTINED if strict and result.quarantined_rows else EXIT_OK
            withheld = list(published.withheld) + [
                f"changes.{p}" for p in (changes.withheld if changes else ())
            ]
            meta = {
                "title": "IMNM cohort report",
                "source_name": config.extract.name,
                "run_name": name,
                "generated_utc": started.strftime("%Y-%m-%d %H:%M UTC"),
                "version": _version("imnm-cohort"),
                "criteria": {
                    "name": criteria.name,
                    "title": criteria.title,
                    "citation": criteria.citation,
                    "ck_high_text": criteria.ck_high_text,
                    "biopsy_text": criteria.biopsy_text,
                },
                "methods": analysis.methods(),
                "marker": published.marker if policy.active else "(none)",
                "withheld_marker": WITHHELD,
                "min_cell_count": config.min_cell_count,
                "rounding": config.rounding,
                "settings": {**config.to_dict()["analysis"]},
                "manifest": {
                    "input_sha256": input_sha,
                    "withheld": len(withheld),
                    "versions": {
                        "imnm-cohort": _version("imnm-cohort"),
                        **{d: _version(d) for d in DEPENDENCIES},
                    },
                },
            }
            context = view(
                published.data,
                figures=figures,
                meta=meta,
                changes=changes.data if changes else None,
            )

            def write_outputs() -> list[Path]:
                files = []
                if "json" in config.formats:
                    files.append(write_text(_json(published.data), work / "summary.json"))
                if changes is not None:
                    files.append(write_text(_json(changes.data), work / "changes.json"))
                if "html" in config.formats:
                    files.append(write_text(render_html(context), work / "report.html"))
                if "md" in config.formats:
                    figure_files = {}
                    for stem, svg in figures.items():
                        files.append(write_text(svg, work / "figures" / f"{stem}.svg"))
                        figure_files[stem] = f"figures/{stem}.svg"
                    files.append(
                        write_text(render_markdown(context, figure_files), work / "report.md")
                    )
                if "csv" in config.formats:
                    files.append(write_table(classified, work / "classified.csv"))
                    files.append(write_table(result.quarantine, work / "quarantine.csv"))
                files.append(write_table(snapshot(classified), work / SNAPSHOT))
                return files

            files = stage("write", write_outputs)
            # The summary's published counts (every valid row is classified).
            counts = published.data["counts"]
            rows = {
                "input": counts["input_rows"],
                "valid": counts["valid_rows"],
                "quarantined": counts["quarantined_rows"],
                "classified": counts["valid_rows"],
            }
            manifest = {
                "toolkit": {
                    "name": "imnm-cohort",
                    "version": _version("imnm-cohort"),
                    "extract_contract": CONTRACT_VERSION,
                },
                "run": {
                    "name": name,
                    "started_utc": started.isoformat(),
                    "exit_status": exit_code,
                    "strict": strict,
                },
                "python": platform.python_version(),
                "dependencies": {d: _version(d) for d in DEPENDENCIES},
                "criteria": {"name": criteria.name, "citation": criteria.citation},
                "config": config.to_dict(),
                "input": {
                    "file": config.extract.name,
                    "sha256": input_sha,
                    **({"mapping": result.mapping} if result.mapping else {}),
                },
                "rows": rows,
                "disclosure": {
                    "min_cell_count": config.min_cell_count,
                    "rounding": config.rounding,
                    "withheld_count": len(withheld),
                    "withheld": withheld,
                    "undeclared": list(published.undeclared)
                    + [f"changes.{p}" for p in (changes.undeclared if changes else ())],
                },
                "notes": notes,
                "previous_run": previous.name if previous else None,
                "outputs": {str(p.relative_to(work)): runfolder.sha256_of(p) for p in files},
                "timings_seconds": timings,
            }
            declarations["manifest.json"] = MANIFEST_DISCLOSURE
            write_text(_json(manifest), work / "manifest.json")
            folder = runfolder.publish(work, root, name)
        except OSError as exc:
            runfolder.discard(work)
            raise write_failure(root, exc) from None
        except BaseException:
            runfolder.discard(work)
            raise
    return RunResult(
        folder,
        exit_code,
        result.quarantined_rows,
        timings,
        absent_columns=result.absent_columns,
        notes=notes,
        declarations=declarations,
    )


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def build_summary(
    config: PipelineConfig,
    result: ValidationResult,
    classified: pd.DataFrame,
    analysis: CohortAnalysis,
) -> dict[str, Any]:
    """The run's ``summary.json`` before disclosure control (contract section 4)."""
    validation = result.to_dict()
    body = analysis.to_dict()
    return {
        "criteria": config.criteria,
        "contract_version": CONTRACT_VERSION,
        "counts": validation["counts"],
        "groups": body["groups"],
        "comparisons": body["comparisons"],
        "table_one": body["table_one"],
        "survival": body["survival"],
        "cause_specific_cox": body["cause_specific_cox"],
        "fine_gray": body["fine_gray"],
        "time_since_onset": body["time_since_onset"],
        "population_rates": body["population_rates"],
        "classification_reasons": reason_counts(classified),
        "validation": {
            "quarantine_reasons": validation["quarantine_reasons"],
            "warnings": validation["warnings"],
            "absent_columns": validation["absent_columns"],
            **({"mapping": validation["mapping"]} if "mapping" in validation else {}),
        },
        "disclosure": {"min_cell_count": config.min_cell_count, "rounding": config.rounding},
    }


#: The manifest's numbers: settings, timings, and the summary's published counts.
MANIFEST_DISCLOSURE = Declaration(
    cleared=(("run",), ("config",), ("rows",), ("disclosure",), ("timings_seconds",))
)


def summary_disclosure(summary: dict[str, Any], analysis: CohortAnalysis) -> Declaration:
    """Disclosure declaration of ``summary.json``: the analyses' own declarations plus
    the row counts (input = valid + quarantined), reason counts and settings."""
    reasons_of = {
        g: tuple(
            ("classification_reasons", code)
            for code in summary["classification_reasons"]
            if code in REASON_CODES and REASON_CODES[code][1] == g
        )
        for g in summary["groups"]
    }
    counts = ("counts", "input_rows"), ("counts", "valid_rows"), ("counts", "quarantined_rows")
    validation = summary["validation"]
    return analysis.disclosure() + Declaration(
        counts=(
            Count(counts[0]),
            Count(counts[1], "valid_rows"),
            Count(("counts", "export_rows")),  # a site's export, by a mapping file
            Count(counts[2], describes=(("validation", "quarantine_reasons"),)),
            *(Count(("groups", g), f"group:{g}", describes=reasons_of[g]) for g in reasons_of),
            *(Count(("classification_reasons", c)) for c in summary["classification_reasons"]),
            *(
                Count(("validation", "quarantine_reasons", i, "rows"))
                for i in range(len(validation["quarantine_reasons"]))
            ),
            *(
                Count(("validation", "warnings", i, "rows"))
                for i in range(len(validation["warnings"]))
            ),
        ),
        margins=(Margin((counts[1], counts[2]), counts[0]),),
        cleared=(("disclosure",), ("comparisons", "malignancy", "options")),
    )
