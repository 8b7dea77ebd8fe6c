"""Run a pipeline: read, validate, classify, analyse, disclose, render, write, publish.

Outputs (contract section 4), in one folder per run under the output root, as the
pipeline's ``formats`` select them (see :mod:`imnm_cohort.outputs`): ``report.html``,
``report.md``, ``summary.json`` and ``changes.json``, ``tables.docx``, ``tables.xlsx`` and
``figures/`` (aggregate, disclosure-controlled), ``classified.csv`` and ``quarantine.csv``
(patient-level); ``manifest.json`` and the patient-level snapshot the next run compares
with, always.

The run returns what happened; the command line decides the exit code.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from imnm_cohort.analysis.cohort import AnalysisProgress
from imnm_cohort.disclosure.declarations import Declaration
from imnm_cohort.disclosure.suppression import suppress
from imnm_cohort.engines.base import Engine, engine_for_source
from imnm_cohort.errors import ExtractError
from imnm_cohort.io.tables import write_failure
from imnm_cohort.outputs.registry import figure_files, uses_figures
from imnm_cohort.pipeline import runfolder, stages
from imnm_cohort.pipeline.changes import changes_disclosure, changes_since
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.pipeline.manifest import MANIFEST_DISCLOSURE, build_manifest
from imnm_cohort.pipeline.meta import report_meta
from imnm_cohort.sources.files import empty_rows_skipped
from imnm_cohort.validation.events import EventTables
from imnm_cohort.validation.validate import ValidationResult

if TYPE_CHECKING:
    from imnm_cohort.report.figure_process import FigureProcess

T = TypeVar("T")


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    folder : Path
        The published run folder.
    quarantined_rows : int
        Rows of the extract that were quarantined (``--strict`` makes this exit code 3).
    timings : dict
        Seconds per stage.
    notes : list of str
        One line per thing the run skipped (e.g. a comparison with a damaged earlier run).
    declarations : dict
        Each aggregate JSON output's disclosure declaration, by file name.
    absent_columns : tuple of str
        Optional contract columns the input did not have (read as empty).
    table_quarantined : tuple of (str, int)
        Each event table's source label and its quarantined rows (contract section 6);
        empty when the pipeline names no event tables.
    """

    folder: Path
    quarantined_rows: int
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    declarations: dict[str, Declaration] = field(default_factory=dict)
    absent_columns: tuple[str, ...] = ()
    table_quarantined: tuple[tuple[str, int], ...] = ()


class _Stages:
    """Runs stages one after another, timing each and reporting progress."""

    def __init__(self, progress: Callable[[str, float | None], None] | None) -> None:
        self.say = progress or (lambda stage, seconds: None)
        self.timings: dict[str, float] = {}

    def __call__(self, name: str, fn: Callable[[], T]) -> T:
        self.say(name, None)
        start = time.perf_counter()
        value = fn()
        self.timings[name] = round(time.perf_counter() - start, 3)
        self.say(name, self.timings[name])
        return value


def _event_tables(
    stage: _Stages, config: PipelineConfig, result: ValidationResult
) -> tuple[ValidationResult, EventTables]:
    """Read and validate the event tables, then derive the patient table's empty values."""
    tables = stage("event tables", lambda: stages.read_tables(config, result))
    return stage("derive", lambda: stages.derive(result, tables)), tables


def _table_quarantined(tables: EventTables | None) -> tuple[tuple[str, int], ...]:
    if tables is None:
        return ()
    return tuple((tables.labels[n], tables[n].quarantined_rows) for n in tables)


