"""Planted truth on the synthetic OMOP database: the OMOP source, the ehr2026 criteria set
and the statin-population analysis, joined as ``run`` joins them, find the planted groups
patient by patient and the planted incidence within its exact interval.

Every combination the generator plants is present (the test checks so first): antibodies
mapped to a LOINC concept of the site's own (found through ``concept``) and unmapped (the
LOINC code in ``measurement_source_value``), CK in U/L and in µkat/L, two observation
periods, statins started after onset, cancers before onset. Seronegative IMNM needs a
biopsy that coded data do not hold: those patients are unclassified with the reason
``r11_biopsy_missing`` (docs/omop.md), never put in a group.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from imnm_cohort.analysis.intervals import poisson_exact
from imnm_cohort.classify.criteria import get_criteria
from imnm_cohort.engines.base import engine_for
from imnm_cohort.pipeline import stages
from imnm_cohort.sources.omop import OmopSource
from imnm_cohort.synth_omop import OmopPlan, write_omop
from imnm_cohort.validation.events import EventTables

#: Rates far above the real ones, so that a small database holds every combination.
#: Whole runs: the slow step of the suite (make test-slow), not make test.
pytestmark = pytest.mark.slow


DENSE = OmopPlan(
    exposed_rate=3000, unexposed_rate=600, decoy_rate=400, measurements=4, two_periods=0.3
)
FOUND_AS = {"hmgcr": "hmgcr", "srp": "srp", "seronegative": "unclassified", "not_imnm": "not_imnm"}


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    path = tmp_path_factory.mktemp("omop") / "cdm.duckdb"
    write_omop(3000, path, seed=11, plan=DENSE)
    with duckdb.connect(str(path), read_only=True) as con:
        truth = con.execute("SELECT * FROM planted_truth").df()
    source = OmopSource(f"duckdb:///{path}")
    engine = engine_for()
    result = engine.validate(source)
    tables = stages.source_tables(source, result)
    assert isinstance(tables, EventTables)
    result = stages.derive(result, tables)
    classified = engine.classify(result, get_criteria(source.default_criteria))
    return truth, classified, stages.statin_population(source, classified)


def test_every_combination_is_planted(found):
    truth = found[0]
    imnm = truth[truth["true_group"].isin(["hmgcr", "srp"])]
    for column in ("antibodies_mapped", "two_periods", "statin_after_onset"):
        assert imnm[column].any(), column
    assert not imnm["antibodies_mapped"].all()
    assert set(imnm["ck_unit"]) >= {"U/L", "ukat/L"}
    assert truth["cancer_before_onset"].fillna(False).any()
    assert (truth["true_group"] == "seronegative").any()


def test_groups_found_are_the_planted_groups_patient_by_patient(found):
    truth, classified, _ = found
    got = dict(
        zip(classified["patient_id"].astype(str), classified["imnm_group"].astype(str), strict=True)
    )
    want = {
        str(p): FOUND_AS[g] for p, g in zip(truth["person_id"], truth["true_group"], strict=True)
    }
    assert got == want
    seronegative = classified[classified["imnm_group"].astype(str) == "unclassified"]
    assert set(seronegative["classification_reasons"].astype(str)) == {"r11_biopsy_missing"}


def test_the_planted_incidence_is_within_its_exact_interval(found):
    truth, _, population = found
    exposed = population.exposures["any_statin"]
    # Seronegative cases stay unclassified: the rate found is that of the groups found.
    share = sum(DENSE.exposed_groups[:2])
    events = exposed.groups["hmgcr"].events + exposed.groups["srp"].events
    lo, hi = poisson_exact(events, exposed.person_years)
    assert 100_000 * lo <= DENSE.exposed_rate * share <= 100_000 * hi
    # Every case found is counted once, exposed or not, or said to lie outside observation.
    cases = int(truth["true_group"].isin(["hmgcr", "srp"]).sum())
    unexposed = population.unexposed.groups["imnm"].events
    assert exposed.groups["imnm"].events + unexposed + population.cases_outside == cases
    assert population.settings.persistence_gap_days == 30


def test_no_date_or_identifier_leaves_in_the_aggregates(found):
    truth, _, population = found
    text = str(population.to_dict())
    for day in truth["onset_date"].astype(str).head(20):
        assert day not in text
