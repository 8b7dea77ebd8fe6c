"""Mapping files: parse and check the TOML that turns a site's export into a section-1 extract.

A mapping file has two sections (contract sections 5 and 5a): ``[source]`` (how to read the
export: ``encoding``, ``delimiter``, ``decimal``, ``date_format``, ``missing_codes``, ``id``;
which unnamed columns to carry, ``keep``; the dictionary's ``identifiers`` and
``keep_identifiers``) and ``[columns]`` (contract column = source column, or a table with
``from``, ``values``, ``missing``, ``where``, ``format``, ``unit``, ``combine``,
``checkboxes`` and ``tested``); and a ``[tables.NAME]`` section for each event table it
fills from REDCap events and repeating instruments (contract section 6: the same keys but
``combine``, ``checkboxes`` and ``tested``, plus a table-wide ``where``; :class:`TableMap`).
The whole file is checked before any export row is read, and again against the export's
header (:meth:`MappingSpec.resolve`, :meth:`MappingSpec.resolve_tables`); every problem is
collected, and they are raised together as one :class:`~imnm_cohort.errors.MappingError`
line naming the file and each key (exit code 2).
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imnm_cohort.contracts.events import EVENT_TABLES
from imnm_cohort.contracts.hints import BOOLEAN_VALUES, did_you_mean
from imnm_cohort.contracts.patients import (
    CONTRACT_COLUMNS,
    OTHER_MSA,
    PATIENTS,
    REQUIRED_COLUMNS,
    column_kind,
)
from imnm_cohort.contracts.table import TableContract
from imnm_cohort.errors import ConfigError, MappingError
from imnm_cohort.settings_files import read_toml_and_bytes
from imnm_cohort.sources.files import SourceOptions, is_reserved

SOURCE_KEYS = ("encoding", "delimiter", "decimal", "date_format", "missing_codes", "id",
               "keep", "identifiers", "keep_identifiers")  # fmt: skip
COLUMN_KEYS = ("from", "values", "missing", "where", "format", "unit", "combine",
               "checkboxes", "tested")  # fmt: skip
#: The keys of a ``[tables.NAME]`` column: one row per source row, so nothing to combine.
TABLE_COLUMN_KEYS = ("from", "values", "missing", "where", "format", "unit")
#: Per table, the columns that take a ``unit`` (CK and its upper limit, in U/L).
UNIT_COLUMNS = {"patients": ("ck_peak", "ck_uln"), "visits": ("ck", "ck_uln")}
#: Units of ``ck_peak`` and ``ck_uln`` and their factor to U/L (1 U = 1 umol/min = 1/60 ukat).
UNITS = {"u/l": 1.0, "iu/l": 1.0, "ukat/l": 60.0, "µkat/l": 60.0, "μkat/l": 60.0}
COMBINE_RULES = ("same", "max", "min", "first", "last", "any", "all")
COMBINE_AT = ("at_min:", "at_max:")
_ORDERED_KINDS = ("date", "float")


@dataclass(frozen=True)
class ColumnMap:
    """How one contract column is made from the export.

    Attributes
    ----------
    contract : str
        The contract column.
    source : str or None
        The source column (``from``); None for a ``checkboxes`` entry.
    values : dict or None
        Source text (trimmed, lower case) -> contract value.
    date_format : str or None
        This date column's strftime format (``format``).
    factor : float
        Multiplier to U/L (``unit``).
    combine : str
        How a patient's rows give one value (``same`` by default).
    checkboxes : tuple of (str, str)
        Source column -> antibody, for ``other_msa``; an empty antibody ignores the box.
    tested : str or None
        The yes/no source column saying whether the antibody panel was done.
    missing : tuple of str
        This column's own missing codes (``missing``), trimmed and lower case.
    where : tuple of (str, tuple of str)
        The row filter (``where``): source column -> accepted values, trimmed and lower case.
    """

    contract: str
    source: str | None
    values: dict[str, str] | None = None
    date_format: str | None = None
    factor: float = 1.0
    combine: str = "same"
    checkboxes: tuple[tuple[str, str], ...] = ()
    tested: str | None = None
    missing: tuple[str, ...] = ()
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def source_columns(self) -> tuple[str, ...]:
        """Every source column whose cells this entry carries into its value."""
        named = (self.source, *(box for box, _ in self.checkboxes), self.tested)
        return tuple(c for c in named if c)

    def read_columns(self) -> tuple[str, ...]:
        """Every source column this entry reads: its sources and its row filter's columns."""
        return (*self.source_columns(), *(c for c, _ in self.where))

    def label(self) -> str:
        """The source column(s), as named in messages."""
        if self.checkboxes:
            return "+".join(box for box, _ in self.checkboxes)
        return self.source or self.contract


