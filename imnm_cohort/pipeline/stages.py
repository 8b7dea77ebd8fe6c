"""The stages of a run, each a function of the previous stages' results.

read -> validate -> classify -> analyse -> disclose -> render -> write -> publish. Each can
be called (and tested) alone; :func:`~imnm_cohort.pipeline.run.run_pipeline` chains them,
times them and handles the run folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from imnm_cohort.analysis.cohort import CohortAnalysis
from imnm_cohort.analysis.cohort import analyse as analyse_cohort
from imnm_cohort.analysis.plotdata import FigureData, figure_data
from imnm_cohort.classify.criteria import CriteriaSet, get_criteria
from imnm_cohort.classify.procedure import classify as classify_patients
from imnm_cohort.classify.procedure import reason_counts
from imnm_cohort.errors import ExtractError
from imnm_cohort.extract.schema import CONTRACT_VERSION
from imnm_cohort.extract.validate import ValidationResult
from imnm_cohort.mapping.load import load_input
from imnm_cohort.outputs.registry import RunOutputs, uses_figures, write_outputs
from imnm_cohort.pipeline import runfolder
from imnm_cohort.pipeline.config import PipelineConfig
from imnm_cohort.report.disclosure import Suppressed, suppress
from imnm_cohort.report.render import view
from imnm_cohort.tables import write_text


@dataclass(frozen=True)
class Extract:
    """The input file as found: its path and checksum (the manifest records both)."""

    path: Path
    sha256: str


@dataclass(frozen=True)
class Disclosed:
    """What may leave the run: the summary after disclosure control and the figures' data."""

    summary: Suppressed
    figures: FigureData


def read(config: PipelineConfig) -> Extract:
    """Find the input and take its checksum.

    Raises
    ------
    ExtractError
        When the file is missing.
    """
    if not config.extract.is_file():
        raise ExtractError(f"{config.extract}: file not found")
    return Extract(config.extract, runfolder.sha256_of(config.extract))


def validate(config: PipelineConfig, extract: Extract) -> ValidationResult:
    """Read the input (mapping a site's export when the pipeline names a mapping) and
    validate its rows; bad rows go to quarantine."""
    return load_input(config.input_spec())


def classify(config: PipelineConfig, result: ValidationResult) -> tuple[CriteriaSet, pd.DataFrame]:
    """Classify the valid rows under the pipeline's criteria set."""
    criteria = get_criteria(config.criteria)
    return criteria, classify_patients(result.valid, criteria)


def analyse(config: PipelineConfig, classified: pd.DataFrame) -> CohortAnalysis:
    """Every analysis of the classified cohort."""
    return analyse_cohort(
        classified, config.malignancy, seed=config.seed, reference_rates=config.reference_rates
    )


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
        "disclosure": {"min_cell_count": config.min_cell_count},
    }


def disclose(
    config: PipelineConfig,
    result: ValidationResult,
    classified: pd.DataFrame,
    analysis: CohortAnalysis,
) -> Disclosed:
    """Small counts withheld from the summary; the figures' aggregates built likewise."""
    summary = build_summary(config, result, classified, analysis)
    return Disclosed(
        suppress(summary, config.min_cell_count),
        figure_data(classified, analysis, config.min_cell_count),
    )


def render(
    config: PipelineConfig,
    disclosed: Disclosed,
    changes: Suppressed | None,
    meta: dict[str, Any],
    result: ValidationResult,
    classified: pd.DataFrame,
) -> RunOutputs:
    """The report's content and figures (figures only when a format uses them)."""
    figures = None
    if uses_figures(config.formats):
        from imnm_cohort.report.figures import Figures

        figures = Figures(disclosed.figures)
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
    )


def write(config: PipelineConfig, outputs: RunOutputs, folder: Path) -> list[Path]:
    """Write the pipeline's formats into the run folder."""
    return write_outputs(outputs, folder, config.formats)


def publish(work: Path, root: Path, name: str, manifest: dict[str, Any]) -> Path:
    """Write the manifest and move the completed run into place; returns its folder."""
    from imnm_cohort.outputs.text import to_json

    write_text(to_json(manifest), work / "manifest.json")
    return runfolder.publish(work, root, name)
