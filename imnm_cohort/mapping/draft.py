"""Draft a mapping file from a REDCap data dictionary; the data manager reviews it.

The dictionary is read by :mod:`~imnm_cohort.mapping.dictionary` (``,``, ``;`` or tab
separated, ``.xlsx``, older headers). Contract columns are matched to fields by scored
candidates (:mod:`~imnm_cohort.mapping.candidates`): by name, by a synonym, by label words,
a non-repeating form before a repeating one for a patient-level column; a field that speaks
of another person or another event, or asks its question the other way round, is never
proposed live. For each contract column the draft writes either

* a **live** line, when one field matches clearly and every one of its choices maps to a
  contract value (by the choice's label, never by its code: ``0, Myopathic | 1, Normal``
  gives ``"0" = "true", "1" = "false"``) or to a missing code of that column
  (``missing = ["9"]`` for "Unknown", "Not done"); a coded field always gets ``values``;
* or a **commented** line, with the reason and the next candidates (field name and label).
  Required columns not drafted live are ``# REQUIRED:`` lines.

Beside ``values`` and ``missing`` it drafts ``checkboxes`` for ``other_msa`` (box labels read
by :func:`~imnm_cohort.mapping.antibodies.antibody_name`) with ``tested`` when a yes/no field
says the panel was done; a date ``format`` from the validation type, datetimes included;
``combine`` rules for the columns that come from several rows, with ``[source] id`` set to
the record id (REDCap's first field); ``[source] decimal = ","`` for a comma-decimal CK
field; and ``[source] identifiers``, the fields the dictionary flags as identifiers.

Nothing is guessed at run time: the draft is a file the data manager reads, edits and keeps.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from imnm_cohort.contracts.patients import CONTRACT_COLUMNS, REQUIRED_COLUMNS, column_kind
from imnm_cohort.mapping.antibodies import antibody_name
from imnm_cohort.mapping.candidates import (
    LABEL_WORDS,
    ROW_COLUMNS,
    SYNONYMS,
    Candidate,
    assign,
    clear,
    looks_repeating,
    words,
)
from imnm_cohort.mapping.choices import read_choices
from imnm_cohort.mapping.dictionary import Field, read_redcap_dictionary

__all__ = [
    "COMBINE_DRAFT",
    "DATE_FORMATS",
    "LABEL_WORDS",
    "SYNONYMS",
    "Draft",
    "Field",
    "draft_from_readstat",
    "draft_from_redcap",
    "draft_mapping",
]

#: Columns that come from several rows in a longitudinal project, and their combine rule.
COMBINE_DRAFT = {
    "last_followup_date": "max",
    "ck_peak": "max",
    "cancer_date": "min",
    "cancer_icd10": "at_min:cancer_date",
}
#: REDCap validation type -> the format of that field's cells in a raw export. REDCap's raw
#: CSV export writes dates YYYY-MM-DD (always read) and datetimes YYYY-MM-DD HH:MM[:SS]
#: whatever the validation type; day- and month-first dates get their own format for an
#: export re-saved elsewhere.
DATE_FORMATS = {
    "date_dmy": "%d/%m/%Y",
    "date_mdy": "%m/%d/%Y",
    "datetime_ymd": "%Y-%m-%d %H:%M",
    "datetime_dmy": "%Y-%m-%d %H:%M",
    "datetime_mdy": "%Y-%m-%d %H:%M",
    "datetime_seconds_ymd": "%Y-%m-%d %H:%M:%S",
    "datetime_seconds_dmy": "%Y-%m-%d %H:%M:%S",
    "datetime_seconds_mdy": "%Y-%m-%d %H:%M:%S",
}
_RESAVED = {"dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}
_TESTED_WORDS = (("panel",), ("antibod", "done"), ("antibod", "tested"))
_CK_LABELS = ("ck", "cpk", "creatine kinase", "creatine phosphokinase", "creatinine kinase")


@dataclass(frozen=True)
class Draft:
    """A drafted mapping.

    Attributes
    ----------
    text : str
        The mapping file (TOML, with comments).
    matched : dict
        Contract column -> field name, for the columns drafted live.
    unmatched : tuple of str
        Contract columns not drafted live (commented out in ``text``).
    required : tuple of str
        The required contract columns among ``unmatched`` (``# REQUIRED:`` lines).
    identifiers : tuple of str
        Fields the dictionary flags as identifiers (``[source] identifiers``).
    """

    text: str
    matched: dict[str, str]
    unmatched: tuple[str, ...]
    required: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()


def draft_from_redcap(path: str | Path) -> Draft:
    """Draft a mapping from a REDCap data dictionary file (see the module's description)."""
    read = read_redcap_dictionary(path)
    fields = list(read.fields)
    return draft_mapping(
        fields,
        record_id=fields[0].name if fields else None,
        source=Path(path),
        delimiter=read.delimiter,
    )


def draft_from_readstat(path: str | Path) -> Draft:
    """Draft a mapping from an SPSS or Stata file's variable and value labels.

    The file is taken as one row per patient (no ``[source] id``); its value labels are
    offered as ``values`` (stored code -> contract value).
    """
    from imnm_cohort.sources.readstat import value_labels

    labels, values = value_labels(path)
    fields = [
        Field(
            name=name,
            ftype="radio" if name in values else "text",
            label=label,
            choices=tuple(values.get(name, {}).items()),
        )
        for name, label in labels.items()
    ]
    return draft_mapping(fields, record_id=None, source=Path(path))


def draft_mapping(
    fields: list[Field], *, record_id: str | None, source: Path, delimiter: str = ","
) -> Draft:
    """Draft a mapping from dictionary fields; ``record_id`` identifies a patient's rows."""
    ranked = _with_analyte_forms(assign(fields), fields)
    taken = {r[0].field.name: c for c, r in ranked.items() if clear(r)}
    entries = {c: _entry(c, ranked[c], fields, ranked, record_id, taken) for c in CONTRACT_COLUMNS}
    live = {c: e.field for c, e in entries.items() if e.live and e.field}
    if record_id is not None and "patient_id" not in live:
        live["patient_id"] = record_id  # [source] id gives patient_id
    identifiers = tuple(f.name for f in fields if f.identifier)
    lines = [
        f"# Mapping drafted by imnm-cohort draft-mapping from {source.name}.",
        "# Review every line before use: check the values, the date formats and the combine",
        "# rules. Commented lines are columns the draft would not fill in by itself: each says",
        "# why and which fields came closest. '# REQUIRED:' columns must be named before use.",
        "",
        "[source]",
        '# missing_codes = ["UNK", "NASK"]   # the project\'s missing-data codes, if any',
    ]
    if record_id is not None:
        lines.append(f"id = {_q(record_id)}   # REDCap's record id: rows of one record combine")
    lines += _decimal_lines(fields, live)
    if delimiter != ",":
        lines.append(
            f"# delimiter = {_q(delimiter)}   # the dictionary was saved with this delimiter; "
            "set it if the export was too"
        )
    if identifiers:
        lines += [
            "# Fields the dictionary flags as identifiers (Identifier? = y). map neither keeps",
            "# them nor lets a column other than patient_id read them, unless keep_identifiers",
            "# names them:",
            *(f"#   {f.name} ('{f.label}')" for f in fields if f.identifier),
            f"identifiers = {_list(identifiers)}",
        ]
        wanted = [e.field for e in entries.values() if e.wants_identifier and e.field]
        if wanted:
            lines.append(
                f"# keep_identifiers = {_list(wanted)}   # only if the columns that would read "
                "them (commented below) must"
            )
    lines += ["", "[columns]"]
    for column in CONTRACT_COLUMNS:
        lines += entries[column].lines
    lines += TABLES_NOT_DRAFTED
    unmatched = tuple(c for c in CONTRACT_COLUMNS if c not in live)
    required = tuple(c for c in unmatched if c in REQUIRED_COLUMNS)
    return Draft("\n".join(lines) + "\n", live, unmatched, required, identifiers)


#: The event tables (contract section 6) are not drafted: a data dictionary does not say
#: which instruments repeat or which event holds which form, so any guess could mislead.
TABLES_NOT_DRAFTED = [
    "",
    "# Event tables (contract section 6) are not drafted: the dictionary does not say which",
    "# instruments repeat. To fill visits, treatments, antibody_tests or cancers from events",
    "# or repeating instruments, write [tables.NAME] sections by hand (docs/mapping.md), e.g.:",
    "# [tables.treatments]",
    '# where = { redcap_repeat_instrument = "INSTRUMENT" }   # REQUIRED: the instrument',
    '# drug = { from = "FIELD", values = { "1" = "prednisone" } }   # REQUIRED',
    '# start_date = "FIELD"   # REQUIRED',
]


@dataclass(frozen=True)
class _Entry:
    field: str | None
    live: bool
    lines: list[str]
    wants_identifier: bool = False


def _entry(
    column: str,
    ranked: list[Candidate],
    fields: list[Field],
    all_ranked: dict[str, list[Candidate]],
    record_id: str | None,
    taken: dict[str, str],
) -> _Entry:
    required = column in REQUIRED_COLUMNS
    if not ranked:
        if column == "patient_id" and record_id is not None:
            return _Entry(None, True, [f"# patient_id: from [source] id ({record_id})"])
        why = "no field matched"
        head = f"# REQUIRED: {column} is required and {why}" if required else f"# {column}: {why}"
        return _Entry(None, False, [f"{head}; name its source column", f'# {column} = "FIELD"'])
    best = ranked[0]
    parts, notes, problem = _parts(column, best, fields, all_ranked, record_id)
    if best.blocked:
        problem = best.describe()
    elif not clear(ranked):
        problem = "fields match equally well"
    elif not problem and best.field.identifier and column != "patient_id":
        # Reading an identifier into a column carries it: the data manager decides that.
        problem = (
            f"{best.field.name} ('{best.field.label}') is flagged as an identifier "
            "(Identifier? = y): to read it, name it in [source] keep_identifiers"
        )
    live = not problem
    line = f"{column} = {{ {', '.join(parts)} }}"
    # The next three candidates, and every blocked one: none is passed over without a word
    # (fields another column takes are left out).
    rest = [c for c in ranked[1:] if c.blocked or taken.get(c.field.name, column) == column]
    others = [c.describe() for c in rest[:3] + [c for c in rest[3:] if c.blocked]]
    lines = [f"# {column}: {note}" for note in notes]
    if live:
        if others:
            lines.append(f"# {column}: also considered: " + "; ".join(others))
        return _Entry(best.field.name, True, [*lines, line])
    head = f"# REQUIRED: {column} is required and" if required else f"# {column}:"
    lines.append(f"{head} not drafted live: {problem}")
    if any(f.name.strip().lower() == column for f in fields):
        # Contract 5: a contract column not named in [columns] is read from the export's
        # column of the same name. Commenting the line out does not stop that.
        lines.append(
            f"# {column}: WARNING: a field is named {column}; map reads the export's column of "
            "that name unless this line names the right field"
        )
    shown = ranked[:4] + [c for c in ranked[4:] if c.blocked]
    lines.append(f"# {column}: candidates: " + "; ".join(c.describe() for c in shown))
    wants = "flagged as an identifier" in problem
    return _Entry(best.field.name, False, [*lines, f"# {line}"], wants)


def _parts(
    column: str,
    best: Candidate,
    fields: list[Field],
    all_ranked: dict[str, list[Candidate]],
    record_id: str | None,
) -> tuple[list[str], list[str], str]:
    """The keys of the column's table, notes for the reviewer, and what keeps it commented."""
    field = best.field
    notes: list[str] = []
    problem = ""
    if column == "other_msa" and field.ftype == "checkbox":
        return _checkbox_parts(field, fields)
    parts = [f"from = {_q(field.name)}"]
    if field.choices:
        negated = best.blocked.startswith("the question is negated")
        read = read_choices(column, field.choices, invert=negated)
        if read.mapped:
            pairs = ", ".join(f"{_q(c)} = {_q(v)}" for c, v in read.mapped)
            parts.append(f"values = {{ {pairs} }}")
        if read.missing:
            parts.append(f"missing = {_list(read.missing)}")
        if negated:
            notes.append("values drafted inverted (yes -> false): check before uncommenting")
        if read.unmapped:
            problem = "choice(s) " + ", ".join(f"'{c}, {lab}'" for c, lab in read.unmapped)
            problem += " match no contract value or missing code"
        elif not read.mapped:
            problem = f"no choice of {field.name} is a contract value (only missing codes)"
    elif column_kind(column) == "bool":
        problem = f"{field.name} is a {field.ftype} field without choices"
    if column_kind(column) == "date" and field.validation in DATE_FORMATS:
        parts.append(f"format = {_q(DATE_FORMATS[field.validation])}")
        notes.append(_format_note(field.validation))
    rule = COMBINE_DRAFT.get(column)
    cancer_date_live = bool(all_ranked["cancer_date"]) and clear(all_ranked["cancer_date"])
    if record_id is not None and rule and (not rule.startswith("at_") or cancer_date_live):
        parts.append(f"combine = {_q(rule)}")
    patient_level = column not in (*ROW_COLUMNS, "patient_id")
    if record_id is not None and patient_level and looks_repeating(field) and not best.blocked:
        notes.append(
            f"form '{field.form}' looks repeating; a patient whose rows disagree is quarantined "
            '(combine = "same")'
        )
    return parts, notes, problem


def _format_note(validation: str) -> str:
    if validation.startswith("date_"):
        return (
            "REDCap's raw CSV export writes dates as YYYY-MM-DD whatever the validation type "
            "(such cells are always read); the format matters for exports re-saved elsewhere"
        )
    order = validation.rsplit("_", 1)[-1]
    text = f"REDCap's raw CSV export writes {validation} cells as YYYY-MM-DD HH:MM"
    text += ":SS" if "seconds" in validation else ""
    if order in _RESAVED:
        seconds = ":%S" if "seconds" in validation else ""
        text += f'; an export re-saved {order} needs "{_RESAVED[order]} %H:%M{seconds}"'
    return text


def _checkbox_parts(field: Field, fields: list[Field]) -> tuple[list[str], list[str], str]:
    boxes, notes, strangers = [], [], []
    for code, label in field.choices:
        antibody = antibody_name(label)
        column = f"{field.name}___{code.lower().replace('-', '_')}"
        boxes.append(f"{_q(column)} = {_q(antibody or '')}")
        if antibody is None:
            strangers.append(f"'{code}, {label}'")
    parts = ["checkboxes = { " + ", ".join(boxes) + " }"]
    tested = next(
        (
            f
            for f in fields
            if f.ftype in ("yesno", "truefalse")
            and any(all(any(t.startswith(w) for t in words(f.label)) for w in ws)
                    for ws in _TESTED_WORDS)
        ),
        None,
    )  # fmt: skip
    if tested is not None:
        parts.append(f"tested = {_q(tested.name)}")
    else:
        notes.append("no yes/no field says the panel was done; no tick then = empty")
    problem = ""
    if strangers:
        problem = (
            "box(es) " + ", ".join(strangers) + " name no contract antibody: "
            'ignore each explicitly with "" (as drafted) or map it'
        )
    return parts, notes, problem


def _with_analyte_forms(
    ranked: dict[str, list[Candidate]], fields: list[Field]
) -> dict[str, list[Candidate]]:
    """Block CK candidates of a form that stores several analytes in one value column."""
    analytes = {
        f.form: f
        for f in fields
        if f.form and f.choices and f.ftype in ("radio", "dropdown")
        and any(" ".join(words(lab)) in _CK_LABELS or "(ck)" in lab.lower() for _, lab in f.choices)
        and len(f.choices) > 1
    }  # fmt: skip
    out = {}
    for column, ranks in ranked.items():
        if column in ("ck_peak", "ck_uln"):
            ranks = [
                dataclasses.replace(c, blocked=_analyte_reason(analytes[c.field.form]))
                if c.field.form in analytes and not c.blocked else c
                for c in ranks
            ]  # fmt: skip
            ranks.sort(key=lambda c: (not c.blocked, c.score), reverse=True)
        out[column] = ranks
    return out


def _analyte_reason(analyte: Field) -> str:
    ck = [c for c, lab in analyte.choices if " ".join(words(lab)) in _CK_LABELS
          or "(ck)" in lab.lower()]  # fmt: skip
    return (
        f"its form stores several analytes in one value column ({analyte.name} "
        f"'{analyte.label}': CK is code {ck[0]}); add where = {{ {analyte.name} = "
        f"{_q(ck[0])} }} (a row filter) and check the unit"
    )


def _decimal_lines(fields: list[Field], live: dict[str, str]) -> list[str]:
    comma = [f for f in fields if "comma_decimal" in f.validation]
    if not comma:
        return []
    ck = [f for f in comma if f.name in (live.get("ck_peak"), live.get("ck_uln"))]
    if ck:
        names = ", ".join(f"{f.name} ({f.validation})" for f in ck)
        return [f'decimal = ","   # {names}: written with a decimal comma']
    names = ", ".join(f.name for f in comma)
    return [f'# decimal = ","   # {names} use a decimal comma; set this if a mapped number does']


def _q(text: str) -> str:
    """A TOML basic string."""
    return json.dumps(text, ensure_ascii=False)


def _list(items: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"