@dataclass(frozen=True)
class TableMap:
    """How one event table (contract section 6) is filled from an export's rows.

    One table row per source row (a REDCap event or repeating-instrument instance) that
    has a value in any of the table's columns other than ``patient_id``, after each
    column's missing codes and row filters.

    Attributes
    ----------
    name : str
        The event table (``visits``, ``treatments``, ``antibody_tests``, ``cancers``).
    columns : dict
        Contract column of that table -> :class:`ColumnMap`, as written.
    where : tuple of (str, tuple of str)
        The table-wide row filter (``where`` in ``[tables.NAME]``): only matching rows
        give the table rows; each column's own ``where`` narrows it further.
    """

    name: str
    columns: dict[str, ColumnMap] = field(default_factory=dict)
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def key(self) -> str:
        """The section's name in messages: ``[tables.visits]``."""
        return f"[tables.{self.name}]"

    def read_columns(self) -> tuple[str, ...]:
        """Every source column the table reads (its columns' and its filter's)."""
        named = [c for column in self.columns.values() for c in column.read_columns()]
        return tuple(dict.fromkeys([*named, *(c for c, _ in self.where)]))


@dataclass(frozen=True)
class MappingSpec:
    """A checked mapping file.

    Attributes
    ----------
    path : Path
    sha256 : str
        SHA-256 of the file's bytes (recorded in reports and manifests).
    encoding, delimiter, decimal, date_format : str or None
        ``[source]`` settings.
    missing_codes : tuple of str
    id : str or None
        The source column whose value identifies a patient across rows.
    keep : tuple of str
        Source columns no entry names that are carried into the extract (``[source] keep``).
    identifiers : tuple of str
        Fields the data dictionary flags as identifiers (``[source] identifiers``).
    keep_identifiers : bool or tuple of str
        Whether listed identifiers may be kept or read by a column other than patient_id:
        ``True`` for all of them, or the names of those that may.
    columns : dict
        Contract column -> :class:`ColumnMap`, as written in ``[columns]``.
    tables : dict
        Event table -> :class:`TableMap`, as written in ``[tables.NAME]``, in contract order.
    """

    path: Path
    sha256: str
    encoding: str | None = None
    delimiter: str = ","
    decimal: str = "."
    date_format: str | None = None
    missing_codes: tuple[str, ...] = ()
    id: str | None = None
    keep: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    keep_identifiers: bool | tuple[str, ...] = False
    columns: dict[str, ColumnMap] = field(default_factory=dict)
    tables: dict[str, TableMap] = field(default_factory=dict)

    def source_options(self) -> SourceOptions:
        """How to read the export: its encoding and delimiter; no required columns."""
        return SourceOptions(encoding=self.encoding, delimiter=self.delimiter, required=())

    def to_dict(self) -> dict[str, str]:
        """``{"file": name, "sha256": digest}`` for reports and the manifest."""
        return {"file": self.path.name, "sha256": self.sha256}

    def resolve(self, header: list[str]) -> dict[str, ColumnMap]:
        """Every contract column the export gives: the mapped ones and same-named columns.

        Raises
        ------
        MappingError
            When a ``from``, ``checkboxes``, ``tested``, ``where``, ``[source] id`` or
            ``[source] keep`` column is not in the export's header, when a required column
            is neither named nor in the export, or when a same-named column is a listed
            identifier (every such problem in one line).
        """
        present = set(header)
        problems = []
        if self.id is not None and self.id not in present:
            problems.append(_absent("[source] id", self.id, header))
        problems += [_absent("[source] keep", c, header) for c in self.keep if c not in present]
        for name, column in self.columns.items():
            for source in column.source_columns():
                if source not in present:
                    problems.append(_absent(f"[columns] {name}", source, header))
            for source, _ in column.where:
                if source not in present:
                    problems.append(_absent(f"[columns] {name} where", source, header))
        if problems:
            raise MappingError(self.path, problems)
        resolved = dict(self.columns)
        lowered = {h.strip().lower(): h for h in header}
        for name in CONTRACT_COLUMNS:
            if name not in resolved and name in lowered:
                resolved[name] = ColumnMap(name, lowered[name])
        if "patient_id" not in resolved and self.id is not None:
            resolved["patient_id"] = ColumnMap("patient_id", self.id)
        problems += [
            f"{name} is required: name its source column in [columns]"
            for name in REQUIRED_COLUMNS
            if name not in resolved
        ]
        implicit = {n: c for n, c in resolved.items() if n not in self.columns}
        flags = {"identifiers": self.identifiers, "keep_identifiers": self.keep_identifiers}
        problems += _identifier_problems(flags, implicit, ())
        for name, column in resolved.items():
            other = column.combine.split(":", 1)[1] if ":" in column.combine else None
            if other is not None and other not in resolved:
                problems.append(
                    f"[columns] {name} combine: '{column.combine}' needs {other}, which neither "
                    "the mapping nor the export gives"
                )
        if problems:
            raise MappingError(self.path, problems)
        return {name: resolved[name] for name in CONTRACT_COLUMNS if name in resolved}

    def resolve_tables(self, header: list[str]) -> dict[str, TableMap]:
        """The ``[tables.NAME]`` sections checked against the export's header, each with
        its ``patient_id``: named in the section, else ``[source] id``, else the source
        column of ``[columns] patient_id``.

        A table takes only the columns it names (no same-named source column is taken:
        names such as ``value``, ``unit`` or ``result`` are too common to guess).

        Raises
        ------
        MappingError
            A column the export lacks, a table without its patient's id, or a required
            column of a table that the section does not name (every problem in one line).
        """
        present = set(header)
        problems = []
        for table in self.tables.values():
            for source, _ in table.where:
                if source not in present:
                    problems.append(_absent(f"{table.key} where", source, header))
            for name, column in table.columns.items():
                for source in column.source_columns():
                    if source not in present:
                        problems.append(_absent(f"{table.key} {name}", source, header))
                for source, _ in column.where:
                    if source not in present:
                        problems.append(_absent(f"{table.key} {name} where", source, header))
        if problems:
            raise MappingError(self.path, problems)
        patient = self.id
        if patient is None and "patient_id" in self.columns:
            patient = self.columns["patient_id"].source
        if patient is None and "patient_id" in {h.strip().lower() for h in header}:
            patient = next(h for h in header if h.strip().lower() == "patient_id")
        resolved = {}
        for name, table in self.tables.items():
            columns = dict(table.columns)
            if "patient_id" not in columns and patient is not None:
                columns["patient_id"] = ColumnMap("patient_id", patient)
            contract = EVENT_TABLES[name]
            problems += [
                f"{table.key} {column} is required: name its source column in {table.key}"
                for column in contract.required
                if column not in columns
            ]
            order = [c for c in contract.columns if c in columns]
            resolved[name] = TableMap(name, {c: columns[c] for c in order}, table.where)
        if problems:
            raise MappingError(self.path, problems)
        return resolved


