"""The statin-exposed population in the database: a small CDM worked out by hand, and the
planted rate of a synthetic database recovered within its exact interval."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import ibis
import pandas as pd
import pytest

from imnm_cohort.analysis.intervals import poisson_exact
from imnm_cohort.analysis.schema import VALUE_DEFS
from imnm_cohort.analysis.statin_population import (
    ANY_STATIN,
    StatinPopulation,
    StatinPopulationSettings,
    rate_ratio,
    statin_population,
)
from imnm_cohort.disclosure.suppression import suppress
from imnm_cohort.synth_omop import STATIN_INGREDIENTS, OmopPlan, write_omop

D = dt.date
ATORVA_80MG = 1545959  # a product: atorvastatin only through concept_ancestor
SIMVA = STATIN_INGREDIENTS["simvastatin"]


def _cdm(with_ancestor: bool = True, con: ibis.BaseBackend | None = None) -> dict[str, ibis.Table]:
    """Four persons (worked out in the tests below):

    1. female, born 1950, observed 2010-01-01 to 2011-12-31; atorvastatin 80 mg filled
       2010-07-01 (30 days), 2010-08-15 (30 days: 16 days after the first ran out, same
       era) and 2011-03-01 (a new era); anti-HMGCR IMNM from 2011-07-01.
    2. male, born 1960, observed 2010-01-01 to 2012-12-31, no statin; anti-SRP IMNM from
       2012-01-01.
    3. female, born 1945, observed 2010 and 2012 (two periods); simvastatin (the
       ingredient) from 2012-03-01, 90 days' supply and no end date, and 30 days' supply
       filled the same day (one era).
    4. male, born 1970, observed 2011; onset 2009-05-01, before observation: no time.
    """
    con = con or ibis.duckdb.connect()
    person = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4],
            "gender_concept_id": [8532, 8507, 8532, 8507],
            "year_of_birth": [1950, 1960, 1945, 1970],
        }
    )
    op = pd.DataFrame(
        {
            "observation_period_id": [1, 2, 3, 4, 5],
            "person_id": [1, 2, 3, 3, 4],
            "observation_period_start_date": [
                D(2010, 1, 1), D(2010, 1, 1), D(2010, 1, 1), D(2012, 1, 1), D(2011, 1, 1),
            ],
            "observation_period_end_date": [
                D(2011, 12, 31), D(2012, 12, 31), D(2010, 12, 31), D(2012, 12, 31),
                D(2011, 12, 31),
            ],
        }
    )  # fmt: skip
    drugs = pd.DataFrame(
        {
            "drug_exposure_id": [1, 2, 3, 4, 5, 6],
            "person_id": [1, 1, 1, 3, 2, 3],
            "drug_concept_id": [ATORVA_80MG, ATORVA_80MG, ATORVA_80MG, SIMVA, 1503297, SIMVA],
            "drug_exposure_start_date": [
                D(2010, 7, 1), D(2010, 8, 15), D(2011, 3, 1), D(2012, 3, 1), D(2010, 5, 1),
                D(2012, 3, 1),
            ],
            "drug_exposure_end_date": [
                D(2010, 7, 30), D(2010, 9, 13), D(2011, 3, 30), None, D(2010, 5, 30),
                D(2012, 3, 30),
            ],
            "days_supply": [30, 30, 30, 90, 30, 30],
        }
    )  # fmt: skip
    drugs["drug_exposure_end_date"] = pd.to_datetime(drugs["drug_exposure_end_date"]).dt.date
    ancestor = pd.DataFrame(
        {
            "ancestor_concept_id": [STATIN_INGREDIENTS["atorvastatin"]],
            "descendant_concept_id": [ATORVA_80MG],
        }
    )
    frames = {"person": person, "observation_period": op, "drug_exposure": drugs}
    if with_ancestor:
        frames["concept_ancestor"] = ancestor
    return {name: con.create_table(name, frame, overwrite=True) for name, frame in frames.items()}


CASES = pd.DataFrame(
    {
        "person_id": [1, 2, 4],
        "onset_date": ["2011-07-01", "2012-01-01", "2009-05-01"],
        "group": ["hmgcr", "srp", "seronegative"],
    }
)
YEAR = 365.25
#: Unexposed days: person 1 to the first fill (181), person 2 to onset (730), person 3
#: all of 2010 (365) and 2012 to the first fill (60, a leap year).
UNEXPOSED_DAYS = 181 + 730 + 365 + 60
#: Exposed days ("ever"): person 1 from the first fill to onset (365), person 3 from the
#: first fill to the end of 2012 (306).
EXPOSED_DAYS = 365 + 306


@pytest.fixture(scope="module")
def result() -> StatinPopulation:
    return statin_population(_cdm(), STATIN_INGREDIENTS, CASES)


def test_person_time_events_and_rates_equal_the_hand_computation(result):
    un, any_ = result.unexposed, result.exposures[ANY_STATIN]
    assert un.person_years == UNEXPOSED_DAYS / YEAR
    assert any_.person_years == EXPOSED_DAYS / YEAR
    assert result.exposures["atorvastatin"].person_years == 365 / YEAR
    assert result.exposures["simvastatin"].person_years == 306 / YEAR
    assert result.exposures["rosuvastatin"].person_years == 0
    assert un.groups["srp"].events == 1 and un.groups["hmgcr"].events == 0
    assert any_.groups["hmgcr"].events == 1 and any_.groups["imnm"].events == 1
    assert result.exposures["atorvastatin"].groups["hmgcr"].events == 1
    assert result.exposures["simvastatin"].groups["imnm"].events == 0
    assert result.cases_outside == 1  # person 4
    rate = un.groups["srp"]
    assert rate.rate == 100_000 * 1 / (UNEXPOSED_DAYS / YEAR)
    lo, hi = poisson_exact(1, UNEXPOSED_DAYS / YEAR)
    assert rate.rate_ci == (100_000 * lo, 100_000 * hi)
    ratio = any_.ratios["imnm"]
    expected = (1 / (EXPOSED_DAYS / YEAR)) / (1 / (UNEXPOSED_DAYS / YEAR))
    assert ratio.ratio == pytest.approx(expected, rel=1e-12)


def test_eras_follow_the_persistence_gap(result):
    atorva = result.exposures["atorvastatin"]
    assert (atorva.persons, atorva.eras) == (1, 2)
    assert atorva.era_years == (75 + 30) / YEAR  # 2010-07-01..09-13 and 2011-03-01..03-30
    assert (result.exposures[ANY_STATIN].persons, result.exposures[ANY_STATIN].eras) == (2, 3)
    tight = statin_population(
        _cdm(), STATIN_INGREDIENTS, CASES, StatinPopulationSettings(persistence_gap_days=10)
    )
    assert tight.exposures["atorvastatin"].eras == 3


def test_the_current_window_counts_time_and_onsets_within_eras_only():
    result = statin_population(
        _cdm(), STATIN_INGREDIENTS, CASES, StatinPopulationSettings(window="current")
    )
    any_ = result.exposures[ANY_STATIN]
    assert any_.person_years == (75 + 30 + 90) / YEAR
    assert any_.groups["imnm"].events == 0  # person 1's onset falls after her last era
    assert result.unexposed.person_years == UNEXPOSED_DAYS / YEAR
    assert result.cases_outside == 2


def test_without_concept_ancestor_only_the_ingredient_ids_count():
    result = statin_population(_cdm(with_ancestor=False), STATIN_INGREDIENTS, CASES)
    assert result.exposures["atorvastatin"].person_years == 0
    assert result.exposures[ANY_STATIN].person_years == 306 / YEAR
    # person 1 is then never exposed: unexposed to her onset
    assert result.unexposed.person_years == (546 + 730 + 365 + 60) / YEAR


def test_strata_split_by_year_age_band_and_sex_add_up(result):
    s = result.strata
    cell = s[
        (s["exposure"] == "unexposed")
        & (s["age_band"] == "60-69")
        & (s["sex"] == "female")
        & (s["year"] == 2010)
    ]
    assert cell["person_years"].item() == (181 + 365) / YEAR  # persons 1 (age 60) and 3 (65)
    male = s[(s["sex"] == "male") & (s["exposure"] == "unexposed")]
    assert male["age_band"].tolist() == ["50-59", "50-59", "50-59"]  # person 2: 2010-2012
    assert male["events"].tolist() == [0, 0, 1]
    by_side = s.groupby("exposure")["person_years"].sum()
    assert by_side["unexposed"] == pytest.approx(UNEXPOSED_DAYS / YEAR, rel=1e-12)
    assert by_side["exposed"] == pytest.approx(EXPOSED_DAYS / YEAR, rel=1e-12)
    assert s.groupby("exposure")["events"].sum().to_dict() == {"exposed": 1, "unexposed": 1}


def test_every_number_is_declared_and_small_counts_are_withheld(result):
    data = result.to_dict()
    out = suppress(data, result.disclosure(), 5)
    assert out.undeclared == ()
    srp = out.data["unexposed"]["groups"]["srp"]
    assert srp["events"] == "<5" and srp["rate"] == "[withheld]"
    assert out.data["exposed"][ANY_STATIN]["rate_ratios"]["srp"]["ratio"] == "[withheld]"
    assert all(row["events"] in (0, "<5", "[withheld]") for row in out.data["strata"])
    text = str(data)
    assert "2011-07-01" not in text and "person_id" not in text


def test_the_output_before_and_after_disclosure_control_fits_its_json_schema(result):
    import jsonschema

    schema = StatinPopulation.json_schema()
    schema["$defs"] = {**VALUE_DEFS, **schema["$defs"]}
    data = result.to_dict()
    jsonschema.validate(data, schema)
    jsonschema.validate(suppress(data, result.disclosure(), 5).data, schema)


def test_a_person_without_year_of_birth_or_sex_is_counted_as_unknown():
    con = ibis.duckdb.connect()
    tables = _cdm(con=con)
    con.raw_sql("UPDATE person SET year_of_birth = NULL, gender_concept_id = 0 WHERE person_id = 2")
    s = statin_population(tables, STATIN_INGREDIENTS, CASES).strata
    unknown = s[s["age_band"] == "unknown"]
    assert unknown["sex"].unique().tolist() == ["unknown"]
    assert unknown["person_years"].sum() == pytest.approx(730 / YEAR, rel=1e-12)
    assert unknown["events"].sum() == 1


def test_a_bad_setting_or_case_table_is_refused():
    with pytest.raises(ValueError, match="window"):
        StatinPopulationSettings(window="sometimes")
    with pytest.raises(ValueError, match="age_bands"):
        StatinPopulationSettings(age_bands=(18, 40))
    with pytest.raises(ValueError, match="onset_date"):
        statin_population(_cdm(), STATIN_INGREDIENTS, CASES.drop(columns="onset_date"))


def test_rate_ratio_edges():
    assert rate_ratio(0, 1.0, 0, 1.0).ratio is None
    none_unexposed = rate_ratio(3, 10.0, 0, 10.0)
    assert none_unexposed.ratio is None and none_unexposed.ci is not None
    assert none_unexposed.ci[1] is None and none_unexposed.ci[0] > 0


def test_the_planted_rate_lies_in_the_exact_interval_of_the_rate_found(tmp_path: Path):
    plan = OmopPlan(exposed_rate=1500.0, unexposed_rate=250.0, measurements=1)
    path = tmp_path / "cdm.duckdb"
    write_omop(8_000, path, seed=11, plan=plan)
    con = ibis.duckdb.connect(str(path), read_only=True)
    tables = {
        n: con.table(n)
        for n in ("person", "observation_period", "drug_exposure", "concept_ancestor")
    }
    truth = con.table("planted_truth").to_pandas().rename(columns={"true_group": "group"})
    result = statin_population(tables, STATIN_INGREDIENTS, truth)
    exposed = result.exposures[ANY_STATIN].groups["imnm"]
    unexposed = result.unexposed.groups["imnm"]
    assert exposed.events > 50 and unexposed.events > 20
    assert exposed.rate_ci[0] <= plan.exposed_rate <= exposed.rate_ci[1]
    assert unexposed.rate_ci[0] <= plan.unexposed_rate <= unexposed.rate_ci[1]
    # every planted IMNM case is counted once, as exposed or unexposed at onset
    imnm = truth[truth["group"] != "not_imnm"]
    assert exposed.events == int(imnm["exposed_at_onset"].sum())
    assert unexposed.events == int((~imnm["exposed_at_onset"]).sum())
    assert result.cases_outside == 0
    ratio = result.exposures[ANY_STATIN].ratios["imnm"]
    assert ratio.ci[0] <= plan.exposed_rate / plan.unexposed_rate <= ratio.ci[1]