def run_pipeline(
    config: PipelineConfig,
    *,
    strict: bool = False,
    progress: Callable[[str, float | None], None] | None = None,
    analysis_progress: AnalysisProgress | None = None,
    now: dt.datetime | None = None,
    engine: Engine | None = None,
    drawer: FigureProcess | None = None,
) -> RunResult:
    """Run a pipeline and publish its run folder.

    Parameters
    ----------
    config : PipelineConfig
    strict : bool
        Recorded in the manifest (the command line exits with 3 when rows were
        quarantined under ``--strict``; the outputs are written all the same).
    progress : callable, optional
        Called as ``progress(stage, None)`` when a stage starts and
        ``progress(stage, seconds)`` when it ends.
    analysis_progress : callable, optional
        Passed to :func:`~imnm_cohort.analysis.analyse`: progress within the analyse stage.
    now : datetime, optional
        The run's time (for tests); the current UTC time otherwise.
    engine : Engine, optional
        How validation and classification run (:mod:`imnm_cohort.engines`); by default the
        ``database`` engine for a source kept in a database (unless its ``[input] engine``
        says ``in_memory``) and in memory otherwise
        (:func:`~imnm_cohort.engines.base.engine_for_source`). Every engine gives the same
        outputs.
    drawer : FigureProcess, optional
        A process that draws the figures while the run works
        (:mod:`imnm_cohort.report.figure_process`; the command line starts one before it
        loads the pipeline, so that its import of matplotlib runs beside the pipeline's
        own). The same files either way; without it the figures are drawn in this process.
        The run stops it when its formats use no figures.

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
    stage = _Stages(progress)
    started = now or dt.datetime.now(dt.UTC)
    if config.extract is not None and not config.extract.is_file():
        raise ExtractError(f"{config.extract}: file not found")
    root = config.output_root
    notes: list[str] = []
    if drawer is not None and not uses_figures(config.formats):
        drawer.close()
        drawer = None
    # The lock first: a run that meets another one stops before doing any work.
    with runfolder.locked(root):
        extract = stage("read", lambda: stages.read(config))
        chosen = engine or engine_for_source(extract.source)
        result = stage("validate", lambda: stages.validate(config, extract, chosen))
        if result.empty_rows:
            notes.append(f"{config.input_label}: {empty_rows_skipped(result.empty_rows)}")
        tables: EventTables | None = None
        # contract section 6: only a pipeline (or its mapping) that names them
        if config.tables or stages.mapped_tables(config):
            result, tables = _event_tables(stage, config, result)
        elif stages.has_tables(extract.source):  # a source that derives its own (OMOP)
            found = stage("event tables", lambda: stages.source_tables(extract.source, result))
            result, tables = stage("derive", lambda: stages.derive(result, found)), found
        criteria, classified = stage("classify", lambda: stages.classify(config, result, chosen))
        notes.extend(stages.in_database_notes(classified))
        population = None
        if stages.has_population(extract.source):
            population = stage(
                "statin population", lambda: stages.statin_population(extract.source, classified)
            )
        analysis = stage(
            "analyse",
            lambda: stages.analyse(config, classified, analysis_progress, tables, population),
        )
        disclosed = stage(
            "disclose", lambda: stages.disclose(config, result, classified, analysis, tables)
        )
        if drawer is not None:
            drawer.submit(disclosed.figures, figure_files(config.formats))
        declarations: dict[str, Declaration] = {"summary.json": disclosed.declaration}
        name = runfolder.run_name(started, config.digest(), extract.sha256)
        previous = runfolder.latest_run(root)
        work = runfolder.start(root, name)
        try:
            changes = None
            if previous is not None:
                raw_changes = stage(
                    "changes",
                    lambda: changes_since(previous, classified, disclosed.summary.data),
                )
                if isinstance(raw_changes, str):
                    notes.append(raw_changes)
                else:
                    declarations["changes.json"] = changes_disclosure(raw_changes)
                    changes = suppress(raw_changes, declarations["changes.json"], disclosed.policy)
            # Before anything is rendered: an attacker's pass over what would be published.
            stage(
                "self-check",
                lambda: stages.self_check(
                    config, result, classified, analysis, disclosed, changes, declarations, tables
                ),
            )
            withheld = list(disclosed.summary.withheld) + [
                f"changes.{p}" for p in (changes.withheld if changes else ())
            ]
            undeclared = list(disclosed.summary.undeclared) + [
                f"changes.{p}" for p in (changes.undeclared if changes else ())
            ]
            meta = report_meta(
                config=config,
                criteria=criteria,
                methods=analysis.methods(),
                run_name=name,
                started=started,
                input_sha=extract.sha256,
                withheld_count=len(withheld),
            )
            outputs = stage(
                "render",
                lambda: stages.render(
                    config, disclosed, changes, meta, result, classified, tables, drawer
                ),
            )
            files = stage("write", lambda: stages.write(config, outputs, work))
            manifest = build_manifest(
                config=config,
                criteria=criteria,
                result=result,
                published=disclosed.summary.data,
                tables=tables,
                run_name=name,
                started=started,
                strict=strict,
                input_sha=extract.sha256,
                withheld=withheld,
                undeclared=undeclared,
                notes=[*config.notes, *notes],
                previous=previous,
                folder=work,
                files=files,
                timings=stage.timings,
            )
            declarations["manifest.json"] = MANIFEST_DISCLOSURE
            folder = stages.publish(work, root, name, manifest)
        except OSError as exc:
            runfolder.discard(work)
            raise write_failure(root, exc) from None
        except BaseException:
            runfolder.discard(work)
            raise
    return RunResult(
        folder,
        result.quarantined_rows,
        stage.timings,
        notes=notes,
        declarations=declarations,
        absent_columns=result.absent_columns,
        table_quarantined=_table_quarantined(tables),
    )