def _absent(key: str, source: str, header: list[str]) -> str:
    """A source column the export lacks; a header name is suggested only when it is the same
    name but for case, spaces or punctuation (never another field)."""
    wanted = _spelling(source)
    same = [h for h in header if _spelling(h) == wanted and wanted]
    hint = f" (the export has '{same[0]}')" if same else ""
    return f"{key}: column '{source}' is not in this export{hint}"


def _spelling(name: str) -> str:
    """A name without case, spaces or punctuation: ``BX P62`` and ``bx_p62`` are one."""
    folded = unicodedata.normalize("NFKC", str(name)).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _identifier_problems(
    settings: dict[str, Any], columns: dict[str, ColumnMap], keep: tuple[str, ...]
) -> list[str]:
    """Listed identifiers that ``keep`` or a column other than patient_id would carry.

    ``settings`` holds ``identifiers`` and ``keep_identifiers`` (the ``[source]`` settings).
    """
    allowed = settings.get("keep_identifiers", False)
    if allowed is True or not settings.get("identifiers"):
        return []
    listed = {c.casefold() for c in settings["identifiers"]} - {c.casefold() for c in allowed or ()}

    def flagged(key: str, name: str) -> str:
        return (
            f"{key}: '{name}' is flagged as an identifier; to carry it knowingly, set "
            f'[source] keep_identifiers = ["{name}"]'
        )

    problems = [flagged("[source] keep", c) for c in keep if c.casefold() in listed]
    for name, column in columns.items():
        if name != "patient_id":
            problems += [
                flagged(f"[columns] {name}", c)
                for c in column.source_columns()
                if c.casefold() in listed
            ]
    return problems


