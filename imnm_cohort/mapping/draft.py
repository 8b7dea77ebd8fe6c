"""Draft a mapping file from a REDCap data dictionary; the data manager reviews it.

Contract columns are matched to fields in three passes, each field used once: by name (the
contract name itself), by a documented synonym (:data:`SYNONYMS`), then by words in the
field's label (:data:`LABEL_WORDS`). For a matched field the draft writes:

* ``values`` from its choices (``1, Female | 2, Male``), each choice label matched to the
  contract's categories case-insensitively ("Not done" and "not tested" give ``not_tested``,
  "Yes"/"No" give ``true``/``false``); a choice that matches nothing is named in a comment;
* ``checkboxes`` from a checkbox field for ``other_msa`` (``msa___1 = "jo1"`` ...), with
  ``tested`` when a yes/no field says the panel was done;
* a date ``format`` from the validation type (``date_dmy`` -> ``%d/%m/%Y``), with a comment
  that REDCap's raw CSV export writes every date as ``YYYY-MM-DD`` anyway;
* ``combine`` rules for the columns that come from several rows of a longitudinal project
  (last visit, peak CK, first cancer and its code), with ``[source] id`` set to the record id
  (REDCap's first field).

Every contract column it could not match gets a commented line. Nothing is guessed at run
time: the draft is a file the data manager reads, edits and keeps.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from imnm_cohort.errors import ExtractError
from imnm_cohort.extract.hints import CATEGORY_VALUES
from imnm_cohort.extract.read import not_utf8_message
from imnm_cohort.extract.schema import CONTRACT_COLUMNS, OTHER_MSA, column_kind

#: Field names taken for a contract column (besides the contract name itself).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "patient_id": ("record_id", "study_id", "subject_id", "participant_id", "pid"),
    "sex": ("gender", "sex_at_birth"),
    "birth_date": ("dob", "date_of_birth", "birthdate", "birth_dt"),
    "onset_date": ("onset", "sym_onset", "symptom_onset", "onset_dt", "first_symptom_date"),
    "diagnosis_date": ("dx_date", "diag_date", "diagnosis_dt", "date_of_diagnosis"),
    "last_followup_date": ("visit_date", "last_visit", "fu_date", "followup_date",
                           "last_contact"),
    "death_date": ("dod", "date_of_death", "death_dt"),
    "proximal_weakness": ("weakness", "prox_weakness"),
    "weakness_course": ("course", "weak_course"),
    "dm_rash": ("rash", "heliotrope", "gottron"),
    "ck_peak": ("ck", "ck_max", "cpk", "ck_level", "creatine_kinase"),
    "ck_uln": ("ck_ref_upper", "uln_ck"),
    "emg_myopathic": ("emg", "emg_result"),
    "anti_hmgcr": ("hmgcr", "hmgcr_ab", "anti_hmgcr_ab", "hmgcr_result"),
    "anti_srp": ("srp", "srp_ab", "anti_srp_ab", "srp_result"),
    "other_msa": ("msa", "msa_panel", "myositis_antibodies"),
    "biopsy_necrosis": ("bx_necrosis", "necrosis"),
    "biopsy_inflammation": ("bx_inflam", "bx_inflammation", "inflammation"),
    "biopsy_perifascicular_atrophy": ("bx_pfa", "pfa", "perifascicular_atrophy"),
    "biopsy_rimmed_vacuoles": ("bx_rv", "rimmed_vacuoles"),
    "biopsy_p62_diffuse": ("bx_p62", "p62"),
    "statin_exposed": ("statin", "statin_use", "statin_exposure", "on_statin"),
    "statin_name": ("statin_drug", "statin_type", "which_statin"),
    "statin_start_date": ("statin_start", "statin_start_dt"),
    "statin_stop_date": ("statin_stop", "statin_end", "statin_stop_dt"),
    "improved_after_statin_stop": ("statin_improved", "improved_off_statin"),
    "hereditary_myopathy": ("hereditary", "genetic_myopathy"),
    "cancer_date": ("ca_date", "cancer_dt", "malignancy_date"),
    "cancer_icd10": ("ca_icd10", "cancer_code", "icd10", "malignancy_icd10"),
    "weakness_upper_proximal": ("weak_arms", "weakness_arms", "upper_limb_weakness"),
    "weakness_lower_proximal": ("weak_legs", "weakness_legs", "lower_limb_weakness"),
    "neck_flexor_weaker_than_extensor": ("neck_flexors", "neck_flexor_weakness"),
    "legs_proximal_weaker_than_distal": ("legs_prox_distal", "prox_gt_distal"),
    "heliotrope_rash": ("heliotrope_rash_yn", "heliotrope_yn"),
    "gottron_papules": ("gottron_pap", "gottrons_papules"),
    "gottron_sign": ("gottrons_sign",),
    "dysphagia": ("dysphagia_yn", "swallowing"),
    "muscle_enzymes_elevated": ("enzymes_high", "muscle_enzymes", "enzymes_elevated"),
    "biopsy_endomysial_infiltrate": ("bx_endomysial", "endomysial_infiltrate"),
    "biopsy_perimysial_perivascular_infiltrate": ("bx_perimysial", "perimysial_infiltrate"),
}  # fmt: skip
#: Label words: a field matches when its label holds every word of one of the sets (as
#: parts of words, ignoring case) and none of the excluded words.
LABEL_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sex": (("sex",), ("gender",)),
    "birth_date": (("birth",),),
    "onset_date": (("onset",), ("first", "symptom")),
    "diagnosis_date": (("diagnos", "date"),),
    "last_followup_date": (("visit", "date"), ("follow", "date"), ("last", "seen")),
    "death_date": (("death",), ("died",)),
    "proximal_weakness": (("weakness",),),
    "weakness_course": (("course",),),
    "dm_rash": (("rash",), ("gottron",), ("heliotrope",)),
    "ck_peak": (("creatine", "kinase"), ("ck",)),
    "ck_uln": (("upper", "limit"), ("uln",)),
    "emg_myopathic": (("emg",), ("electromyogra",)),
    "anti_hmgcr": (("hmgcr",), ("hmg-coa",)),
    "anti_srp": (("srp",), ("signal", "recognition")),
    "other_msa": (("myositis", "antibod"), ("msa",)),
    "biopsy_necrosis": (("necro",),),
    "biopsy_inflammation": (("inflam",),),
    "biopsy_perifascicular_atrophy": (("perifascicular",),),
    "biopsy_rimmed_vacuoles": (("vacuole",),),
    "biopsy_p62_diffuse": (("p62",),),
    "statin_name": (("statin", "which"), ("statin", "name"), ("statin", "drug")),
    "statin_start_date": (("statin", "start"),),
    "statin_stop_date": (("statin", "stop"),),
    "improved_after_statin_stop": (("improv",),),
    "statin_exposed": (("statin",),),
    "hereditary_myopathy": (("hereditary",), ("genetic",)),
    "cancer_date": (("cancer", "date"), ("malignan", "date")),
    "cancer_icd10": (("icd",),),
    "weakness_upper_proximal": (("weak", "arm"), ("weak", "upper")),
    "weakness_lower_proximal": (("weak", "leg"), ("weak", "lower")),
    "neck_flexor_weaker_than_extensor": (("neck", "flexor"),),
    "legs_proximal_weaker_than_distal": (("proximal", "distal"),),
    "heliotrope_rash": (("heliotrope",),),
    "gottron_papules": (("gottron", "papule"),),
    "gottron_sign": (("gottron", "sign"),),
    "dysphagia": (("dysphag",), ("swallow",)),
    "muscle_enzymes_elevated": (("enzyme",), ("ldh",)),
    "biopsy_endomysial_infiltrate": (("endomysial",),),
    "biopsy_perimysial_perivascular_infiltrate": (("perimysial",), ("perivascular",)),
}
_EXCLUDE = {
    "diagnosis_date": ("cancer", "malignan", "tumo"),
    "proximal_weakness": ("course", "arm", "leg", "upper", "lower", "neck", "distal"),
    "heliotrope_rash": ("gottron",),
    "ck_peak": ("limit", "uln", "normal"),
    "other_msa": ("done", "tested", "panel"),
    "statin_exposed": ("start", "stop", "improv", "which", "name", "drug"),
}
_TESTED_WORDS = (("panel",), ("antibod", "done"), ("antibod", "tested"))
#: Columns that come from several rows in a longitudinal project, and their combine rule.
COMBINE_DRAFT = {
    "last_followup_date": "max",
    "ck_peak": "max",
    "cancer_date": "min",
    "cancer_icd10": "at_min:cancer_date",
}
DATE_FORMATS = {"date_dmy": "%d/%m/%Y", "date_mdy": "%m/%d/%Y"}
_NOT_TESTED = ("not done", "not tested", "not performed", "not_tested", "nd")
_YES, _NO = ("yes", "y", "true", "present"), ("no", "n", "false", "absent")
_REDCAP_NAME, _REDCAP_TYPE = "Variable / Field Name", "Field Type"
_REDCAP_LABEL, _REDCAP_CHOICES = "Field Label", "Choices, Calculations, OR Slider Labels"
_REDCAP_VALIDATION = "Text Validation Type OR Show Slider Number"


@dataclass(frozen=True)
class Field:
    """One field of a data dictionary."""

    name: str
    ftype: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()
    validation: str = ""


@dataclass(frozen=True)
class Draft:
    """A drafted mapping.

    Attributes
    ----------
    text : str
        The mapping file (TOML, with comments).
    matched : dict
        Contract column -> field name.
    unmatched : tuple of str
        Contract columns no field matched (commented out in ``text``).
    """

    text: str
    matched: dict[str, str]
    unmatched: tuple[str, ...]


def read_redcap_dictionary(path: str | Path) -> list[Field]:
    """Read a REDCap data dictionary (the CSV REDCap downloads from "Data Dictionary").

    Raises
    ------
    ExtractError
        When the file cannot be read or lacks REDCap's field name, type or label columns.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except UnicodeDecodeError:
        try:
            path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as whole:
            advice = (
                "REDCap downloads its data dictionary as UTF-8: download it again, or "
                "re-save it as 'CSV UTF-8'"
            )
            raise ExtractError(not_utf8_message(path, whole, advice)) from None
        raise  # pragma: no cover - the whole file decoded where the stream did not
    except (OSError, csv.Error) as exc:
        raise ExtractError(f"{path}: cannot be read as a REDCap data dictionary ({exc})") from None
    needed = (_REDCAP_NAME, _REDCAP_TYPE, _REDCAP_LABEL)
    missing = [h for h in needed if not rows or h not in rows[0]]
    if missing:
        raise ExtractError(
            f"{path}: not a REDCap data dictionary (missing column(s): {', '.join(missing)})"
        )
    return [
        Field(
            name=row[_REDCAP_NAME].strip(),
            ftype=row[_REDCAP_TYPE].strip().lower(),
            label=re.sub(r"<[^>]+>", "", row[_REDCAP_LABEL] or "").strip(),
            choices=_choices(row.get(_REDCAP_CHOICES) or ""),
            validation=(row.get(_REDCAP_VALIDATION) or "").strip().lower(),
        )
        for row in rows
        if row.get(_REDCAP_NAME, "").strip() and row[_REDCAP_TYPE].strip() != "descriptive"
    ]


