"""Property: a drafted mapping never gives a value that the dictionary's label contradicts.

A random REDCap dictionary is drawn from realistic words: fields for coded contract columns
with their names (the contract's, a synonym, or opaque ``f3``), labels (plain, about a
relative, about another event, or asked the other way round: "ruled out"), forms (plain,
repeating-looking, family history) and choices (codes in any order, inverted ones included;
labels that map, that mean "unknown", and that map to nothing: "Equivocal"); and an antibody
panel labelled as laboratories write it (with boxes that are no contract antibody). The
drafted mapping is applied to an export whose every coded cell holds a code the dictionary
lists. Then either ``map`` stops with a message (a mapping error), or each mapped patient's
value of each contract column is one that the label of that patient's code supports, read
from a field that truly holds that column; and nothing is lost.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imnm_cohort.contracts.patients import OTHER_MSA
from imnm_cohort.errors import ConfigError, ExtractError
from imnm_cohort.mapping.draft import draft_from_redcap
from imnm_cohort.mapping.spec import load_mapping
from imnm_cohort.synth_redcap import DICTIONARY_HEADERS
from imnm_cohort.validation.load import map_export
from tests.mapping_corpus.drafts import write_export

#: Choice labels and what each means for a yes/no column (None: unknown, not a value).
YES_NO = {"Yes": "true", "No": "false", "Present": "true", "Absent": "false",
          "Unknown": None, "Not done": None, "Equivocal": "?", "Possibly": "?"}  # fmt: skip
#: For each coded column: field names (synonyms or opaque, never the contract's own name: an
#: export column of that name is read by ``map`` whatever the draft says, and the draft can
#: only warn about it, see docs/decisions.md), plain labels, and its choice labels with meanings
#: ("?" = a label that supports no contract value: mapping it to any value contradicts it).
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], dict[str, str | None]]] = {
    "sex": (("gender", "sex_at_birth"), ("Sex", "Gender", "Sex at birth"),
            {"Female": "female", "Male": "male", "Unknown": "unknown", "F": "?",
             "Prefer not to say": "?", "<b>Female</b>": "female", "Ma&shy;le": "male"}),
    "emg_myopathic": (("emg", "emg_result"), ("EMG", "EMG result", "Electromyography"),
                      {**YES_NO, "Myopathic": "true", "Normal": "false", "Neurogenic": "?",
                       "Abnormal": "?"}),
    "hereditary_myopathy": (("hereditary", "genetic_myopathy"),
                            ("Hereditary myopathy", "Genetic myopathy confirmed"), YES_NO),
    "statin_exposed": (("statin", "statin_use"), ("Statin use", "Statin taken before onset"),
                       YES_NO),
    "dysphagia": (("dysphagia_yn", "swallowing"), ("Dysphagia", "Difficulty swallowing"), YES_NO),
    "anti_hmgcr": (("hmgcr_ab", "hmgcr"), ("Anti-HMGCR", "HMG-CoA reductase antibody"),
                   {"Positive": "positive", "Negative": "negative", "Not done": "not_tested",
                    "Not&nbsp;tested": "not_tested", "Borderline": "?", "Unknown": None}),
    "biopsy_necrosis": (("bx_necrosis", "necrosis"), ("Necrotic fibres", "Biopsy necrosis"),
                        {"Predominant": "predominant", "Present": "present",
                         "Absent": "absent", "Not assessed": None, "Focal": "?"}),
}  # fmt: skip
#: Ways a label can speak of something else than the patient's own answer.
TWISTS = {
    "plain": "{}",
    "relative": "Mother's {}",
    "family": "Family member: {}",
    "informant": "{} (as reported by the informant)",
    "event": "{} at cause of death",
    "ruled_out": "{} ruled out?",
    "negated": "No {}",
}
FORMS = ("demographics", "baseline", "follow_up_visit", "family_history", "labs")
PANEL = {"Anti-Jo-1": "jo1", "SAE1/2": "sae", "MDA-5 (CADM-140)": "mda5", "NXP2 (MJ)": "nxp2",
         "Mi-2 alpha/beta": "mi2", "Ha (YRS)": "ha", "EJ (glycyl)": "ej", "TIF1-&gamma;": "tif1g",
         "PL-7": "pl7", "Ro52": None, "PM-Scl": None, "Ku": None}  # fmt: skip


@dataclass(frozen=True)
class Drawn:
    """A drawn field and the truth about it."""

    name: str
    form: str
    label: str
    twist: str
    column: str  # the column its label speaks of
    choices: tuple[tuple[str, str], ...]  # code, label

    def holds(self, column: str) -> bool:
        """Whether the field truly holds ``column`` for the patient (negated: inverted)."""
        person = self.twist in ("relative", "family", "informant", "event")
        return self.column == column and not person and self.form != "family_history"

    def supports(self, code: str, value: str) -> bool:
        """Whether the label of ``code`` supports ``value``."""
        label = dict(self.choices)[code]
        meaning = COLUMNS[self.column][2][label]
        if self.twist in ("ruled_out", "negated") and meaning in ("true", "false"):
            meaning = "false" if meaning == "true" else "true"
        return meaning == value


@st.composite
def fields(draw: st.DrawFn) -> list[Drawn]:
    drawn: list[Drawn] = []
    used: set[str] = set()
    columns = draw(st.lists(st.sampled_from(sorted(COLUMNS)), min_size=2, max_size=7))
    for i, column in enumerate(columns):
        names, labels, meanings = COLUMNS[column]
        name = draw(st.sampled_from([*names, f"f{i}"]))
        if name in used:
            name = f"f{i}"
        used.add(name)
        # Half plain labels, half twisted ones: both kinds reach the draft often.
        twist = draw(st.sampled_from(["plain"] * (len(TWISTS) - 1) + sorted(TWISTS)))
        label = TWISTS[twist].format(draw(st.sampled_from(labels)))
        chosen = draw(st.lists(st.sampled_from(sorted(meanings)), min_size=2, max_size=5,
                               unique=True))  # fmt: skip
        codes = draw(st.permutations([str(c) for c in range(len(chosen))]))
        form = draw(st.sampled_from(FORMS))
        choices = tuple(zip(codes, chosen, strict=True))
        drawn.append(Drawn(name, form, label, twist, column, choices))
    return drawn


def _write_dictionary(path: Path, drawn: list[Drawn], panel: list[str]) -> None:
    rows = [
        ("record_id", "demographics", "text", "Record ID", "", ""),
        ("dob", "demographics", "text", "Date of birth", "", "date_ymd"),
        ("onset", "demographics", "text", "Date of onset", "", "date_ymd"),
        ("last_visit", "demographics", "text", "Date of last visit", "", "date_ymd"),
    ]
    for f in drawn:
        choices = " | ".join(f"{c}, {lab}" for c, lab in f.choices)
        rows.append((f.name, f.form, "radio", f.label, choices, ""))
    if panel:
        choices = " | ".join(f"{i}, {lab}" for i, lab in enumerate(panel, start=1))
        rows.append(("msa", "antibodies", "checkbox", "Myositis antibodies", choices, ""))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(DICTIONARY_HEADERS)
        for name, form, ftype, label, choices, validation in rows:
            row = dict.fromkeys(DICTIONARY_HEADERS, "")
            row.update({"Variable / Field Name": name, "Form Name": form, "Field Type": ftype,
                        "Field Label": label, "Choices, Calculations, OR Slider Labels": choices,
                        "Text Validation Type OR Show Slider Number": validation})  # fmt: skip
            writer.writerow([row[h] for h in DICTIONARY_HEADERS])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drawn=fields(),
    panel=st.lists(st.sampled_from(sorted(PANEL)), max_size=6, unique=True),
    data=st.data(),
)
@pytest.mark.slow
def test_a_drafted_mapping_never_gives_a_value_its_label_contradicts(drawn, panel, data):
    patients = data.draw(st.integers(2, 6))
    rows = []
    for p in range(patients):
        # A same-named sex column keeps map from refusing a mapping whose drawn fields give
        # no sex (a required column): the drafted lines are then what is checked.
        row = {"record_id": f"p{p}", "dob": "1950-01-01", "onset": "2010-01-01",
               "last_visit": "2012-01-01", "sex": "female"}  # fmt: skip
        for f in drawn:
            codes = [c for c, _ in f.choices]
            row[f.name] = data.draw(st.sampled_from(["", *codes]))
        for i in range(1, len(panel) + 1):
            row[f"msa___{i}"] = data.draw(st.sampled_from(["0", "1"]))
        rows.append(row)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        _write_dictionary(tmp / "dictionary.csv", drawn, panel)
        (tmp / "mapping.toml").write_text(draft_from_redcap(tmp / "dictionary.csv").text)
        write_export(tmp / "export.csv", rows)
        try:
            spec = load_mapping(tmp / "mapping.toml")
            result = map_export(tmp / "export.csv", tmp / "mapping.toml")
        except (ConfigError, ExtractError):
            return  # stopped with a message
    by_name = {f.name: f for f in drawn}
    by_id = {r["record_id"]: r for r in rows}
    assert len(result.extract) + len(result.quarantine) == result.patients == patients
    for column, mapped in spec.columns.items():
        if column == "other_msa":
            for patient, value in zip(result.extract["patient_id"], result.extract[column],
                                      strict=True):  # fmt: skip
                row = by_id[patient]
                ticked = {PANEL[panel[int(box.rsplit("___", 1)[1]) - 1]]
                          for box, _ in mapped.checkboxes if row[box] == "1"}  # fmt: skip
                got = set() if pd.isna(value) else set(str(value).split(";"))
                assert got - {"none"} <= ticked - {None}, (patient, value, ticked)
            continue
        if mapped.source not in by_name:
            continue
        field = by_name[mapped.source]
        for patient, value in zip(result.extract["patient_id"], result.extract[column],
                                  strict=True):  # fmt: skip
            if pd.isna(value):
                continue
            assert field.holds(column), (column, field, value)
            assert field.supports(by_id[patient][field.name], str(value)), (column, field, value)
    assert set(OTHER_MSA) >= {a for a in PANEL.values() if a}
