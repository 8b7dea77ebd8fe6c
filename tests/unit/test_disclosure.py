"""Disclosure control: declared counts withheld, with what would reveal them, and logged."""

from __future__ import annotations

import pytest

from imnm_cohort.disclosure.suppression import (
    WITHHELD,
    Count,
    Declaration,
    Margin,
    Policy,
    Share,
    suppress,
)


@pytest.mark.parametrize(
    ("value", "small"),
    [(0, False), (1, True), (4, True), (5, False), (True, False), (2.5, False), ("3", False)],
)
def test_what_counts_as_small(value, small):
    assert Policy(5).is_small(value) is small


def test_small_counts_and_what_they_reveal_are_withheld():
    data = {
        "srp": {
            "n": 30,
            "events": 2,
            "rate": 12.0,
            "rate_ci": [1.0, 40.0],
            "median": 51.0,
        },
        "age": {"n": 4, "median": 51.0, "q1": 40.0, "q3": 60.0},
    }
    declaration = Declaration(
        counts=(
            Count(("srp", "n")),
            Count(("srp", "events"), reveals=(("srp", "rate"), ("srp", "rate_ci"))),
            Count(("age", "n"), describes=(("age",),)),
        )
    )
    out = suppress(data, declaration)
    assert out.data["srp"] == {
        "n": 30,
        "events": "<5",
        "rate": WITHHELD,
        "rate_ci": WITHHELD,
        "median": 51.0,
    }
    assert out.data["age"] == {"n": "<5", "median": WITHHELD, "q1": WITHHELD, "q3": WITHHELD}
    assert "srp.events" in out.withheld and "srp.rate_ci" in out.withheld
    assert data["srp"]["events"] == 2  # the input is not modified


def test_a_secondary_cell_is_withheld_with_a_marker_that_is_not_false():
    data = {"groups": {"hmgcr": 40, "srp": 3, "seronegative": 9, "not_imnm": 0}, "valid": 52}
    cells = tuple(("groups", g) for g in data["groups"])
    declaration = Declaration(
        counts=(*(Count(c) for c in cells), Count(("valid",))),
        margins=(Margin(cells, ("valid",)),),
    )
    groups = suppress(data, declaration).data["groups"]
    assert groups == {"hmgcr": 40, "srp": "<5", "seronegative": WITHHELD, "not_imnm": 0}


def test_the_same_count_is_withheld_everywhere_and_margins_follow():
    # Table 1: the overall column minus the shown groups must not give a withheld group.
    data = {
        "groups": {"hmgcr": 11, "srp": 2, "seronegative": 0},
        "table": {"n": {"hmgcr": 11, "srp": 2, "seronegative": 0, "overall": 13}},
        "other": {"hmgcr": {"n": 11}},
    }
    g = ("hmgcr", "srp", "seronegative")
    declaration = Declaration(
        counts=(
            *(Count(("groups", x), f"group:{x}") for x in g),
            *(Count(("table", "n", x), f"group:{x}") for x in g),
            Count(("table", "n", "overall")),
            Count(("other", "hmgcr", "n"), "group:hmgcr"),
        ),
        margins=(Margin(tuple(("table", "n", x) for x in g), ("table", "n", "overall")),),
    )
    out = suppress(data, declaration).data
    assert out["table"]["n"] == {
        "hmgcr": WITHHELD,
        "srp": "<5",
        "seronegative": 0,
        "overall": 13,
    }
    assert out["groups"]["hmgcr"] == out["other"]["hmgcr"]["n"] == WITHHELD


def test_a_small_difference_not_shown_counts_as_withheld():
    # n - at_risk = 2 patients not at risk: at_risk must go.
    data = {"n": 30, "at_risk": 28}
    declaration = Declaration(
        counts=(Count(("n",)), Count(("at_risk",))),
        margins=(Margin((("at_risk",),), ("n",), rest=2),),
    )
    assert suppress(data, declaration).data == {"n": 30, "at_risk": WITHHELD}


def test_an_undeclared_integer_is_withheld_fail_closed():
    data = {"observed": 3, "expected": 2.5, "declared": 3}
    out = suppress(data, Declaration(counts=(Count(("declared",)),)))
    assert out.data["observed"] == WITHHELD
    assert out.undeclared == ("observed",)
    assert out.data["expected"] == 2.5


def test_a_small_group_shows_no_mean_and_sd():
    declaration = Declaration(
        counts=(Count(("n",), describes=((),), few=(("mean",), ("sd",))),),
        individual=(("min",), ("max",)),
    )
    five = {"n": 5, "median": 50.0, "q1": 40.0, "q3": 60.0, "mean": 51.0, "sd": 9.0, "min": 1.0}
    out = suppress(five, declaration).data
    assert out["mean"] == out["sd"] == out["min"] == WITHHELD
    assert out["median"] == 50.0
    ten = {**five, "n": 10}
    assert suppress(ten, declaration).data["mean"] == 51.0