def _choices(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for part in text.split("|"):
        code, _, label = part.partition(",")
        if code.strip() and label.strip():
            pairs.append((code.strip(), label.strip()))
    return tuple(pairs)


def draft_from_redcap(path: str | Path) -> Draft:
    """Draft a mapping from a REDCap data dictionary file (see the module's description)."""
    fields = read_redcap_dictionary(path)
    return draft_mapping(fields, record_id=fields[0].name if fields else None, source=Path(path))


def draft_from_readstat(path: str | Path) -> Draft:
    """Draft a mapping from an SPSS or Stata file's variable and value labels.

    The file is taken as one row per patient (no ``[source] id``); its value labels are
    offered as ``values`` (stored code -> contract value).
    """
    from imnm_cohort.extract.readstat import value_labels

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


def draft_mapping(fields: list[Field], *, record_id: str | None, source: Path) -> Draft:
    """Draft a mapping from dictionary fields; ``record_id`` identifies a patient's rows."""
    matched = _match(fields)
    by_name = {f.name: f for f in fields}
    lines = [
        f"# Mapping drafted by imnm-cohort draft-mapping from {source.name}.",
        "# Review every line before use: check the values, the date formats and the combine",
        "# rules, and uncomment or delete the lines of columns that were not matched.",
        "",
        "[source]",
        '# missing_codes = ["UNK", "NASK"]   # the project\'s missing-data codes, if any',
    ]
    if record_id is not None:
        lines.append(f'id = "{record_id}"   # REDCap\'s record id: rows of one record combine')
    lines += ["", "[columns]"]
    for name in CONTRACT_COLUMNS:
        if name not in matched:
            lines.append(f'# {name} = "FIELD"   # no field matched; name one, or leave it out')
            continue
        lines.extend(_entry(name, by_name[matched[name]], fields, matched, record_id))
    unmatched = tuple(c for c in CONTRACT_COLUMNS if c not in matched)
    return Draft("\n".join(lines) + "\n", matched, unmatched)


def _match(fields: list[Field]) -> dict[str, str]:
    matched: dict[str, str] = {}
    used: set[str] = set()

    def take(column: str, field: Field) -> None:
        matched[column] = field.name
        used.add(field.name)

    for column in CONTRACT_COLUMNS:
        for field in fields:
            if field.name.lower() == column and _fits(column, field):
                take(column, field)
                break
    for column in CONTRACT_COLUMNS:
        if column in matched:
            continue
        for field in fields:
            synonym = field.name.lower() in SYNONYMS.get(column, ())
            if field.name not in used and synonym and _fits(column, field):
                take(column, field)
                break
    for column, word_sets in LABEL_WORDS.items():
        if column in matched:
            continue
        for field in fields:
            label = field.label.lower()
            excluded = any(w in label for w in _EXCLUDE.get(column, ()))
            hit = any(all(w in label for w in words) for words in word_sets)
            if field.name not in used and hit and not excluded and _fits(column, field):
                take(column, field)
                break
    return matched


def _fits(column: str, field: Field) -> bool:
    """A field of a type that can hold the contract column."""
    kind = column_kind(column)
    if column == "other_msa":
        return field.ftype == "checkbox" or field.ftype == "text"
    if field.ftype in ("checkbox", "descriptive", "file", "signature"):
        return False
    if kind == "date":
        return field.validation.startswith(("date", "datetime")) or field.ftype == "text"
    if kind == "float":
        return field.ftype in ("text", "calc", "slider")
    if kind == "bool":
        return field.ftype in ("yesno", "truefalse", "radio", "dropdown")
    if kind == "category":
        return field.ftype in ("radio", "dropdown", "text")
    return True


def _entry(
    name: str, field: Field, fields: list[Field], matched: dict[str, str], record_id: str | None
) -> list[str]:
    parts = [f'from = "{field.name}"']
    notes: list[str] = []
    if name == "other_msa" and field.ftype == "checkbox":
        return _checkbox_entry(field, fields)
    if field.choices and field.ftype not in ("yesno", "truefalse"):
        values, unmatched = _values(name, field.choices)
        if values:
            parts.append("values = { " + ", ".join(f'"{c}" = "{v}"' for c, v in values) + " }")
        notes += [f"choice '{c}, {lab}' matches no contract value" for c, lab in unmatched]
    if column_kind(name) == "date" and field.validation in DATE_FORMATS:
        parts.append(f'format = "{DATE_FORMATS[field.validation]}"')
        notes.append(
            "REDCap's raw CSV export writes dates as YYYY-MM-DD whatever the validation "
            "type (such cells are always read); the format matters for exports re-saved "
            "elsewhere"
        )
    rule = COMBINE_DRAFT.get(name)
    if record_id is not None and rule and (not rule.startswith("at_") or "cancer_date" in matched):
        parts.append(f'combine = "{rule}"')
    lines = [f"# {name}: {note}" for note in notes]
    lines.append(f"{name} = {{ {', '.join(parts)} }}")
    return lines


def _values(
    name: str, choices: tuple[tuple[str, str], ...]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    allowed = CATEGORY_VALUES.get(name, ())
    values, unmatched = [], []
    for code, label in choices:
        text = label.strip().lower()
        value = None
        if column_kind(name) == "bool":
            value = "true" if text in _YES else "false" if text in _NO else None
        elif text in allowed or text.replace(" ", "_") in allowed:
            value = text.replace(" ", "_")
        elif "not_tested" in allowed and text in _NOT_TESTED:
            value = "not_tested"
        else:
            starts = [a for a in allowed if text.startswith(a)]
            value = starts[0] if len(starts) == 1 else None
        if value is None:
            unmatched.append((code, label))
        else:
            values.append((code, value))
    return values, unmatched


def _antibody(label: str) -> str | None:
    text = re.sub(r"[^a-z0-9]", "", label.lower().replace("γ", "g").replace("gamma", "g"))
    text = text.removeprefix("anti")
    return text if text in OTHER_MSA else None


def _checkbox_entry(field: Field, fields: list[Field]) -> list[str]:
    boxes, lines = [], []
    for code, label in field.choices:
        antibody = _antibody(label)
        column = f"{field.name}___{code.lower().replace('-', '_')}"
        if antibody is None:
            lines.append(f"# other_msa: box {column} ('{label}') is not a contract antibody")
        else:
            boxes.append(f'"{column}" = "{antibody}"')
    parts = ["checkboxes = { " + ", ".join(boxes) + " }"]
    tested = next(
        (
            f
            for f in fields
            if f.ftype in ("yesno", "truefalse", "radio")
            and any(all(w in f.label.lower() for w in ws) for ws in _TESTED_WORDS)
        ),
        None,
    )
    if tested is not None:
        parts.append(f'tested = "{tested.name}"')
    else:
        lines.append("# other_msa: no yes/no field says the panel was done; no tick then = empty")
    return [*lines, f"other_msa = {{ {', '.join(parts)} }}"]
