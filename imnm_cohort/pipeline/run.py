"""Run a pipeline: read, validate, classify, analyse, disclose, render, write, publish.

Outputs (contract section 4), in one folder per run under the output root, as the
pipeline's ``formats`` select them (see :mod:`imnm_cohort.outputs`): ``report.html``,
``report.md``, ``summary.json`` and ``changes.json``, ``tables.docx``, ``tables.xlsx`` and
``figures/`` (aggregate, disclosure-controlled), ``classified.csv`` and ``quarantine.csv``
(patient-level); ``manifest.json`` always.

The run returns what happened; the command line decides the exit code.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from imnm_cohort.pipeline import runfolder, stages
from imnm_cohort.pipeline.changes import changes_since
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.pipeline.manifest import build_manifest
from imnm_cohort.pipeline.meta import report_meta
from imnm_cohort.report.disclosure import suppress

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
    absent_columns : tuple of str
        Optional contract columns the input did not have (read as empty).
    """

    folder: Path
    quarantined_rows: int
    timings: dict[str, float] = field(default_factory=dict)
    absent_columns: tuple[str, ...] = ()


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


def run_pipeline(
    config: PipelineConfig,
    *,
    strict: bool = False,
    progress: Callable[[str, float | None], None] | None = None,
    now: dt.datetime | None = None,
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
        Another run is writing to the output root; nothing is written.
    """
    stage = _Stages(progress)
    started = now or dt.datetime.now(dt.UTC)
    extract = stage("read", lambda: stages.read(config))
    result = stage("validate", lambda: stages.validate(config, extract))
    criteria, classified = stage("classify", lambda: stages.classify(config, result))
    analysis = stage("analyse", lambda: stages.analyse(config, classified))
    disclosed = stage("disclose", lambda: stages.disclose(config, result, classified, analysis))
    root = config.output_root
    name = runfolder.run_name(started, config.digest(), extract.sha256)
    with runfolder.locked(root):
        previous = runfolder.latest_run(root)
        work = runfolder.start(root, name)
        try:
            changes = None
            if previous is not None:
                raw_changes = stage(
                    "changes",
                    lambda: changes_since(previous, classified, disclosed.summary.data),
                )
                if raw_changes is not None:
                    changes = suppress(raw_changes, config.min_cell_count)
            withheld = list(disclosed.summary.withheld) + [
                f"changes.{p}" for p in (changes.withheld if changes else ())
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
                lambda: stages.render(config, disclosed, changes, meta, result, classified),
            )
            files = stage("write", lambda: stages.write(config, outputs, work))
            manifest = build_manifest(
                config=config,
                criteria=criteria,
                result=result,
                run_name=name,
                started=started,
                strict=strict,
                input_sha=extract.sha256,
                withheld=withheld,
                previous=previous,
                folder=work,
                files=files,
                timings=stage.timings,
            )
            folder = stages.publish(work, root, name, manifest)
        except BaseException:
            runfolder.discard(work)
            raise
    return RunResult(folder, result.quarantined_rows, stage.timings, result.absent_columns)
