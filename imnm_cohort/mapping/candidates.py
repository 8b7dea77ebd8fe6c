"""Which dictionary fields could hold a contract column, scored, and which may not.

A field is a candidate for a contract column when its name is the column's name or one of
its synonyms (:data:`SYNONYMS`), or when its label holds every word of one of the column's
word sets (:data:`LABEL_WORDS`, as whole words or word beginnings), and its type can hold
the column. Candidates are scored, not taken first-come (:class:`Candidate` ``score``):

1. how it matched: the column's own name, then a synonym, then label words;
2. for a patient-level column (one value per patient), a field of a form that does not look
   repeating beats one of a form whose name suggests repeated rows (:data:`REPEATING_WORDS`:
   visits, follow-up, labs, medications, family history...; a REDCap dictionary does not say
   which forms repeat, so the form name is all there is);
3. the number of the column's word sets the label holds.

Some candidates may never be proposed live, whatever their score (:attr:`Candidate.blocked`
says why): a field whose label, form or section speaks of another person
(:data:`OTHER_PERSON`) or of another event (:data:`OTHER_EVENT`); a yes/no question asked the
other way round (:data:`NEGATED`: "ruled out", "excluded", "absent"...); an ICD-10 field that
does not say it codes a cancer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imnm_cohort.contracts.patients import CONTRACT_COLUMNS, column_kind
from imnm_cohort.mapping.dictionary import Field

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
    "weakness_course": ("weak_course",),
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
#: Label words: a field matches when its label holds every word of one of the sets (a word
#: of four letters or more may begin a longer word: "necro" -> "necrotic"; a shorter one is a
#: whole word, digits allowed after it: "icd" -> "ICD-10", "ICD10") and none of the
#: column's excluded words (:data:`EXCLUDED_WORDS`).
LABEL_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sex": (("sex",), ("gender",)),
    "birth_date": (("birth", "date"), ("birthdate",), ("born",)),
    "onset_date": (("onset",), ("first", "symptom")),
    "diagnosis_date": (("diagnos", "date"),),
    "last_followup_date": (("visit", "date"), ("follow", "date"), ("last", "seen")),
    "death_date": (("death",), ("died",)),
    "proximal_weakness": (("weakness",),),
    "weakness_course": (("course", "weak"), ("tempo", "weak")),
    "dm_rash": (("rash",), ("gottron",), ("heliotrope",)),
    "ck_peak": (("creatine", "kinase"), ("ck",), ("cpk",)),
    "ck_uln": (("upper", "limit"), ("uln",)),
    "emg_myopathic": (("emg",), ("electromyogra",)),
    "anti_hmgcr": (("hmgcr",), ("hmg", "coa")),
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
#: Words that keep a label from matching a column (same word rules as :data:`LABEL_WORDS`).
EXCLUDED_WORDS: dict[str, tuple[str, ...]] = {
    "diagnosis_date": ("cancer", "malignan", "tumo"),
    "proximal_weakness": ("course", "arm", "leg", "upper", "lower", "neck", "distal"),
    "heliotrope_rash": ("gottron",),
    "ck_peak": ("limit", "uln", "normal"),
    "other_msa": ("done", "tested", "panel"),
    "statin_exposed": ("start", "stop", "improv", "which", "name", "drug"),
}
#: Columns that are one value per patient however many rows the export has (every column
#: but those drafted with a ``combine`` over visits or cancers).
ROW_COLUMNS = ("last_followup_date", "ck_peak", "cancer_date", "cancer_icd10")
#: Words of a form name that suggest a repeating instrument or a repeated event.
REPEATING_WORDS = (
    "visit", "visits", "follow", "followup", "fu", "lab", "labs", "laboratory", "medication",
    "medications", "meds", "treatment", "treatments", "therapy", "adverse", "event", "events",
    "encounter", "encounters", "admission", "admissions", "sample", "samples", "specimen",
    "repeat", "repeating", "log", "malignancy", "malignancies", "cancer", "cancers", "tumour",
    "tumor", "family", "relatives",
)  # fmt: skip
#: A label, form or section that speaks of another person than the patient.
OTHER_PERSON = re.compile(
    r"\b(family|mother|mothers|maternal|father|fathers|paternal|parents?|siblings?|"
    r"brothers?|sisters?|relatives?|partners?|spouse|husband|wife|informant|donor|"
    r"caregiver|carer|twin|grand(mother|father|parent)s?|proxy)\b"
)
#: A label, form or section that speaks of another event than the patient's myopathy.
OTHER_EVENT = re.compile(
    r"(cause of death|causes of death|death cause|tumou?r response|response to (treatment|"
    r"therapy)|anaplas\w*|protocol treatment|treatment protocol|course of (the )?"
    r"(protocol |study )?(treatment|therapy)|(treatment|therapy) course|chemotherap\w*|"
    r"radiotherap\w*|metasta\w*|recurren\w*|relaps\w*|transplant\w*)"
)
#: A yes/no question asked the other way round: "yes" means the column is false.
NEGATED = re.compile(
    r"^no\b|\b(ruled out|rule out|excluded|exclusion of|absent|absence of|no evidence|not|never|"
    r"without|negative for|free of|lack of|denies|denied)\b"
)
#: Phrases that offer both answers ("present or absent", "yes/no"): not a negated question.
_BOTH_WAYS = re.compile(
    r"\b(present|yes)\s*(/|or)\s*(absent|no|not)\b|\b(absent|not)\s*(/|or)\s*present\b|"
    r"\bor not\b"
)
#: Words that say an ICD-10 field codes a cancer (its label, form or section).
CANCER_WORDS = ("cancer", "malignan", "tumo", "neoplas", "carcinom", "lymphom", "leukaem",
                "leukem", "sarcom", "oncolog")  # fmt: skip
_TIERS = {"name": 3, "synonym": 2, "label": 1}


@dataclass(frozen=True)
class Candidate:
    """A field that could hold a contract column.

    Attributes
    ----------
    field : Field
    how : str
        ``name``, ``synonym`` or ``label``.
    score : tuple of int
        (how it matched, 1 unless a patient-level column meets a repeating-looking form,
        label word sets matched); higher is better, compared in that order.
    blocked : str
        Why the field may not be proposed live ("" when it may).
    """

    field: Field
    how: str
    score: tuple[int, int, int]
    blocked: str = ""

    def describe(self) -> str:
        """``name ('label')``, with the reason it is not proposed when it is blocked."""
        text = f"{self.field.name} ('{self.field.label}')"
        return f"{text}: {self.blocked}" if self.blocked else text


def words(text: str) -> list[str]:
    """The lower-case words of a label or form name (``family_history`` -> family, history)."""
    return re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))


def _has(tokens: list[str], word: str) -> bool:
    if len(word) >= 4:
        return any(t.startswith(word) for t in tokens)
    return any(t == word or (t.startswith(word) and t[len(word) :].isdigit()) for t in tokens)


def label_sets(column: str, label: str) -> int:
    """How many of ``column``'s word sets the label holds (0 when an excluded word is there)."""
    tokens = words(label)
    if any(_has(tokens, w) for w in EXCLUDED_WORDS.get(column, ())):
        return 0
    return sum(all(_has(tokens, w) for w in ws) for ws in LABEL_WORDS.get(column, ()))


