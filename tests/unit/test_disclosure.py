"""Disclosure control: small cells withheld, with what would reveal them, and logged."""

from __future__ import annotations

import pytest

from imnm_cohort.report.disclosure import is_small, suppress


@pytest.mark.parametrize(
    ("value", "small"),
    [(0, False), (1, True), (4, True), (5, False), (True, False), (2.5, False), ("3", False)],
)
def test_what_counts_as_small(value, small):
    assert is_small(value, 5) is small


def test_small_counts_and_their_dependents_are_withheld():
    data = {
        "counts": {"input_rows": 120, "quarantined_rows": 3, "valid_rows": 117},
        "malignancy": {
            "groups": {
                "srp": {
                    "n": 30,
                    "at_risk": 28,
                    "events": 2,
                    "rate_per_1000py": 12.0,
                    "rate_ci": [1.0, 40.0],
                    "cumulative_incidence": 0.05,
                    "cumulative_incidence_ci": [0.01, 0.2],
                    "within_window": 0,
                    "within_window_proportion": 0.0,
                }
            }
        },
        "onset_age": {
            "test": "kruskal",
            "groups": {"srp": {"n": 4, "median": 51.0, "q1": 40.0, "q3": 60.0}},
        },
    }
    out = suppress(data)
    assert out.data["counts"]["quarantined_rows"] == "<5"
    srp = out.data["malignancy"]["groups"]["srp"]
    assert srp["events"] == srp["rate_per_1000py"] == srp["cumulative_incidence"] == "<5"
    assert srp["within_window"] == 0 and srp["within_window_proportion"] == 0.0
    assert out.data["onset_age"]["groups"]["srp"] == {
        "n": "<5",
        "median": "<5",
        "q1": "<5",
        "q3": "<5",
    }
    assert out.data["onset_age"]["test"] == "kruskal"
    assert "malignancy.groups.srp.events" in out.withheld
    assert data["counts"]["quarantined_rows"] == 3  # the input is not modified


def test_one_withheld_cell_in_a_row_withholds_a_second():
    data = {"groups": {"hmgcr": 40, "srp": 3, "seronegative": 12, "not_imnm": 0}}
    groups = suppress(data).data["groups"]
    assert groups == {"hmgcr": 40, "srp": "<5", "seronegative": "<5", "not_imnm": 0}


def test_category_percentages_follow_their_counts():
    data = {
        "sex": {
            "denominator": 20,
            "counts": {"female": 16, "male": 2, "unknown": 2},
            "percent": {"female": 80.0, "male": 10.0, "unknown": 10.0},
        }
    }
    sex = suppress(data).data["sex"]
    assert sex["counts"] == {"female": 16, "male": "<5", "unknown": "<5"}
    assert sex["percent"] == {"female": 80.0, "male": "<5", "unknown": "<5"}


def test_ranges_are_withheld_and_other_thresholds_work():
    data = {"age": {"n": 50, "min": 18.2, "max": 91.0, "median": 60.0}, "events": 9}
    out = suppress(data, 10)
    assert out.data["age"]["min"] == out.data["age"]["max"] == "<10"
    assert out.data["events"] == "<10" and out.marker == "<10"


def test_zero_turns_suppression_off():
    data = {"groups": {"srp": 1}, "age": {"n": 2, "min": 1.0}}
    out = suppress(data, 0)
    assert out.data == data and out.withheld == ()
    with pytest.raises(ValueError):
        suppress(data, -1)


def band(count_key: str, value: int) -> dict:
    if count_key == "observed":
        return {"observed": value, "expected": 2.0, "ratio": value / 2, "ratio_ci": [0.1, 9.0]}
    return {"events": value, "person_years": 10.0, "rate_per_1000py": 1.0, "rate_ci": [0, 2]}


@pytest.mark.parametrize(
    ("count_key", "dependent"), [("events", "rate_per_1000py"), ("observed", "ratio")]
)
def test_one_withheld_band_takes_the_next_smallest_with_it(count_key, dependent):
    counts = {"<1": 3, "1-3": 12, "3-5": 0, ">=5": 7}
    data = {"groups": {"srp": {"by_follow_up": {b: band(count_key, v) for b, v in counts.items()}}}}
    out = suppress(data)
    bands = out.data["groups"]["srp"]["by_follow_up"]
    assert [bands[b][count_key] for b in counts] == ["<5", 12, 0, "<5"]
    assert bands[">=5"][dependent] == "<5" and bands["1-3"][dependent] != "<5"
    assert "groups.srp.by_follow_up.>=5." + count_key in out.withheld


def test_a_ratio_next_to_a_withheld_observed_count_is_withheld():
    out = suppress({"observed": 2, "expected": 1.5, "ratio": 1.33, "ratio_ci": [0.2, 4.8]})
    assert out.data == {"observed": "<5", "expected": 1.5, "ratio": "<5", "ratio_ci": "<5"}