def load_mapping(path: str | Path) -> MappingSpec:
    """Read and check a mapping file.

    Parameters
    ----------
    path : str or Path
        A TOML mapping file (contract section 5).

    Returns
    -------
    MappingSpec

    Raises
    ------
    MappingError
        For an unreadable file, invalid TOML, or any unknown section, key, contract column,
        unit, combine rule or value; every problem is named, in one line (exit code 2).
    """
    path = Path(path)
    try:
        raw, data = read_toml_and_bytes(path, "mapping file")
    except ConfigError as exc:  # a device, a FIFO, too large, too deep, not TOML
        raise MappingError(path, [str(exc).removeprefix(f"{path}: ")]) from None
    problems: list[str] = []
    for section in sorted(set(raw) - {"source", "columns", "tables"}):
        if isinstance(raw[section], dict):
            problems.append(
                f"unknown section [{section}]; known sections: [source], [columns], [tables.NAME]"
            )
        else:
            where = "[columns]" if section in CONTRACT_COLUMNS else "[source] or [columns]"
            problems.append(f"{section}: a key outside any section; put it under {where}")
    source = _table(raw.get("source", {}), "[source]", problems)
    columns = _table(raw.get("columns", {}), "[columns]", problems)
    settings = _source_settings(source, problems)
    parsed = {}
    for name, entry in columns.items():
        column = _column(name, entry, settings, problems)
        if column is not None:
            parsed[name] = column
    problems += _identifier_problems(settings, parsed, settings.get("keep", ()))
    tables = _tables(raw.get("tables", {}), settings, problems)
    if problems:
        raise MappingError(path, problems)
    return MappingSpec(
        path=path,
        sha256=hashlib.sha256(data).hexdigest(),
        columns=parsed,
        tables=tables,
        **settings,
    )


def _tables(given: Any, settings: dict[str, Any], problems: list[str]) -> dict[str, TableMap]:
    """The ``[tables.NAME]`` sections, in contract order (contract section 6)."""
    sections = _table(given, "[tables]", problems)
    for name in sorted(set(sections) - set(EVENT_TABLES)):
        problems.append(
            f"[tables.{name}]: '{name}' is not an event table"
            f"{did_you_mean(name, tuple(EVENT_TABLES))}; known tables: {', '.join(EVENT_TABLES)}"
        )
    tables = {}
    for name, contract in EVENT_TABLES.items():
        if name not in sections:
            continue
        key = f"[tables.{name}]"
        entries = _table(sections[name], key, problems)
        where: tuple[tuple[str, tuple[str, ...]], ...] = ()
        columns = {}
        for column, entry in entries.items():
            if column == "where":
                where = _where(entry, f"{key} where", problems)
                continue
            parsed = _column(column, entry, settings, problems, contract, key)
            if parsed is not None:
                columns[column] = parsed
        if not columns:
            problems.append(f"{key}: name at least one column, e.g. {_example(contract)}")
        problems += [
            p.replace("[columns]", key, 1) for p in _identifier_problems(settings, columns, ())
        ]
        tables[name] = TableMap(name, columns, where)
    return tables