def looks_repeating(field: Field) -> bool:
    """Whether the field's form name suggests a repeating instrument or event."""
    return any(w in REPEATING_WORDS for w in words(field.form))


def context(field: Field) -> str:
    """The field's label, form and section, lower case, for the blocking patterns."""
    form = field.form.replace("_", " ")
    return " | ".join(t for t in (field.label, form, field.section) if t).lower()


def blocked_reason(column: str, field: Field) -> str:
    """Why ``field`` may not be proposed live for ``column`` ("" when it may).

    ``patient_id`` is never blocked: only its own name or an id synonym (``record_id``...)
    matches it, and REDCap puts the record id on the first form, whatever that form is.
    """
    if column == "patient_id":
        return ""
    text = context(field)
    if found := OTHER_PERSON.search(text):
        return f"speaks of another person ('{found.group(0)}')"
    if found := OTHER_EVENT.search(text):
        return f"speaks of another event ('{found.group(0)}')"
    if column == "cancer_icd10" and not any(_has(words(text), w) for w in CANCER_WORDS):
        return "an ICD-10 code that does not say it is a cancer's"
    question = _BOTH_WAYS.sub(" ", field.label.lower())
    if column_kind(column) == "bool" and (found := NEGATED.search(question)):
        return f"the question is negated ('{found.group(0)}'): yes means not {column}"
    return ""


def fits(column: str, field: Field) -> bool:
    """A field of a type that can hold the contract column."""
    kind = column_kind(column)
    if column == "other_msa":
        return field.ftype in ("checkbox", "text")
    if field.ftype in ("checkbox", "descriptive", "file", "signature"):
        return False
    if kind == "date":
        return field.validation.startswith(("date", "datetime")) or (
            field.ftype == "text" and not field.validation
        )
    if kind == "float":
        return field.ftype in ("text", "calc", "slider")
    if kind == "bool":
        return field.ftype in ("yesno", "truefalse", "radio", "dropdown")
    if kind == "category":
        return field.ftype in ("radio", "dropdown", "text")
    return True


def candidates(column: str, fields: tuple[Field, ...] | list[Field]) -> list[Candidate]:
    """Every field that could hold ``column``, best first (blocked ones after the others)."""
    found = []
    for field in fields:
        if not fits(column, field):
            continue
        name = field.name.lower()
        sets = label_sets(column, field.label)
        if name == column:
            how = "name"
        elif name in SYNONYMS.get(column, ()):
            how = "synonym"
        elif sets:
            how = "label"
        else:
            continue
        patient_level = column not in (*ROW_COLUMNS, "patient_id")
        form_ok = 0 if patient_level and looks_repeating(field) else 1
        score = (_TIERS[how], form_ok, sets)
        found.append(Candidate(field, how, score, blocked_reason(column, field)))
    return sorted(found, key=lambda c: (not c.blocked, c.score), reverse=True)


def assign(fields: tuple[Field, ...] | list[Field]) -> dict[str, list[Candidate]]:
    """Each contract column's candidates, each field given to one column at most.

    Columns are served in the order of their best candidate's score (a field named exactly
    like a column goes to that column before any label claims it); a column takes its best
    candidate when no other candidate scores as high; a field taken is no longer a
    candidate of the columns served after it. Returns contract column -> candidates, best
    first; the first is the match when it is not blocked and beats the second.
    """
    pool = {c: candidates(c, fields) for c in CONTRACT_COLUMNS}
    order = sorted(
        CONTRACT_COLUMNS,
        key=lambda c: max((x.score for x in pool[c] if not x.blocked), default=(0, 0, 0)),
        reverse=True,
    )
    taken: set[str] = set()
    result: dict[str, list[Candidate]] = {}
    for column in order:
        mine = [c for c in pool[column] if c.field.name not in taken]
        result[column] = mine
        if clear(mine):
            taken.add(mine[0].field.name)
    return {c: result[c] for c in CONTRACT_COLUMNS}


def clear(ranked: list[Candidate]) -> bool:
    """The best candidate is not blocked and scores higher than the next unblocked one."""
    if not ranked or ranked[0].blocked:
        return False
    return len(ranked) == 1 or bool(ranked[1].blocked) or ranked[1].score < ranked[0].score
