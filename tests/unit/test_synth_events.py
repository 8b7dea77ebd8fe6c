"""Synthetic event tables (``imnm_cohort.synth_events``): contract section 6's columns,
deterministic for a seed, consistent with the patient table, defects that land in
quarantine, and planted effects that the course analyses recover (3 seeds here; 100 in
``benchmarks/bench_planted_effects.py``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imnm_cohort.analysis.relapse import find_relapses
from imnm_cohort.classify.procedure import classify
from imnm_cohort.contracts.events import EVENT_TABLES
from imnm_cohort.synth import design_groups, synthesize
from imnm_cohort.synth_events import (
    EVENT_DEFECTS,
    RELAPSE_RATE,
    recover_planted,
    synthesize_events,
)
from imnm_cohort.validation.derive import derive_patients
from imnm_cohort.validation.events import validate_events
from imnm_cohort.validation.validate import validate_extract
from imnm_cohort.vocabulary import IMNM_GROUPS

#: Every planted effect and group the recovery reports (n = 150 has them all).
EFFECTS = {
    *(("ck_slope", g) for g in IMNM_GROUPS),
    *(("mmt_slope", g) for g in IMNM_GROUPS),
    *(("relapse_rate_per_100py", g) for g in IMNM_GROUPS),
    ("two_or_more_odds_ratio", "all"),
    ("two_or_more_percent", "srp"),
    ("two_or_more_percent", "seronegative"),
}


@pytest.fixture(scope="module")
def registry():
    return synthesize_events(200, seed=11)


def _validated(registry):
    result = validate_extract(registry.patients)
    return result, validate_events(dict(registry.tables), result)


def test_each_table_has_the_contract_s_columns_in_contract_order(registry):
    assert set(registry.tables) == set(EVENT_TABLES)
    for name, frame in registry.tables.items():
        assert list(frame.columns) == list(EVENT_TABLES[name].columns), name
        assert len(frame) > 0, name


def test_the_patient_table_is_synthesize_s_and_the_tables_are_deterministic(registry):
    pd.testing.assert_frame_equal(registry.patients, synthesize(200, seed=11))
    again = synthesize_events(200, seed=11)
    for name, frame in registry.tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name])
    assert again.planted == registry.planted
    other = synthesize_events(200, seed=12)
    assert not other.tables["visits"].equals(registry.tables["visits"])


def test_a_clean_registry_breaks_no_rule_and_agrees_with_its_patient_table(registry):
    result, tables = _validated(registry)
    for name in EVENT_TABLES:
        assert tables[name].counts.quarantined == 0, (name, tables[name].quarantine.head())
    derived = derive_patients(result, tables)
    assert len(derived.warnings) == len(result.warnings)  # no disagreement with the events
    before = classify(result.valid)["imnm_group"].astype(str).to_numpy()
    after = classify(derived.valid)["imnm_group"].astype(str).to_numpy()
    assert (before == after).all()  # the events derive nothing that changes a group


def test_dirty_rows_are_quarantined_with_their_rule_and_no_row_is_lost():
    registry = synthesize_events(150, seed=4, dirty=0.03)
    result, tables = _validated(registry)
    assert len(result.quarantine) > 0
    for name, frame in registry.tables.items():
        table = tables[name]
        counts = table.counts
        assert counts.input == len(frame) == counts.valid + counts.quarantined > counts.valid
        held = table.quarantine
        rows = held["row_number"].to_numpy() - 1
        defect = frame["synth_defect"].to_numpy(dtype=object)
        reasons = dict(zip(rows, held["quarantine_reasons"].astype(str), strict=True))
        planted = np.flatnonzero(pd.notna(defect))
        assert set(defect[planted]) == {kind for kind, _, _ in EVENT_DEFECTS[name]}
        for row in planted:  # every defect is caught, by its rule
            kind = defect[row]
            column, rule = {k: (c, r) for k, c, r in EVENT_DEFECTS[name]}[kind]
            assert f"{column}:{rule}" in reasons[row], (name, kind, reasons.get(row))
        # Other quarantined rows belong to quarantined patients.
        others = [reasons[r] for r in rows if pd.isna(defect[r])]
        assert all("patient_quarantined" in r for r in others), name


def test_every_planted_relapse_is_found_and_nothing_else(registry):
    result, tables = _validated(registry)
    patients = classify(derive_patients(result, tables).valid)
    found = find_relapses(patients, tables.frame("visits"), tables.frame("treatments"))
    courses = registry.tables["treatments"]
    relapse_course = courses["dose_mg_per_day"] == "30"  # the relapses' glucocorticoid
    imnm = dict(zip(patients["patient_id"], patients["imnm_group"].astype(str), strict=True))
    group = courses["patient_id"].map(imnm)
    planted = courses[relapse_course & group.isin(IMNM_GROUPS)]
    assert len(found) == len(planted) > 0
    assert set(found["reasons"]) == {"glucocorticoid_increase_after_improvement"}
    assert sorted(found["patient_id"]) == sorted(planted["patient_id"])


def test_the_planted_relapse_rate_is_scaled_by_the_share_after_a_normal_ck(registry):
    rates = registry.planted.relapse_rate_per_100py
    assert registry.planted.relapse_rate_in_remission == RELAPSE_RATE
    assert all(0 <= rates[g] < RELAPSE_RATE for g in IMNM_GROUPS)
    assert rates["srp"] < rates["hmgcr"]  # slower normalisation: less time in remission
    assert rates["hmgcr"] > 0


def test_design_groups_are_the_groups_synthesize_draws():
    groups = design_groups(300, seed=3)
    patients = classify(validate_extract(synthesize(300, seed=3)).valid)
    imnm = np.isin(groups, IMNM_GROUPS)
    assert (patients["imnm_group"].astype(str).to_numpy()[imnm] == groups[imnm]).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_planted_values_lie_in_the_analyses_intervals(seed):
    """Twelve 95% intervals per seed: with valid intervals about 0.6 miss by chance, and
    more than 2 of 12 miss 2% of the time; a 99.9% interval misses 0.1% of the time, so all
    twelve hold it but 1.2% of the time. A planted effect the analyses do not recover breaks
    both. (100 seeds, coverage per value: benchmarks/bench_planted_effects.py.)"""
    found = recover_planted(synthesize_events(150, seed=seed), alphas=(0.05, 0.001))
    at_95 = [f for f in found if f.level == 0.95]
    at_999 = [f for f in found if f.level == 0.999]
    assert {(f.effect, f.group) for f in at_95} == EFFECTS
    assert {(f.effect, f.group) for f in at_999} == EFFECTS
    assert sum(not f.covered for f in at_95) <= 2, [f for f in at_95 if not f.covered]
    assert all(f.covered for f in at_999), [f for f in at_999 if not f.covered]


@pytest.mark.slow
def test_shuffling_the_rows_of_every_table_changes_no_number():
    registry = synthesize_events(70, seed=5)
    rng = np.random.default_rng(0)

    def shuffled(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)

    mixed = type(registry)(
        shuffled(registry.patients),
        {name: shuffled(frame) for name, frame in registry.tables.items()},
        registry.planted,
    )
    assert recover_planted(mixed) == recover_planted(registry)


def test_the_generator_s_margins_fit_the_relapse_definition():
    """Why no CK relapse and no merged relapse can occur (docs/synthetic.md): after a
    normal CK (<= ULN) a later CK is at most 2 x noise (plus rounding) above it, below
    log10(k); planted relapses are further apart than the merge window."""
    from imnm_cohort.analysis.relapse import RelapseDefinition
    from imnm_cohort.synth import ULN_CHOICES
    from imnm_cohort.synth_events import CK_NOISE, RELAPSE_SLOT_DAYS, VISIT_GAP_DAYS

    definition = RelapseDefinition()
    # CKs are written rounded to whole U/L. A written CK <= U was drawn below U + 0.5; a
    # later one is drawn at most 10^(2 x noise) times that, and written at most 0.5 above
    # its draw. It is no relapse while that stays at or below k x U, for the smallest U.
    u = min(float(x) for x in ULN_CHOICES)
    highest_later = (u + 0.5) * 10 ** (2 * CK_NOISE) + 0.5
    assert highest_later <= definition.k * u
    assert definition.merge_days < RELAPSE_SLOT_DAYS
    assert VISIT_GAP_DAYS[0] >= 60  # the second visit follows every immunotherapy start
