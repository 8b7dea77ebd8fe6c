"""The stages of a run, each a function of the previous stages' results.

read -> validate -> (event tables -> derive) -> classify -> analyse -> disclose -> self-check
-> render -> write -> publish. Each can be called (and tested) alone;
:func:`~imnm_cohort.pipeline.run.run_pipeline` chains them, times them and handles the run
folder.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from imnm_cohort.analysis.cohort import AnalysisProgress, CohortAnalysis
from imnm_cohort.analysis.cohort import analyse as analyse_cohort
from imnm_cohort.analysis.plotdata import figure_data
from imnm_cohort.classify.criteria import CriteriaSet, get_criteria
from imnm_cohort.classify.procedure import reason_counts
from imnm_cohort.contracts.patients import CONTRACT_VERSION
from imnm_cohort.contracts.rule_codes import RuleCode
from imnm_cohort.disclosure.declarations import Count, Declaration, Margin
from imnm_cohort.disclosure.figures import FigureData
from imnm_cohort.disclosure.suppression import Policy, Suppressed, suppress
from imnm_cohort.engines.base import Engine, engine_for
from imnm_cohort.errors import ConfigError
from imnm_cohort.outputs.registry import RunOutputs, uses_figures, write_outputs
from imnm_cohort.pipeline import runfolder
from imnm_cohort.pipeline.changes import SNAPSHOT, snapshot
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.report.render import view
from imnm_cohort.sources.base import Source
from imnm_cohort.validation.events import EventTables
from imnm_cohort.validation.validate import ValidationResult
from imnm_cohort.vocabulary import ANALYSED_GROUPS, IN_DATABASE

if TYPE_CHECKING:
    from imnm_cohort.analysis.statin_rates import StatinPopulation
    from imnm_cohort.pipeline.selfcheck import SelfCheck
    from imnm_cohort.report.figure_process import FigureProcess
    from imnm_cohort.report.figures import FigureSet
from imnm_cohort.io.tables import write_table, write_text


@dataclass(frozen=True)
class Extract:
    """The input as found: its source and the SHA-256 of its content (the manifest records
    both: ``source.describe()`` and ``sha256``)."""

    source: Source
    sha256: str


@dataclass(frozen=True)
class Disclosed:
    """What may leave the run: the summary after disclosure control and the figures' data.

    Attributes
    ----------
    summary : Suppressed
    declaration : Declaration
        What the summary's numbers are (the counts and what each gives away).
    figures : FigureData
    policy : Policy
    """

    summary: Suppressed
    declaration: Declaration
    figures: FigureData
    policy: Policy


def read(config: PipelineConfig) -> Extract:
    """Find the input and take its fingerprint (:meth:`Source.fingerprint`).

    Raises
    ------
    ExtractError
        When the input cannot be found (a missing file).
    """
    source = config.input_source()
    return Extract(source, source.fingerprint())


def validate(
    config: PipelineConfig, extract: Extract, engine: Engine | None = None
) -> ValidationResult:
    """Read the input (mapping a site's export when the pipeline names a mapping) and
    validate its rows with the engine (in memory by default); bad rows go to quarantine."""
    return (engine or engine_for()).validate(extract.source)


def mapped_tables(config: PipelineConfig) -> tuple[str, ...]:
    """The event tables the pipeline's mapping file fills (its ``[tables.NAME]``
    sections, contract section 6); none without a mapping.

    Raises
    ------
    MappingError
        The mapping file cannot be used (exit code 2).
    """
    if config.mapping is None:
        return ()
    from imnm_cohort.mapping.spec import load_mapping

    return tuple(load_mapping(config.mapping).tables)


def read_tables(config: PipelineConfig, result: ValidationResult) -> EventTables:
    """Read and validate the event tables of ``[input.tables]`` and of the mapping's
    ``[tables.NAME]`` sections (contract section 6) against the patient table: each bad
    row goes to its table's quarantine.

    Raises
    ------
    ConfigError
        A table given both in ``[input.tables]`` and by the mapping.
    ExtractError
        A table's file cannot be used, or most of its rows break one rule.
    """
    from imnm_cohort.mapping.source import MappedSource
    from imnm_cohort.validation.events import read_events

    source = config.input_source()
    export = source if isinstance(source, MappedSource) else None
    return read_events(dict(config.tables), result, export)


def has_tables(source: Source) -> bool:
    """Whether a source derives event tables itself: ``derives_event_tables`` true and
    ``tables()`` giving them by name (an OMOP database)."""
    return getattr(source, "derives_event_tables", False) is True


def has_population(source: Source) -> bool:
    """Whether a source can count the population the patients came from
    (``population_tables()``: an OMOP database)."""
    return callable(getattr(source, "population_tables", None))


def source_tables(source: Source, result: ValidationResult) -> EventTables:
    """The event tables a source derives itself (an OMOP database's ``tables()``), validated
    against the patient table as ``[input.tables]`` are (see :func:`has_tables`)."""
    from imnm_cohort.sources.frames import FrameSource
    from imnm_cohort.validation.events import read_events

    frames = source.tables()  # type: ignore[attr-defined]
    sources = {n: FrameSource(f, f"{source.label} {n}") for n, f in frames.items()}
    return read_events(sources, result)


def statin_population(source: Source, classified: pd.DataFrame) -> StatinPopulation:
    """IMNM incidence among statin users in the database the patients were found in, for a
    source that can give it (see :func:`has_population`).

    The cases are the IMNM patients as classified (``patient_id`` is the CDM's person_id):
    their onsets go to the database as a small table and only aggregates come back.

    Raises
    ------
    ExtractError
        The database cannot be used.
    """
    from imnm_cohort.analysis.statin_population import statin_population as compute
    from imnm_cohort.analysis.statin_rates import StatinPopulationSettings
    from imnm_cohort.vocabulary import GROUP_COLUMN, IMNM_GROUPS

    imnm = classified[classified[GROUP_COLUMN].astype(str).isin(IMNM_GROUPS)]
    imnm = imnm[imnm["onset_date"].notna()]
    cases = pd.DataFrame(
        {
            "person_id": pd.to_numeric(imnm["patient_id"].astype(str)).astype("int64"),
            "onset_date": imnm["onset_date"],
            "group": imnm[GROUP_COLUMN].astype(str),
        }
    )
    options = source.statin  # type: ignore[attr-defined]
    settings = StatinPopulationSettings(options.persistence_gap_days, options.window)
    with source.population_tables() as (cdm, small):  # type: ignore[attr-defined]
        ingredients = source.ingredients()  # type: ignore[attr-defined]
        return compute(cdm, ingredients, cases, settings, small)


def derive(result: ValidationResult, tables: EventTables) -> ValidationResult:
    """The patient table with the values it leaves empty derived from the event tables
    (:func:`~imnm_cohort.validation.derive.derive_patients`)."""
    from imnm_cohort.validation.derive import derive_patients

    return derive_patients(result, tables)


def classify(
    config: PipelineConfig, result: ValidationResult, engine: Engine | None = None
) -> tuple[CriteriaSet, pd.DataFrame]:
    """Classify the valid rows under the pipeline's criteria set, with the engine."""
    criteria = get_criteria(config.criteria)
    return criteria, (engine or engine_for()).classify(result, criteria)


def analyse(
    config: PipelineConfig,
    classified: pd.DataFrame,
    progress: AnalysisProgress | None = None,
    tables: EventTables | None = None,
    statin_population: StatinPopulation | None = None,
) -> CohortAnalysis:
    """Every analysis of the classified cohort (``progress`` as for ``analyse``); with the
    event tables, the course analyses that read them too (each table's valid rows); with
    ``statin_population`` (an OMOP input), its result.

    Raises
    ------
    ConfigError
        A ``[table_one]`` variable the extract cannot give (the pipeline file is named).
    """
    try:
        analysis = analyse_cohort(
            classified,
            config.malignancy,
            seed=config.seed,
            reference_rates=config.reference_rates,
            table_one_options=config.table_one,
            progress=progress,
            tables=tables,
            min_count=config.min_cell_count,
            statin_population=statin_population,
            course=config.course,
        )
    except ConfigError as exc:
        raise ConfigError(f"{config.source or 'pipeline'}: {exc}") from None
    counted = classified.attrs.get(IN_DATABASE)
    if counted:  # the patients of a few groups were fetched: every group counted there
        return dataclasses.replace(analysis, group_counts=dict(counted["groups"]))
    return analysis


def in_database_notes(classified: pd.DataFrame) -> list[str]:
    """The run's note on what a classification in the database fetched (none otherwise)."""
    counted = classified.attrs.get(IN_DATABASE)
    if not counted:
        return []
    fetched = counted["fetched"]
    return [
        f"validated and classified {counted['rows']:,} rows in the database; fetched "
        f"{fetched['rows']:,} rows, {fetched['bytes']:,} bytes (Arrow) in "
        f"{fetched['queries']} queries; classified.csv holds the patients of "
        f"{', '.join(ANALYSED_GROUPS)} only"
    ]


def _reason_counts(classified: pd.DataFrame) -> dict[str, int]:
    """Patients per classification reason: counted in the database when the rows were
    classified there, else from the classified frame."""
    counted = classified.attrs.get(IN_DATABASE)
    return dict(counted["classification_reasons"]) if counted else reason_counts(classified)


def build_summary(
    config: PipelineConfig,
    result: ValidationResult,
    classified: pd.DataFrame,
    analysis: CohortAnalysis,
    tables: EventTables | None = None,
) -> dict[str, Any]:
    """The run's ``summary.json`` before disclosure control (contract section 4); with
    event tables, their counts of rows under ``tables`` (contract section 6)."""
    validation = result.to_dict()
    events = {"tables": tables.to_dict()} if tables else {}
    return {
        "criteria": config.criteria,
        "contract_version": CONTRACT_VERSION,
        "counts": validation["counts"],
        **analysis.to_dict(),  # groups, comparisons, then each analysis under its key
        "classification_reasons": _reason_counts(classified),
        "validation": {
            "quarantine_reasons": validation["quarantine_reasons"],
            "warnings": validation["warnings"],
            "absent_columns": validation["absent_columns"],
            **({"mapping": validation["mapping"]} if "mapping" in validation else {}),
        },
        "disclosure": {"min_cell_count": config.min_cell_count, "rounding": config.rounding},
        **events,
    }


def summary_disclosure(summary: dict[str, Any], analysis: CohortAnalysis) -> Declaration:
    """Disclosure declaration of ``summary.json``: the analyses' own declarations plus
    the row counts (input = valid + quarantined), reason counts and settings."""
    reasons_of = {
        g: tuple(
            ("classification_reasons", code)
            for code in summary["classification_reasons"]
            if (known := RuleCode.get(code)) is not None and known.group == g
        )
        for g in summary["groups"]
    }
    counts = ("counts", "input_rows"), ("counts", "valid_rows"), ("counts", "quarantined_rows")
    validation = summary["validation"]
    own = analysis.disclosure() + tables_disclosure(summary)
    return own + Declaration(
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
        # Rows of the file with no cell filled are no patients: their number needs no control.
        cleared=(
            ("disclosure",),
            ("comparisons", "malignancy", "options"),
            ("counts", "empty_rows"),
        ),
    )


def tables_disclosure(summary: dict[str, Any]) -> Declaration:
    """The declaration of the event tables' counts of rows (input = valid + quarantined,
    rows per quarantine reason); none when the summary has no ``tables``."""
    counts: list[Count] = []
    margins: list[Margin] = []
    for name, table in summary.get("tables", {}).items():
        at = ("tables", name)
        whole, valid, held = (*at, "input_rows"), (*at, "valid_rows"), (*at, "quarantined_rows")
        reasons = (*at, "quarantine_reasons")
        counts += [Count(whole), Count(valid), Count(held, describes=(reasons,))]
        counts += [Count((*reasons, i, "rows")) for i in range(len(table["quarantine_reasons"]))]
        margins.append(Margin((valid, held), whole))
    cleared = tuple(("tables", name, key) for name in summary.get("tables", {})
                    for key in ("source", "unit"))  # fmt: skip
    return Declaration(counts=tuple(counts), margins=tuple(margins), cleared=cleared)


def disclose(
    config: PipelineConfig,
    result: ValidationResult,
    classified: pd.DataFrame,
    analysis: CohortAnalysis,
    tables: EventTables | None = None,
) -> Disclosed:
    """Small counts withheld from the summary, as its declaration says; the figures'
    aggregates built under the same policy, showing the summary's published counts."""
    policy = Policy(config.min_cell_count, config.rounding)
    summary = build_summary(config, result, classified, analysis, tables)
    declaration = summary_disclosure(summary, analysis)
    published = suppress(summary, declaration, policy)
    return Disclosed(
        published,
        declaration,
        figure_data(classified, analysis, policy, published.data),
        policy,
    )


def self_check(
    config: PipelineConfig,
    result: ValidationResult,
    classified: pd.DataFrame,
    analysis: CohortAnalysis,
    disclosed: Disclosed,
    changes: Suppressed | None,
    declarations: dict[str, Declaration],
    tables: EventTables | None = None,
) -> SelfCheck:
    """The disclosure self-check over the summary, the changes and the figures' data
    (:mod:`imnm_cohort.pipeline.selfcheck`).

    Raises
    ------
    DisclosureLeakError
        A withheld value can be worked out from what would be published.
    """
    from imnm_cohort.pipeline.selfcheck import check_run

    truth = build_summary(config, result, classified, analysis, tables)
    others = [("changes.json", changes.data, declarations["changes.json"])] if changes else []
    check = check_run(
        disclosed.summary.data,
        disclosed.declaration,
        disclosed.policy,
        figures=disclosed.figures,
        truth=truth,
        others=others,
    )
    check.raise_if_leaks()
    return check


def render(
    config: PipelineConfig,
    disclosed: Disclosed,
    changes: Suppressed | None,
    meta: dict[str, Any],
    result: ValidationResult,
    classified: pd.DataFrame,
    tables: EventTables | None = None,
    drawer: FigureProcess | None = None,
) -> RunOutputs:
    """The report's content and figures (figures only when a format uses them: from
    ``drawer``, the process that drew them, when given); with event tables, each table's
    quarantine for the patient-level ``csv`` format."""
    figures: FigureSet | None = None
    if uses_figures(config.formats):
        from imnm_cohort.report.figures import Figures

        figures = drawer.result() if drawer is not None else Figures(disclosed.figures)
    data = changes.data if changes else None
    report = view(disclosed.summary.data, figures=figures, meta=meta, changes=data)
    return RunOutputs(
        summary=disclosed.summary.data,
        changes=data,
        report=report,
        meta=meta,
        figures=figures,
        classified=classified,
        quarantine=result.quarantine,
        table_quarantines={n: tables[n].quarantine for n in tables} if tables else {},
    )


def write(config: PipelineConfig, outputs: RunOutputs, folder: Path) -> list[Path]:
    """Write the pipeline's formats into the run folder and, when they include the
    patient-level ``csv``, the patient-level snapshot the next run compares with.

    A run whose formats are all aggregate writes no patient-level file at all, so the
    next run skips its comparison (and says so in one line).
    """
    if "csv" not in config.formats:
        return write_outputs(outputs, folder, config.formats)
    # The snapshot is made and written in a second thread while the formats are written:
    # Arrow's writers release the interpreter's lock, so on a large cohort the two overlap.
    with ThreadPoolExecutor(max_workers=1) as pool:
        kept = pool.submit(lambda: write_table(snapshot(outputs.classified), folder / SNAPSHOT))
        files = write_outputs(outputs, folder, config.formats)
        return [*files, kept.result()]


def publish(work: Path, root: Path, name: str, manifest: dict[str, Any]) -> Path:
    """Write the manifest and move the completed run into place; returns its folder."""
    from imnm_cohort.outputs.text import to_json

    write_text(to_json(manifest), work / "manifest.json")
    return runfolder.publish(work, root, name)
