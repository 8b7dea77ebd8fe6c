"""Pipeline files: a declarative run configuration in TOML.

A pipeline names the input extract, the criteria set, the analysis options, the minimum
cell count, the output folder and the formats. Relative paths are read relative to the
pipeline file's folder. Every problem names the key and the file (exit code 2).

Example (``pipelines/example.toml`` is a commented version)::

    [input]
    extract = "exports/registry.csv"     # or path = "..." (contract section 7)
    # kind = "file"                       # the default; other kinds: imnm_cohort.sources
    # mapping = "registry-mapping.toml"   # a site's own export: contract section 5

    [input.tables]                        # optional event tables (contract section 6)
    visits = "exports/visits.csv"         # also treatments, antibody_tests, cancers

    [classification]
    criteria = "tma2025"

    [analysis]
    window_years = 3
    horizon_years = 3
    time_zero = "onset"
    exclude_c44 = true
    include_in_situ = false
    seed = 0
    reference_rates = "rates/population.csv"   # optional: SIR and SMR (contract v1.2)

    [analysis.course.response]            # optional: the course analyses' options
    change = "default"                    # (imnm_cohort.analysis.course_options)

    [disclosure]
    min_cell_count = 5
    rounding = 0

    [output]
    root = "reports/registry"
    formats = ["html", "md", "json", "csv"]

    [table_one]                       # optional; see imnm_cohort.analysis.table_spec
    missing = "row"
    variables = ["age_at_onset_years", "sex", { column = "site", kind = "categorical" }]

    [report]
    title = "IMNM in the North Registry"
    study = "Retrospective cohort, 2010-2026"
    data_cutoff = 2026-10-31
    authors = ["A. Researcher", "B. Data Manager"]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from imnm_cohort.analysis.course_options import CourseOptions, course_options
from imnm_cohort.analysis.malignancy import MalignancyOptions
from imnm_cohort.analysis.rates import ReferenceRates, read_reference_rates
from imnm_cohort.analysis.table_spec import TableOneOptions, table_one_options
from imnm_cohort.classify.criteria import DEFAULT_CRITERIA, available_criteria
from imnm_cohort.contracts.events import EVENT_TABLES
from imnm_cohort.disclosure.policy import DEFAULT_MIN_COUNT
from imnm_cohort.errors import ConfigError
from imnm_cohort.mapping.source import MappedSource
from imnm_cohort.outputs.registry import FORMATS
from imnm_cohort.outputs.xml_text import first_illegal
from imnm_cohort.settings_files import (
    RATES_MAX_BYTES,
    check_settings_file,
    read_toml,
)
from imnm_cohort.sources.base import (
    DEFAULT_KIND,
    Source,
    make_source,
    make_table_source,
    without_user,
)
from imnm_cohort.sources.files import FileSource
from imnm_cohort.sources.url import is_url, parse_source_url, source_from_url
from imnm_cohort.validation.load import InputSpec

#: Formats written when a pipeline names none: the outputs of contract section 4.
DEFAULT_FORMATS = ("html", "md", "json", "csv")
DEFAULT_TITLE = "IMNM cohort report"
BUNDLED_DEMO = Path(__file__).resolve().parents[1] / "data" / "demo_pipeline.toml"
#: The bundled synthetic registry. A pipeline that reads it is a demo: its report settings
#: and reference rates describe the demo and are never carried to another input.
DEMO_EXTRACT = BUNDLED_DEMO.parent / "demo_registry.csv"

# section -> key -> (accepted types, default); a default of ... means required.
_SPEC: dict[str, dict[str, tuple[tuple[type, ...], Any]]] = {
    "input": {
        "extract": ((str,), None),
        "mapping": ((str,), None),
        "kind": ((str,), DEFAULT_KIND),
        "path": ((str,), None),
        "tables": ((dict,), None),
    },
    "classification": {"criteria": ((str,), DEFAULT_CRITERIA)},
    "analysis": {
        "window_years": ((int, float), 3),
        "horizon_years": ((int, float), 3),
        "time_zero": ((str,), "onset"),
        "exclude_c44": ((bool,), True),
        "include_in_situ": ((bool,), False),
        "seed": ((int,), 0),
        "reference_rates": ((str,), None),
        "course": ((dict,), None),
    },
    "disclosure": {"min_cell_count": ((int,), DEFAULT_MIN_COUNT), "rounding": ((int,), 0)},
    "output": {"root": ((str,), "reports"), "formats": ((list,), list(DEFAULT_FORMATS))},
    "table_one": {"variables": ((list,), None), "missing": ((str,), "row"), "smd": ((bool,), True)},
    "report": {
        "title": ((str,), DEFAULT_TITLE),
        "study": ((str,), ""),
        "data_cutoff": ((str, dt.date), ""),
        "authors": ((list,), []),
    },
}
# (section, key) -> (lowest, highest, lowest allowed itself): checked when the file is read,
# so a NaN, an infinity or a huge value never reaches the analyses.
_BOUNDS: dict[tuple[str, str], tuple[float, float, bool]] = {
    ("analysis", "window_years"): (0, 100, True),
    ("analysis", "horizon_years"): (0, 100, False),
    ("analysis", "seed"): (0, 2**32 - 1, True),
    ("disclosure", "min_cell_count"): (0, 1000, True),
    ("disclosure", "rounding"): (0, 100, True),
}


@dataclass(frozen=True)
class ReportSettings:
    """What the report says about itself: title, study, data cut-off date and authors.

    Attributes
    ----------
    title : str
    study : str
        The study's name or description ("" when not given).
    data_cutoff : str
        The data cut-off date, ``YYYY-MM-DD`` ("" when not given).
    authors : tuple of str
    """

    title: str = DEFAULT_TITLE
    study: str = ""
    data_cutoff: str = ""
    authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PipelineConfig:
    """A validated pipeline.

    Attributes
    ----------
    source : Path or None
        The pipeline file (None when built in code).
    extract : Path or None
        The input extract (absolute); None when ``[input] kind`` names another source.
    criteria : str
    malignancy : MalignancyOptions
    seed : int
    min_cell_count : int
    rounding : int
        0, or the base counts are rounded to (counts up to ``min_cell_count`` withheld).
    output_root : Path
        Where run folders go (absolute).
    formats : tuple of str
    report : ReportSettings
    reference_rates : ReferenceRates or None
        Population rates for the SIR and SMR (``[analysis] reference_rates``).
    mapping : Path or None
        The mapping file that turns the input export into an extract (absolute), if any.
    table_one : TableOneOptions
        Table 1's variables, missing-value convention and SMDs (``[table_one]``).
    notes : tuple of str
        One line per setting the run does not take from the file, and why (the run prints
        them and the manifest records them).
    input : Source or None
        The source of another ``[input] kind`` than ``"file"`` (None for a file).
    input_settings : tuple of (str, object)
        That source's ``[input]`` settings as the file gives them (the manifest records
        them; a setting never holds a credential, contract section 7).
    tables : tuple of (str, Source)
        The event tables of ``[input.tables]`` (contract section 6), in contract order,
        each with its source; empty when the pipeline names none.
    criteria_named : bool
        Whether the pipeline file names the criteria set (``[classification] criteria``);
        when it does not, a source with a ``default_criteria`` of its own (an OMOP database:
        ``ehr2026``) decides, and :attr:`notes` says so.
    course : CourseOptions
        The course analyses' options (``[analysis.course.NAME]``; the toolkit's defaults
        for a section not given).
    """

    source: Path | None
    extract: Path | None
    criteria: str = DEFAULT_CRITERIA
    malignancy: MalignancyOptions = field(default_factory=MalignancyOptions)
    seed: int = 0
    min_cell_count: int = DEFAULT_MIN_COUNT
    output_root: Path = Path("reports")
    formats: tuple[str, ...] = DEFAULT_FORMATS
    rounding: int = 0
    reference_rates: ReferenceRates | None = None
    mapping: Path | None = None
    table_one: TableOneOptions = field(default_factory=TableOneOptions)
    report: ReportSettings = field(default_factory=ReportSettings)
    notes: tuple[str, ...] = ()
    input: Source | None = None
    input_settings: tuple[tuple[str, Any], ...] = ()
    tables: tuple[tuple[str, Source], ...] = ()
    criteria_named: bool = False
    course: CourseOptions = field(default_factory=CourseOptions)

    def to_dict(self) -> dict[str, Any]:
        """The configuration as recorded in the manifest (paths as given, resolved)."""
        given: dict[str, Any] = {"mapping": str(self.mapping)} if self.mapping else {}
        if self.tables:  # only when named: a run without event tables records what it did
            given["tables"] = {name: source.name for name, source in self.tables}
        where: dict[str, Any] = (
            {"extract": str(self.extract)}
            if self.input is None
            else {"kind": self.input.kind, **dict(self.input_settings)}
        )
        return {
            "pipeline": str(self.source) if self.source else None,
            "input": {**where, **given},
            "classification": {"criteria": self.criteria},
            "analysis": {
                **asdict(self.malignancy),
                "seed": self.seed,
                "reference_rates": self.reference_rates.path if self.reference_rates else None,
                # only when given: a run without course options records what it did before
                **({"course": self.course.to_dict()} if self.course.given else {}),
            },
            "disclosure": {"min_cell_count": self.min_cell_count, "rounding": self.rounding},
            "output": {"root": str(self.output_root), "formats": list(self.formats)},
            "report": {**asdict(self.report), "authors": list(self.report.authors)},
            "table_one": self.table_one.to_dict(),
        }

    def input_spec(self) -> InputSpec:
        """The input file (extract or export) and its mapping, as the commands share it.

        Raises
        ------
        ConfigError
            The input is not a file (``[input] kind``).
        """
        if self.extract is None:
            raise ConfigError(f"{self.source or 'pipeline'}: [input] is not a file")
        return InputSpec(self.extract, self.mapping)

    def input_source(self) -> Source:
        """The input as a source: the ``[input] kind``'s (a file by default), read through
        the mapping file when there is one."""
        if self.input is not None:
            found: Source = self.input
        elif self.extract is not None:
            found = FileSource(self.extract)
        else:
            raise ConfigError(f"{self.source or 'pipeline'}: [input] names no source")
        return found if self.mapping is None else MappedSource(found, self.mapping)

    @property
    def input_label(self) -> str:
        """The input's short name in reports and messages (a file's name)."""
        return self.input_source().label

    def digest(self) -> str:
        """A short hash of the settings that shape the results (not the paths)."""
        settings = self.to_dict()
        settings.pop("pipeline")
        settings.pop("output")
        settings.pop("report")
        settings["input"] = {}
        if self.reference_rates is not None:  # the rates, wherever the file is
            settings["analysis"]["reference_rates"] = self.reference_rates.digest()
        text = json.dumps(settings, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:8]

    def with_overrides(
        self,
        extract: Path | str | None = None,
        output_root: Path | None = None,
        *,
        mapping: Path | None = None,
    ) -> PipelineConfig:
        """A copy with the input, the output folder or the mapping replaced (``--input``,
        ``--output-dir``, ``--mapping``).

        The input is a file's path, or a URL that names a source of another kind
        (:mod:`imnm_cohort.sources.url`: ``duckdb:///registry.duckdb?table=patients``,
        ``postgres://host/db?table=imnm.patients``); either replaces the pipeline's own.
        A demo pipeline (one that reads the bundled synthetic registry) given another input
        keeps none of the demo's identity: the report's title, study, cut-off and authors
        fall back to the defaults, the demo's illustrative reference rates are dropped (no
        SIR or SMR), and run folders go to ``reports/<input name>`` under the current folder
        rather than beside the demo's runs (unless ``output_root`` is given).

        Raises
        ------
        ConfigError
            When the input extract or the mapping file does not exist, the mapping file
            is not a regular file of at most 1 MiB, or the URL cannot be used.
        """
        changes: dict[str, Any] = {}
        new_extract = self.extract
        input_name = None
        if isinstance(extract, str) and is_url(extract):
            url = parse_source_url(extract)
            source = source_from_url(extract)
            settings = json.loads(json.dumps(without_user(url.settings), default=str))
            changes.update(input=source, input_settings=tuple(settings.items()))
            # The demo pipeline's criteria set is not a study's choice for another input.
            named = self.criteria_named and not self.is_demo
            changes.update(_source_criteria(source, named, self.notes))
            new_extract, input_name = None, re.sub(r"[^\w.-]+", "-", source.label).strip("-")
        elif extract is not None:
            if not Path(extract).is_file():
                raise ConfigError(f"--input {extract}: no such extract file")
            new_extract = Path(extract).resolve()
            input_name = new_extract.stem
            changes.update(input=None, input_settings=())  # a file replaces another kind
        if mapping is not None:
            read_toml(mapping, "mapping file")
        elif self.mapping is None and getattr(changes.get("input"), "needs_mapping", False):
            raise ConfigError(
                f"--input {changes['input'].name} is an export: name its mapping file "
                "(--mapping FILE)"
            )
        if self.is_demo and input_name is not None and new_extract != self.extract:
            label = new_extract.name if new_extract is not None else changes["input"].label
            changes |= {
                "report": ReportSettings(),
                "reference_rates": None,
                "output_root": Path.cwd() / "reports" / (input_name or "input"),
                "notes": (
                    *changes.get("notes", self.notes),
                    f"{label} is not the demo registry: the demo's title, study, "
                    "cut-off, authors and illustrative reference rates are not used (no SIR "
                    "or SMR); give a pipeline file for your study (pipelines/example.toml)",
                ),
            }
        if output_root is not None:
            changes["output_root"] = Path(output_root)
        return dataclasses.replace(
            self,
            extract=new_extract,
            output_root=Path(changes.pop("output_root", self.output_root)).resolve(),
            mapping=Path(mapping).resolve() if mapping is not None else self.mapping,
            **changes,
        )

    @property
    def is_demo(self) -> bool:
        """Whether the pipeline reads the bundled synthetic registry."""
        return self.input is None and self.extract == DEMO_EXTRACT.resolve()


def load_pipeline(
    path: str | Path | None = None,
    *,
    extract: Path | str | None = None,
    output_root: Path | None = None,
    mapping: Path | None = None,
) -> PipelineConfig:
    """Read and validate a pipeline file (the bundled demo pipeline when ``path`` is None).

    Parameters
    ----------
    path : str or Path, optional
        The pipeline file: a regular file of at most 1 MiB (``TOML_MAX_BYTES``).
    extract, output_root, mapping : Path, optional
        Replace the pipeline's own (``--input``, ``--output-dir``, ``--mapping``), as
        :meth:`PipelineConfig.with_overrides` (``extract`` may be a source's URL). A
        replaced extract or mapping file of the pipeline need not exist.

    Raises
    ------
    ConfigError
        For an unreadable file, an unknown section or key, a wrong type, a bad value or a
        missing input; the message names the key and the file.
    """
    path = Path(path) if path is not None else BUNDLED_DEMO
    raw = read_toml(path, "pipeline file")
    raw, kind, settings = _input_kind(raw)
    values = _check(raw, path)
    base = path.resolve().parent
    # The bundled demo writes under the current folder, not inside the installed package.
    out_base = Path.cwd() if path == BUNDLED_DEMO else base
    a = values["analysis"]
    try:
        options = MalignancyOptions(
            window_years=float(a["window_years"]),
            horizon_years=float(a["horizon_years"]),
            time_zero=a["time_zero"],
            exclude_c44=a["exclude_c44"],
            include_in_situ=a["include_in_situ"],
        )
    except ValueError as exc:
        raise ConfigError(f"{path}: [analysis] {exc}") from None
    course = course_options(a["course"] if a["course"] is not None else {}, str(path))
    criteria = values["classification"]["criteria"]
    named = "criteria" in (raw.get("classification") or {})
    if criteria not in available_criteria():
        raise ConfigError(
            f"{path}: [classification] criteria = {criteria!r} is not a known "
            f"criteria set; choose one of: {', '.join(available_criteria())}"
        )
    formats = values["output"]["formats"]
    unknown = [f for f in formats if not isinstance(f, str) or f not in FORMATS]
    if unknown or not formats:
        raise ConfigError(f"{path}: [output] formats must be a list from: {', '.join(FORMATS)}")
    report = _report_settings(values["report"], path)
    given_t1 = {k: v for k, v in values["table_one"].items() if v is not None}
    table_one = table_one_options(given_t1, str(path))
    for i, variable in enumerate(table_one.variables):
        _refuse_control_characters(path, f"[table_one] variables[{i}] label", variable.label)
    tables = _event_tables(values["input"]["tables"], kind, base, path)
    own_extract, own_source = None, None
    if kind != DEFAULT_KIND:
        own_source = make_source(kind, settings, base, str(path))
    else:
        key = "path" if values["input"]["path"] is not None else "extract"
        if values["input"]["path"] is not None and values["input"]["extract"] is not None:
            raise ConfigError(f"{path}: [input] give path or extract, not both")
        if values["input"][key] is None:
            raise ConfigError(f"{path}: missing key 'extract' in [input]")
        own_extract = (base / values["input"][key]).resolve()
        if extract is None and not own_extract.is_file():
            raise ConfigError(
                f"{path}: [input] {key} = {values['input'][key]!r}: no such file ({own_extract})"
            )
    rates_name = values["analysis"]["reference_rates"]
    rates = None
    if rates_name is not None:
        try:
            rates_path = check_settings_file(
                (base / rates_name).resolve(), "reference-rate file", RATES_MAX_BYTES
            )
            rates = read_reference_rates(rates_path)
        except ConfigError as exc:
            raise ConfigError(f"{path}: [analysis] reference_rates: {exc}") from None
    if getattr(own_source, "needs_mapping", False) and values["input"]["mapping"] is None:
        # An export (a REDCap project) is mapped before it is an extract.
        raise ConfigError(
            f'{path}: [input] kind = "{kind}" reads an export: name its mapping file '
            '(mapping = "...")'
        )
    own_mapping = None
    if values["input"]["mapping"] is not None:
        own_mapping = (base / values["input"]["mapping"]).resolve()
        given = values["input"]["mapping"]
        if mapping is None and not own_mapping.exists():
            raise ConfigError(f"{path}: [input] mapping = {given!r}: no such file ({own_mapping})")
        if mapping is None:
            try:
                read_toml(own_mapping, "mapping file")
            except ConfigError as exc:
                raise ConfigError(f"{path}: [input] mapping: {exc}") from None
    config = PipelineConfig(
        source=path.resolve(),
        extract=own_extract,
        criteria=criteria,
        malignancy=options,
        seed=values["analysis"]["seed"],
        min_cell_count=values["disclosure"]["min_cell_count"],
        output_root=(out_base / values["output"]["root"]).resolve(),
        formats=tuple(dict.fromkeys(formats)),
        rounding=values["disclosure"]["rounding"],
        report=report,
        reference_rates=rates,
        mapping=own_mapping,
        table_one=table_one,
        input=own_source,
        # JSON-ready for the manifest (a TOML date as its ISO text)
        input_settings=tuple(json.loads(json.dumps(without_user(settings), default=str)).items()),
        tables=tables,
        criteria_named=named,
        course=course,
    )
    if own_source is not None:
        config = dataclasses.replace(config, **_source_criteria(own_source, named, config.notes))
    if extract is None and output_root is None and mapping is None:
        return config
    return config.with_overrides(extract, output_root, mapping=mapping)


def _source_criteria(source: Source, named: bool, notes: tuple[str, ...]) -> dict[str, Any]:
    """The criteria set of a source that prefers one (``default_criteria``: an OMOP
    database's is ``ehr2026``) when the pipeline names none, with a note saying so."""
    preferred = getattr(source, "default_criteria", None)
    if named or not isinstance(preferred, str):
        return {}
    note = (
        f"{source.label}: classified by the {preferred} criteria set, the default for "
        f'[input] kind = "{source.kind}" (name another in [classification] criteria)'
    )
    return {"criteria": preferred, "notes": (*notes, note)}


def _event_tables(
    given: dict[str, Any] | None, kind: str, base: Path, path: Path
) -> tuple[tuple[str, Source], ...]:
    """The sources of ``[input.tables]``, in contract order (contract section 6).

    Raises
    ------
    ConfigError
        A name that is not an event table, a kind that reads none, or a table's setting
        its source cannot use (a file that does not exist).
    """
    if not given:
        return ()
    unknown = sorted(set(given) - set(EVENT_TABLES))
    if unknown:
        raise ConfigError(
            f"{path}: [input.tables] {unknown[0]} is not an event table; known tables: "
            + ", ".join(EVENT_TABLES)
        )
    return tuple(
        (name, make_table_source(kind, given[name], base, str(path), contract))
        for name, contract in EVENT_TABLES.items()
        if name in given
    )


def _refuse_control_characters(path: Path, key: str, text: str) -> None:
    """A label that Word and Excel cannot hold is refused (exit 2), naming the key."""
    found = first_illegal(text)
    if found is not None:
        raise ConfigError(
            f"{path}: {key} holds the control character {found}, which Word and Excel "
            "files cannot hold; remove it"
        )


def _report_settings(values: dict[str, Any], path: Path) -> ReportSettings:
    authors = values["authors"]
    if not all(isinstance(a, str) for a in authors):
        raise ConfigError(f"{path}: [report] authors must be a list of names (text)")
    for key in ("title", "study"):
        _refuse_control_characters(path, f"[report] {key}", values[key])
    for i, author in enumerate(authors):
        _refuse_control_characters(path, f"[report] authors[{i}]", author)
    cutoff = values["data_cutoff"]
    if isinstance(cutoff, dt.datetime):
        raise ConfigError(f"{path}: [report] data_cutoff must be a date (YYYY-MM-DD), not a time")
    if isinstance(cutoff, str) and cutoff:
        try:
            cutoff = dt.date.fromisoformat(cutoff)
        except ValueError:
            raise ConfigError(
                f"{path}: [report] data_cutoff must be a date YYYY-MM-DD, not {cutoff!r}"
            ) from None
    return ReportSettings(
        title=values["title"].strip() or DEFAULT_TITLE,
        study=values["study"].strip(),
        data_cutoff=cutoff.isoformat() if isinstance(cutoff, dt.date) else "",
        authors=tuple(a.strip() for a in authors if a.strip()),
    )


def _input_kind(raw: dict[str, Any]) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """``[input] kind`` and, for a kind other than ``"file"``, its own settings (every key
    but ``kind``, ``mapping`` and ``tables``, checked by its source) taken out of the
    file's values."""
    given = raw.get("input")
    if not isinstance(given, dict):
        return raw, DEFAULT_KIND, {}
    kind = given.get("kind", DEFAULT_KIND)
    if not isinstance(kind, str) or kind == DEFAULT_KIND:
        return raw, DEFAULT_KIND, {}  # a kind that is not text is named by _check
    own = ("kind", "mapping", "tables")
    settings = {k: v for k, v in given.items() if k not in own}
    kept = {k: v for k, v in given.items() if k in own}
    return {**raw, "input": kept}, kind, settings


def _check(raw: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    unknown_sections = sorted(set(raw) - set(_SPEC))
    if unknown_sections:
        raise ConfigError(
            f"{path}: unknown section [{unknown_sections[0]}]; known sections: "
            + ", ".join(f"[{s}]" for s in _SPEC)
        )
    values: dict[str, dict[str, Any]] = {}
    for section, keys in _SPEC.items():
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"{path}: {section} must be a section ([{section}])")
        unknown = sorted(set(given) - set(keys))
        if unknown:
            raise ConfigError(
                f"{path}: unknown key '{unknown[0]}' in [{section}]; known keys: " + ", ".join(keys)
            )
        values[section] = {}
        for key, (types, default) in keys.items():
            if key not in given:
                if default is ...:
                    raise ConfigError(f"{path}: missing key '{key}' in [{section}]")
                values[section][key] = default
                continue
            value = given[key]
            bad_bool = isinstance(value, bool) and bool not in types
            if not isinstance(value, types) or bad_bool:
                names = " or ".join(t.__name__ for t in types)
                raise ConfigError(
                    f"{path}: [{section}] {key} must be {names}, "
                    f"not {type(value).__name__} ({value!r})"
                )
            _check_bounds(path, section, key, value)
            values[section][key] = value
    return values


def _check_bounds(path: Path, section: str, key: str, value: Any) -> None:
    if (section, key) not in _BOUNDS:
        return
    lo, hi, closed = _BOUNDS[section, key]
    inside = math.isfinite(value) and (lo <= value if closed else lo < value) and value <= hi
    if not inside:
        low = f"at least {lo:g}" if closed else f"above {lo:g}"
        raise ConfigError(
            f"{path}: [{section}] {key} = {value!r} is out of range; "
            f"give a finite number {low} and at most {hi:g}"
        )