def test_rounding_withholds_up_to_the_threshold_and_rounds_the_rest():
    data = {"a": 5, "b": 7, "c": 8, "d": 12, "total": 32, "pct": 21.875, "rate": 0.3}
    declaration = Declaration(
        counts=(
            Count(("a",)),
            Count(("b",), reveals=(("pct",),)),
            Count(("c",), reveals=(("rate",),)),
            Count(("d",)),
            Count(("total",)),
        ),
        margins=(Margin((("a",), ("b",), ("c",), ("d",)), ("total",)),),
        shares=(Share(("pct",), ("b",), ("total",)),),
    )
    out = suppress(data, declaration, Policy(5, rounding=5))
    assert out.data == {
        "a": "<=5",
        "b": 5,
        "c": 10,
        "d": 10,
        "total": 30,
        "pct": pytest.approx(100 * 5 / 30),
        "rate": WITHHELD,  # would give back the exact count
    }
    assert out.marker == "<=5"


def test_zero_turns_control_off():
    data = {"groups": {"srp": 1}, "age": {"n": 2, "min": 1.0}}
    declaration = Declaration(counts=(Count(("groups", "srp")), Count(("age", "n"))))
    out = suppress(data, declaration, 0)
    assert out.data == data and out.withheld == ()
    with pytest.raises(ValueError):
        Policy(-1)


def test_dependents_go_with_a_withheld_count_undefined_ones_and_their_method_too():
    data = {
        "a": {"n": 3, "sd": None},
        "b": {"n": 40},
        "test": {"statistic": 2.5, "p_value": None, "method": "exact", "reason": "few"},
    }
    test = (("test", "statistic"), ("test", "p_value"), ("test", "method"))
    declaration = Declaration(
        counts=(
            Count(
                ("a", "n"),
                describes=(("a",),),
                dependents=test,
                notes=((("test", "reason"), "values"),),
            ),
            Count(("b", "n"), dependents=test, notes=((("test", "reason"), "values"),)),
        )
    )
    out = suppress(data, declaration).data
    assert out["a"] == {"n": "<5", "sd": WITHHELD}
    assert out["test"] == {
        "statistic": WITHHELD,
        "p_value": WITHHELD,
        "method": WITHHELD,
        "reason": "not shown (fewer than 5 values)",  # the small count's note wins
    }
    assert suppress({**data, "a": {"n": 30, "sd": 1.0}}, declaration).data["test"] == data["test"]


def test_a_note_beside_a_count_withheld_only_to_protect_another_is_neutral():
    data = {"total": 50, "x": 3, "y": 47, "reason": None}
    declaration = Declaration(
        counts=(Count(("total",)), Count(("x",)), Count(("y",), notes=((("reason",), "events"),))),
        margins=(Margin((("x",), ("y",)), ("total",)),),
    )
    out = suppress(data, declaration).data
    assert out["y"] == WITHHELD
    assert out["reason"] == "not shown (withheld so that a small count cannot be worked out)"
    assert "fewer" not in out["reason"]


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.21035792841431714, 0.21),
        (0.04651, 0.047),
        (0.0012345, 0.0012),
        (0.00099, "<0.001"),
        (1.0, 1.0),
    ],
)
def test_coarsened_p_values_are_printed_as_journals_do(p, shown):
    declaration = Declaration(counts=(Count(("n",), coarsened=(("p",),)),))
    assert suppress({"n": 2, "p": p}, declaration).data["p"] == shown
    assert suppress({"n": 20, "p": p}, declaration).data["p"] == p
    always = Declaration(counts=(Count(("n",)),), rounded=(("p",),))
    assert suppress({"n": 20, "p": p}, always).data["p"] == shown
    assert suppress({"n": 20, "p": p}, always, 0).data["p"] == p  # control off


def test_a_margins_preferred_member_is_withheld_first():
    data = {"total": 65, "groups": {"hmgcr": 35, "srp": 2, "seronegative": 28}}
    cells = tuple(("groups", g) for g in data["groups"])
    plain = Declaration(
        counts=(Count(("total",)), *(Count(c) for c in cells)), margins=(Margin(cells, ("total",)),)
    )
    assert suppress(data, plain).data["groups"]["seronegative"] == WITHHELD
    preferring = Declaration(
        counts=plain.counts, margins=(Margin(cells, ("total",), prefer=("total",)),)
    )
    out = suppress(data, preferring).data
    assert out == {"total": WITHHELD, "groups": {"hmgcr": 35, "srp": "<5", "seronegative": 28}}


def test_under_rounding_a_test_over_exact_counts_shows_its_rounded_p_value_alone():
    declaration = Declaration(
        counts=(Count(("n",), dependents=(("statistic",),), coarsened=(("p",),)),)
    )
    data = {"n": 23, "statistic": 4.123, "p": 0.04321}
    out = suppress(data, declaration, Policy(5, rounding=5)).data
    assert out == {"n": 25, "statistic": WITHHELD, "p": 0.043}
    assert suppress(data, declaration, Policy(5)).data == data  # threshold: nothing withheld
