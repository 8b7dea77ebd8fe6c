"""The OMOP concept sets: versioned data with their sources, a site's additions, and
``imnm-cohort concepts``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from imnm_cohort.cli import main
from imnm_cohort.errors import ConfigError
from imnm_cohort.sources.omop_concepts import SET_NAMES, load_concept_sets, normalise_code

STUDY_ANTIGENS = {"jo1", "ej", "oj", "pl7", "pl12", "tif1g", "mi2", "mda5", "nxp2", "sae"}


def test_every_set_has_a_version_a_title_and_its_sources():
    sets = load_concept_sets()
    assert [s.name for s in sets] == list(SET_NAMES)
    for s in sets:
        assert s.version and s.title and s.sources, s.name


def test_the_codes_of_the_contract():
    sets = load_concept_sets()
    assert sets["myositis_conditions"].codes() == ("G7249", "M332", "M608", "M609")
    assert sets["creatine_kinase"].ids() == (3007220,)
    assert sets["creatine_kinase"].codes() == ("2157-6",)
    antibodies = sets["myositis_antibodies"]
    assert antibodies.codes("hmgcr") == ("93493-5",)
    assert antibodies.codes("srp") == ("33921-8", "53011-3")
    values = sets["measurement_values"].values
    assert {45884084, 9191} <= set(values["positive"])
    assert {45878583, 9189} <= set(values["negative"])
    statins = {c.label: c.id for c in sets["statins"].concepts}
    assert statins == {
        "simvastatin": 1539403,
        "lovastatin": 1592085,
        "pravastatin": 1551860,
        "fluvastatin": 1549686,
        "atorvastatin": 1545958,
        "rosuvastatin": 1510813,
        "pitavastatin": 40165636,
    }
    assert all(c.atc.startswith("C10AA") for c in sets["statins"].concepts)


def test_one_microkatal_per_litre_is_sixty_units_per_litre():
    # 1 U = 1 umol/min, 1 kat = 1 mol/s: 1 ukat = 1 umol/s = 60 umol/min = 60 U.
    units = {u.concept_id: u.to_u_per_l for u in load_concept_sets()["creatine_kinase"].units}
    assert units == {8645: 1.0, 8923: 1.0, 32995: 60.0, 33013: 0.06}


def test_the_other_antibodies_are_the_study_s_39_distinct_concepts():
    # ohdsi-studies/MyositisNetworkStudy lists 43 items, four of them twice (Jo-1).
    antibodies = load_concept_sets()["myositis_antibodies"]
    others = [c for c in antibodies.concepts if c.label not in ("hmgcr", "srp")]
    assert len(others) == len({c.id for c in others}) == 39
    assert {c.label for c in others} == STUDY_ANTIGENS
    assert all(c.vocabulary == "LOINC" and c.code for c in others)
    # each concept can be found unmapped too, by its LOINC code
    assert {normalise_code(c.code) for c in others} <= set(antibodies.codes())


def test_a_site_adds_to_a_set_and_its_version_is_recorded(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(
        'version = "site-7"\n[myositis_antibodies]\n'
        'source_codes = [{code = "HMGCR-IGG", label = "hmgcr", method = "elisa"}]\n'
        "[creatine_kinase]\n"
        'units = [{concept_id = 9999, name = "local", source_values = ["U/l"], to_u_per_l = 1}]\n',
        encoding="utf-8",
    )
    sets = load_concept_sets(site)
    assert sets["myositis_antibodies"].codes("hmgcr") == ("93493-5", "HMGCR-IGG")
    assert sets["creatine_kinase"].units[-1].concept_id == 9999
    assert sets.versions()["site_version"] == "site-7"
    assert sets["myositis_antibodies"].files[-1] == str(site)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[statins]\n", 'needs version = "..."'),
        ('version = "1"\n[biopsies]\n', r"\[biopsies\] is not a concept set"),
        ('version = "1"\n[statins]\nremove = [1]\n', "may add only"),
        ('version = "1"\n[statins]\nconcepts = [{id = "x"}]\n', "'id' must be a whole number"),
        ("version = \n", "not a valid TOML file"),
    ],
)
def test_a_bad_site_file_is_one_line_naming_it(tmp_path, text, message):
    site = tmp_path / "site.toml"
    site.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_concept_sets(site)
    assert str(caught.value).startswith(str(site))


def test_the_concepts_command_prints_what_a_run_uses(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert main(["concepts"], stdout=out, stderr=err) == 0
    text = out.getvalue()
    for name in SET_NAMES:
        assert f"\n{name} 2026.12.0: " in f"\n{text}"
    assert "concept 3007220: Creatine kinase" in text
    assert "source code LOINC 93493-5" in text
    assert "unit 32995 microkatal per liter" in text
    site = tmp_path / "site.toml"
    site.write_text('version = "site-7"\n', encoding="utf-8")
    out = io.StringIO()
    assert main(["concepts", "--concept-sets", str(site)], stdout=out, stderr=err) == 0
    assert f"site file: {site} (version site-7)" in out.getvalue()


def test_the_concepts_command_refuses_a_missing_file(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert (
        main(["concepts", "--concept-sets", str(tmp_path / "none.toml")], stdout=out, stderr=err)
        == 2
    )
    assert err.getvalue().count("\n") == 1 and "cannot be read" in err.getvalue()


def test_the_concept_files_ship_with_the_package():
    data = Path(__file__).parents[2] / "pyproject.toml"
    assert "data/concepts/*.toml" in data.read_text(encoding="utf-8")
    assert json.dumps(load_concept_sets().versions())


@pytest.mark.parametrize(
    ("table", "member", "named"),
    [
        ("myositis_antibodies", '{id = 2000000009, label = "anti-hmgcr"}', "'anti-hmgcr'"),
        ("myositis_antibodies", '{code = "HMGCR-IGG"}', "''"),
        ("emg", '{id = 2000000201, label = "Myopathic"}', "'Myopathic'"),
    ],
)
def test_a_site_member_whose_label_no_rule_reads_is_refused(tmp_path, table, member, named):
    key = "source_codes" if "code =" in member else "concepts"
    site = tmp_path / "site.toml"
    site.write_text(f'version = "s"\n[{table}]\n{key} = [{member}]\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_concept_sets(site)
    assert f"[{table}] label {named} is not one of: " in str(raised.value)


def test_the_toolkits_own_labels_are_the_ones_its_rules_read():
    from imnm_cohort.sources.omop_concepts import allowed_labels

    for concept_set in load_concept_sets():
        allowed = allowed_labels(concept_set.name)
        if allowed is not None:
            assert set(concept_set.labels()) <= set(allowed), concept_set.name