def _example(contract: TableContract) -> str:
    """A column line for a table's messages: its first required column after the id."""
    first = next(c for c in contract.required if c != "patient_id")
    return f'{first} = "source_column"'


def _table(value: Any, key: str, problems: list[str]) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    problems.append(f"{key} must be a table")
    return {}


def _unknown(keys: Any, known: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in sorted(set(keys) - set(known)):
        problems.append(
            f"{where}: unknown key '{key}'{did_you_mean(key, known)}; known keys: "
            + ", ".join(known)
        )


def _text(value: Any, key: str, problems: list[str]) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    problems.append(f"{key} must be a non-empty string, not {value!r}")
    return None


def _source_settings(source: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    _unknown(source, SOURCE_KEYS, "[source]", problems)
    settings: dict[str, Any] = {}
    if "encoding" in source and (enc := _text(source["encoding"], "[source] encoding", problems)):
        try:
            codecs.lookup(enc)
            settings["encoding"] = enc
        except LookupError:
            problems.append(f"[source] encoding: '{enc}' is not a known codec (e.g. cp1252)")
    if "delimiter" in source:
        delimiter = source["delimiter"]
        if isinstance(delimiter, str) and len(delimiter) == 1 and delimiter not in '"\r\n':
            settings["delimiter"] = delimiter
        else:
            problems.append(f"[source] delimiter must be one character, not {delimiter!r}")
    if "decimal" in source:
        if source["decimal"] in (".", ","):
            settings["decimal"] = source["decimal"]
        else:
            problems.append(f"[source] decimal must be '.' or ',', not {source['decimal']!r}")
    if "date_format" in source:
        settings["date_format"] = _date_format(
            source["date_format"], "[source] date_format", problems
        )
    if "missing_codes" in source:
        codes = source["missing_codes"]
        if isinstance(codes, list) and all(isinstance(c, str | int | float) for c in codes):
            settings["missing_codes"] = tuple(str(c).strip() for c in codes)
        else:
            problems.append('[source] missing_codes must be a list of strings, e.g. ["UNK"]')
    if "id" in source:
        settings["id"] = _text(source["id"], "[source] id", problems)
    for key in ("keep", "identifiers"):
        if key in source:
            settings[key] = _names(source[key], f"[source] {key}", problems)
    for kept in settings.get("keep", ()):
        if kept.lower() in CONTRACT_COLUMNS:
            problems.append(
                f"[source] keep: '{kept}' is a contract column's name; name it in [columns]"
            )
        elif is_reserved(kept):  # carried, it would meet the column the toolkit adds
            problems.append(
                f"[source] keep: '{kept}' is the name of a column the toolkit adds to its "
                "outputs; leave it out of keep (it is computed again)"
            )
    if "keep_identifiers" in source:
        allowed = source["keep_identifiers"]
        key = "[source] keep_identifiers"
        if isinstance(allowed, bool):
            settings["keep_identifiers"] = allowed
        elif isinstance(allowed, list):
            settings["keep_identifiers"] = _names(allowed, key, problems)
            listed = {c.casefold() for c in settings.get("identifiers", ())}
            problems += [
                f"{key}: '{c}' is not in [source] identifiers"
                for c in settings["keep_identifiers"]
                if c.casefold() not in listed
            ]
        else:
            problems.append(f'{key} must be true, false or a list of identifiers, e.g. ["dob"]')
    return settings


def _names(value: Any, key: str, problems: list[str]) -> tuple[str, ...]:
    """A list of source column names (each trimmed, none empty)."""
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(dict.fromkeys(v.strip() for v in value))
    problems.append(f'{key} must be a list of source column names, e.g. ["site_note"]')
    return ()


def _date_format(value: Any, key: str, problems: list[str]) -> str | None:
    """A strftime format that writes and reads back year, month and day."""
    fmt = _text(value, key, problems)
    if fmt is None:
        return None
    probe = dt.date(2001, 12, 31)
    try:
        back = dt.datetime.strptime(probe.strftime(fmt), fmt).date()
    except ValueError:
        back = None
    if back != probe:
        problems.append(
            f"{key}: '{fmt}' is not a date format with day, month and year "
            "(e.g. '%d/%m/%Y', '%Y-%m-%d', '%d.%m.%Y')"
        )
        return None
    return fmt


def _column(
    name: str,
    entry: Any,
    settings: dict[str, Any],
    problems: list[str],
    contract: TableContract = PATIENTS,
    section: str = "[columns]",
) -> ColumnMap | None:
    """One column entry of ``[columns]`` (the patient table) or of ``[tables.NAME]``."""
    where = f"{section} {name}"
    known = tuple(contract.columns)
    if name not in known:
        what = "a contract column" if contract is PATIENTS else f"a column of {contract.name}"
        problems.append(f"{where}: '{name}' is not {what}{did_you_mean(name, known)}")
        return None
    if isinstance(entry, str):
        source = _text(entry, where, problems)
        return ColumnMap(name, source) if source else None
    if not isinstance(entry, dict):
        problems.append(f"{where} must be a source column name or a table")
        return None
    if contract is not PATIENTS:
        for key in ("combine", "checkboxes", "tested"):
            if key in entry:
                problems.append(
                    f"{where} {key}: only in [columns]; a table keeps one row per source row"
                )
        entry = {k: v for k, v in entry.items() if k not in ("combine", "checkboxes", "tested")}
    _unknown(entry, COLUMN_KEYS if contract is PATIENTS else TABLE_COLUMN_KEYS, where, problems)
    kind = contract.kind(name)
    source = _text(entry["from"], f"{where} from", problems) if "from" in entry else None
    column = ColumnMap(name, source)
    fields: dict[str, Any] = {}
    if "values" in entry:
        fields["values"] = _values(name, entry["values"], where, problems, contract)
    if "format" in entry:
        if kind != "date":
            problems.append(f"{where} format: only date columns take a format")
        else:
            fields["date_format"] = _date_format(entry["format"], f"{where} format", problems)
    if "unit" in entry:
        unit = str(entry["unit"]).strip().lower()
        takes = UNIT_COLUMNS.get(contract.name, ())
        if name not in takes:
            problems.append(f"{where} unit: only {' and '.join(takes) or 'CK columns'} take a unit")
        elif unit not in UNITS:
            problems.append(f"{where} unit: '{entry['unit']}' is not U/L, IU/L or ukat/L")
        else:
            fields["factor"] = UNITS[unit]
    if "combine" in entry:
        fields["combine"] = _combine(name, entry["combine"], settings, where, problems)
    if "checkboxes" in entry:
        fields["checkboxes"] = _checkboxes(name, entry["checkboxes"], where, problems)
        if source is not None:
            problems.append(f"{where}: give either 'from' or 'checkboxes', not both")
    if "tested" in entry:
        if "checkboxes" not in entry:
            problems.append(f"{where} tested: only with 'checkboxes'")
        fields["tested"] = _text(entry["tested"], f"{where} tested", problems)
    if "missing" in entry:
        fields["missing"] = _missing(entry["missing"], fields.get("values"), where, problems)
        if source is None:
            problems.append(f"{where} missing: only with 'from' (the column's own codes)")
    if "where" in entry:
        fields["where"] = _where(entry["where"], where, problems)
    if source is None and "checkboxes" not in entry:
        problems.append(f"{where}: a table needs 'from' (the source column)")
    return ColumnMap(column.contract, column.source, **fields)


def _values(
    name: str, values: Any, where: str, problems: list[str], contract: TableContract = PATIENTS
) -> dict[str, str] | None:
    if not isinstance(values, dict) or not values:
        problems.append(f"{where} values must be a table of source value = contract value")
        return None
    kind = contract.kind(name)
    allowed: tuple[str, ...] | None = contract.allowed.get(name)
    if kind == "bool":
        allowed = BOOLEAN_VALUES
    mapped: dict[str, str] = {}
    for code, target in values.items():
        if not isinstance(target, str):
            problems.append(f"{where} values: '{code}' must map to a string, not {target!r}")
            continue
        value = target.strip().lower() if allowed or kind == "msa_list" else target.strip()
        tokens = [t for t in value.split(";") if t] if kind == "msa_list" else [value]
        choices = (*OTHER_MSA, "none") if kind == "msa_list" else allowed
        for token in tokens:
            if choices and token not in choices:
                problems.append(
                    f"{where} values: '{code}' = '{target}' is not allowed"
                    f"{did_you_mean(token, choices)}; allowed: {', '.join(choices)}"
                )
        mapped[str(code).strip().lower()] = value
    return mapped


def _missing(
    codes: Any, values: dict[str, str] | None, where: str, problems: list[str]
) -> tuple[str, ...]:
    """A column's own missing codes: trimmed, lower case; none may also be in ``values``."""
    if not isinstance(codes, list) or not all(isinstance(c, str | int | float) for c in codes):
        problems.append(f'{where} missing must be a list of source values, e.g. ["4", "Not done"]')
        return ()
    lowered = tuple(dict.fromkeys(str(c).strip().lower() for c in codes))
    for code in lowered:
        if values is not None and code in values:
            problems.append(
                f"{where} missing: '{code}' is also in values; a code is either a value or missing"
            )
    return lowered


def _where(rule: Any, where: str, problems: list[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A row filter: source column -> one value or a list of values (trimmed, lower case)."""
    example = '{ analyte = "CK" } or { analyte = ["CK", "CPK"] }'
    if not isinstance(rule, dict) or not rule:
        problems.append(f"{where} where must be a table of source column = value, e.g. {example}")
        return ()
    pairs = []
    for column, accepted in rule.items():
        values = accepted if isinstance(accepted, list) else [accepted]
        if not values or not all(isinstance(v, str | int | float) for v in values):
            problems.append(f"{where} where: '{column}' must be a value or a list, e.g. {example}")
            continue
        pairs.append((str(column).strip(), tuple(str(v).strip().lower() for v in values)))
    return tuple(pairs)


def _combine(
    name: str, rule: Any, settings: dict[str, Any], where: str, problems: list[str]
) -> str:
    kind = column_kind(name)
    rule = str(rule).strip()
    known = (*COMBINE_RULES, "at_min:COLUMN", "at_max:COLUMN")
    if settings.get("id") is None:
        problems.append(f"{where} combine: only with [source] id (rows of one patient)")
    if rule.startswith(COMBINE_AT):
        other = rule.split(":", 1)[1]
        if other not in CONTRACT_COLUMNS or column_kind(other) not in _ORDERED_KINDS:
            ordered = [c for c in CONTRACT_COLUMNS if column_kind(c) in _ORDERED_KINDS]
            problems.append(
                f"{where} combine: '{rule}' needs a date or number contract column"
                f"{did_you_mean(other, ordered)}"
            )
        elif other == name:
            problems.append(f"{where} combine: '{rule}' names the column itself; use max or min")
    elif rule not in COMBINE_RULES:
        problems.append(
            f"{where} combine: unknown rule '{rule}'{did_you_mean(rule, COMBINE_RULES)}; "
            f"choose one of: {', '.join(known)}"
        )
    elif rule in ("max", "min") and kind not in _ORDERED_KINDS:
        problems.append(f"{where} combine: '{rule}' needs a date or number column")
    elif rule in ("any", "all") and kind != "bool":
        problems.append(f"{where} combine: '{rule}' needs a yes/no column")
    return rule


def _checkboxes(
    name: str, boxes: Any, where: str, problems: list[str]
) -> tuple[tuple[str, str], ...]:
    if name != "other_msa":
        problems.append(f"{where} checkboxes: only other_msa takes checkboxes")
        return ()
    if not isinstance(boxes, dict) or not boxes:
        problems.append(f"{where} checkboxes must be a table of source column = antibody")
        return ()
    pairs = []
    for box, antibody in boxes.items():
        value = str(antibody).strip().lower()
        if value and value not in OTHER_MSA:
            problems.append(
                f"{where} checkboxes: '{box}' = '{antibody}' is not an antibody"
                f"{did_you_mean(value, OTHER_MSA)}; allowed: {', '.join(OTHER_MSA)}, "
                'or "" to ignore the box'
            )
        pairs.append((str(box).strip(), value))
    return tuple(pairs)
