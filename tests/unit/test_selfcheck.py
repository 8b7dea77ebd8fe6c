"""The disclosure self-check: its solver on hand-made tables, and the four ways withheld
counts came back (Fisher-Freeman-Halton statistic, model totals, denominators under
``missing = "exclude"``, survival curve), each on a crafted output with the leak."""

from __future__ import annotations

import math

import pytest

from imnm_cohort.disclosure.declarations import Declaration, Margin
from imnm_cohort.disclosure.figures import Curve, FigureData
from imnm_cohort.disclosure.inference import INF, System, solve
from imnm_cohort.disclosure.suppression import WITHHELD, Policy
from imnm_cohort.pipeline.selfcheck import (
    DisclosureLeakError,
    check_counts,
    check_figures,
    check_models,
    check_run,
    check_statistics,
)

POLICY = Policy(5)
GROUPS = ("hmgcr", "srp", "seronegative")


def _table(cells: list[list[object]], rows: tuple[int, ...], cols: tuple[int, ...], total: int):
    """A 2 x 3 table as an output: cells, row totals, column totals and the grand total,
    with the margins declared."""
    data = {
        "cells": {f"r{i}": {f"c{j}": v for j, v in enumerate(row)} for i, row in enumerate(cells)},
        "rows": {f"r{i}": v for i, v in enumerate(rows)},
        "cols": {f"c{j}": v for j, v in enumerate(cols)},
        "total": total,
    }
    margins = [
        Margin(tuple(("cells", f"r{i}", f"c{j}") for j in range(3)), ("rows", f"r{i}"))
        for i in range(2)
    ] + [
        Margin(tuple(("cells", f"r{i}", f"c{j}") for i in range(2)), ("cols", f"c{j}"))
        for j in range(3)
    ]
    margins.append(Margin(tuple(("rows", f"r{i}") for i in range(2)), ("total",)))
    return data, Declaration(margins=tuple(margins))


# Row sums 21, 20; column sums 9, 10, 22; total 41.
TRUE = [[3, 8, 10], [6, 2, 12]]


def test_one_withheld_cell_with_every_margin_shown_is_found() -> None:
    cells = [["<5", 8, 10], [6, 2, 12]]
    data, declaration = _table(cells, (21, 20), (9, 10, 22), 41)
    check = check_counts([("t.json", data, declaration, None)], POLICY)
    assert [f.path for f in check.findings] == ["cells.r0.c0"]
    assert "(3)" in check.findings[0].reason


def test_complementary_suppression_hides_the_cell() -> None:
    # The four corners of a rectangle withheld: the cell can be 2, 3 or 4.
    cells = [["<5", WITHHELD, 10], [WITHHELD, "<5", 12]]
    data, declaration = _table(cells, (21, 20), (9, 10, 22), 41)
    assert check_counts([("t.json", data, declaration, None)], POLICY).ok


def test_bounds_pin_what_differencing_alone_does_not() -> None:
    # Two `<5` cells adding up to 2 can only be 1 and 1.
    data = {"a": "<5", "b": "<5", "total": 2}
    declaration = Declaration(margins=(Margin((("a",), ("b",)), ("total",)),))
    found = check_counts([("t.json", data, declaration, None)], POLICY)
    assert sorted(f.path for f in found.findings) == ["a", "b"]


def test_the_integer_programs_settle_what_propagation_leaves() -> None:
    # x + y = 3, y + z = 3, x + z = 4: only x = 2, y = 1, z = 2. Propagation over each
    # relation alone leaves intervals; the integer programs pin all three.
    system = System()
    x, y, z = (system.variable(n, 0, INF, True) for n in "xyz")
    system.relate([(x, 1), (y, 1)], 3)
    system.relate([(y, 1), (z, 1)], 3)
    system.relate([(x, 1), (z, 1)], 4)
    solution = solve(system)
    assert solution.pinned == (x, y, z)
    assert solution.solves > 0
    assert (solution.lo[x], solution.lo[y], solution.lo[z]) == (2, 1, 2)


def test_a_free_cell_is_not_pinned_and_inconsistent_relations_claim_nothing() -> None:
    system = System()
    a, b = system.variable("a", 1, 4, True), system.variable("b", 0, INF, True)
    system.relate([(a, 1), (b, 1)], 7)
    assert solve(system).pinned == ()
    system.relate([(a, 1)], 9)  # a cannot be 9
    assert not solve(system).consistent


def test_rounded_counts_bound_the_cell_to_their_rounding_interval() -> None:
    # Under rounding to 5, 20 stands for 18..22: the withheld cell is 0 to 4 wide, not one value.
    cells = [["<=5", 10, 10], [5, 0, 10]]
    data, declaration = _table(cells, (20, 15), (10, 10, 20), 35)
    assert check_counts([("t.json", data, declaration, None)], Policy(5, rounding=5)).ok


# --------------------------------------------------------------------------- case 1


def _probability(table: list[list[int]]) -> float:
    """The probability of a table given its margins (the hypergeometric formula, written
    out with factorials)."""
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    num = math.prod(math.factorial(v) for v in (*rows, *cols))
    den = math.factorial(sum(rows)) * math.prod(math.factorial(v) for r in table for v in r)
    return num / den


def _sex_row(cells: dict[str, dict[str, object]], n: dict[str, object], statistic):
    return {
        "table_one": {
            "groups": list(GROUPS),
            "columns": [*GROUPS, "overall"],
            "n": n,
            "missing_values": "row",
            "rows": [
                {
                    "variable": "sex",
                    "kind": "categorical",
                    "levels": ["female", "male"],
                    "cells": {
                        c: {
                            "denominator": n[c],
                            "counts": {"female": cells[c]["female"], "male": cells[c]["male"]},
                        }
                        for c in n
                    },
                    "test": {"test": "fisher_freeman_halton", "statistic": statistic},
                }
            ],
        }
    }


def test_an_exact_statistic_gives_the_withheld_table_back() -> None:
    # True table (groups x sex): 20/10, 2/3, 8/4. The anti-SRP cells are `<5`, the
    # seronegative ones withheld with them: four tables fit the margins.
    true = [[20, 10], [2, 3], [8, 4]]
    cells = {
        "hmgcr": {"female": 20, "male": 10},
        "srp": {"female": "<5", "male": "<5"},
        "seronegative": {"female": WITHHELD, "male": WITHHELD},
        "overall": {"female": 30, "male": 17},
    }
    n = {"hmgcr": 30, "srp": 5, "seronegative": 12, "overall": 47}
    summary = _sex_row(cells, n, _probability(true))
    assert check_counts([("summary.json", summary, Declaration(), None)], POLICY).ok
    found = check_statistics(summary, Declaration(), POLICY)
    assert [f.path for f in found.findings] == ["table_one.rows[0].test.statistic"]
    assert "only one of the 4 tables" in found.findings[0].reason
    # Withheld, or rounded so that several tables give it, the statistic is safe.
    assert check_statistics(_sex_row(cells, n, None), Declaration(), POLICY).ok
    rounded = float(f"{_probability(true):.1g}")
    assert check_statistics(_sex_row(cells, n, rounded), Declaration(), POLICY).ok


# --------------------------------------------------------------------------- case 2


def _malignancy(srp_events: object, model_events: object) -> dict[str, object]:
    groups = {
        "hmgcr": {"n": 400, "at_risk": 380, "events": 35, "deaths": 40},
        "srp": {"n": 100, "at_risk": 90, "events": srp_events, "deaths": 12},
        "seronegative": {"n": 200, "at_risk": 190, "events": 28, "deaths": 20},
    }
    term = {"term": "group_srp", "coef": 0.1, "se": 0.72, "hazard_ratio": 1.1, "ci": [0.3, 4.5]}
    return {
        "comparisons": {"malignancy": {"groups": groups}},
        "cause_specific_cox": {
            "reference_group": "hmgcr",
            "n": 660,
            "events": model_events,
            "terms": [term],
        },
        "fine_gray": {
            "reference_group": "hmgcr",
            "n": 660,
            "events": model_events,
            "competing": 72,
            "terms": [],
        },
    }


def test_model_totals_give_withheld_events_back_by_subtraction() -> None:
    summary = _malignancy("<5", 65)  # 65 - 35 - 28 = 2
    found = check_counts([("summary.json", summary, Declaration(), None)], POLICY)
    assert [f.path for f in found.findings] == ["comparisons.malignancy.groups.srp.events"]
    assert "(2)" in found.findings[0].reason
    assert check_counts([("summary.json", _malignancy("<5", WITHHELD), Declaration(), None)],
                        POLICY).ok  # fmt: skip


def test_a_group_term_beside_withheld_events_is_a_leak() -> None:
    found = check_models(_malignancy("<5", WITHHELD))
    assert [f.path for f in found.findings] == ["cause_specific_cox.terms[0].coef"]
    assert check_models(_malignancy(11, 74)).ok


# --------------------------------------------------------------------------- case 3


def test_a_denominator_under_exclude_gives_the_group_size_back() -> None:
    n = {"hmgcr": WITHHELD, "srp": "<5", "seronegative": 0, "overall": 13}
    cells = {
        "hmgcr": {"female": 6, "male": 5},
        "srp": {"female": "<5", "male": 0},
        "seronegative": {"female": 0, "male": 0},
        "overall": {"female": 8, "male": 5},
    }
    summary = _sex_row(cells, n, None)
    table = summary["table_one"]
    table["missing_values"] = "exclude"
    row = table["rows"][0]
    row["cells"]["hmgcr"]["denominator"] = 11
    row["cells"]["srp"]["denominator"] = WITHHELD
    found = {f.path for f in check_counts([("summary.json", summary, Declaration(), None)],
                                          POLICY).findings}  # fmt: skip
    assert {"table_one.n.hmgcr", "table_one.n.srp"} <= found


# --------------------------------------------------------------------------- case 4


def _figures(curve: Curve) -> FigureData:
    return FigureData((), (), (), (), (curve,), years=(0, 1, 2, 3, 4, 5), min_count=5)


SURVIVAL = {
    "survival": {
        "groups": {
            "srp": {"n": 11, "deaths": "<5", "survival_at_horizon": WITHHELD,
                    "ci_at_horizon": WITHHELD},
        }
    }
}  # fmt: skip


def test_a_curve_of_a_group_whose_deaths_are_withheld_is_a_leak() -> None:
    curve = Curve("srp", (1.0, 2.0, 3.0), (1.0, 0.889, 0.889), (11, 10, 9, 9, 6, 5))
    found = check_figures(_figures(curve), SURVIVAL)
    assert [(f.output, f.path) for f in found.findings] == [("figures/survival.svg", "curve srp")]


def test_a_curve_that_shows_a_withheld_estimate_or_goes_on_below_k_is_a_leak() -> None:
    shown = {"survival": {"horizon_years": 3.0, "groups": {
        "srp": {**SURVIVAL["survival"]["groups"]["srp"], "deaths": 6}}}}  # fmt: skip
    truth = {"survival": {"groups": {"srp": {"survival_at_horizon": 8 / 9}}}}
    curve = Curve("srp", (1.0, 3.0), (1.0, 8 / 9), (11, 10, 9, 9, 6, 5))
    found = check_figures(_figures(curve), shown, truth)
    assert [f.reason for f in found.findings] == [
        "shows the withheld survival.groups.srp.survival_at_horizon"
    ]
    # Flat at its start, the curve shows no death only; drawn short of the horizon, no value.
    flat = Curve("srp", (1.0, 3.0), (1.0, 1.0), (11, 10, 9, 9, 6, 5))
    assert check_figures(_figures(flat), shown, {"survival": {"groups": {"srp": {
        "survival_at_horizon": 1.0}}}}).ok  # fmt: skip
    short = Curve("srp", (1.0, 2.0), (1.0, 8 / 9), (11, 10, 9, 9, 6, 5))
    assert check_figures(_figures(short), shown, truth).ok
    late = Curve("srp", (1.0, 3.5), (1.0, 0.5), (11, 10, 9, "<5", 0, 0))
    reasons = [f.reason for f in check_figures(_figures(late), shown).findings]
    assert reasons == ["goes on at 3.5 years with fewer than 5 at risk from year 3"]
    stops = Curve("srp", (1.0, 2.5), (1.0, 0.5), (11, 10, 9, "<5", 0, 0))
    assert check_figures(_figures(stops), shown).ok


# --------------------------------------------------------------------------- the run


def test_a_leak_fails_closed_naming_the_output_and_path() -> None:
    summary = _malignancy("<5", 65)
    check = check_run(summary, Declaration(), POLICY)
    with pytest.raises(DisclosureLeakError, match=r"summary\.json: comparisons\.malignancy"):
        check.raise_if_leaks()
    # Control turned off: nothing is withheld, nothing to check.
    assert check_run(summary, Declaration(), Policy(0)).ok


def test_a_run_with_a_leak_exits_1_and_publishes_nothing(tmp_path, monkeypatch) -> None:
    """End to end: a withheld group size that the valid rows give back (injected into the
    published summary, so that the leak does not depend on the analyses) stops the run."""
    import io
    import re

    from imnm_cohort import synthesize, write_extract
    from imnm_cohort.cli import main
    from imnm_cohort.pipeline import stages

    disclose = stages.disclose

    def leaky(*args, **kwargs):
        disclosed = disclose(*args, **kwargs)
        disclosed.summary.data["groups"]["not_imnm"] = WITHHELD
        return disclosed

    monkeypatch.setattr(stages, "disclose", leaky)
    extract = write_extract(synthesize(300, seed=2), tmp_path / "extract.csv")
    root = tmp_path / "runs"
    err = io.StringIO()
    code = main(["-q", "run", "--input", str(extract), "--output-dir", str(root)],
                stdout=io.StringIO(), stderr=err)  # fmt: skip
    assert code == 1
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1
    assert re.search(r"disclosure self-check: (summary\.json|figures/\S+): \S+", lines[0])
    assert "nothing was published" in lines[0]
    assert not root.exists() or not [p.name for p in root.iterdir()]


def _sizes(**groups: object) -> tuple[dict[str, object], Declaration, None]:
    from imnm_cohort.disclosure.declarations import Count

    summary = {"counts": {"valid_rows": sum(v for v in groups.values() if isinstance(v, int))},
               "groups": dict(groups)}  # fmt: skip
    declaration = Declaration(
        counts=tuple(Count(("groups", g), f"group:{g}") for g in groups),
        margins=(Margin(tuple(("groups", g) for g in groups), ("counts", "valid_rows")),),
    )
    return summary, declaration, None


def test_differencing_gives_the_group_within_the_known_limit_only() -> None:
    from imnm_cohort.pipeline.selfcheck import added_patient_group

    # Every size shown in both runs: the group that grew is the patient's (the known limit).
    before = _sizes(hmgcr=30, srp=12, seronegative=20)
    after = _sizes(hmgcr=30, srp=13, seronegative=20)
    assert added_patient_group(before, after, POLICY) == "srp"
    # Two sizes withheld in both runs (the total shown): either of them may have grown.
    before = _sizes(hmgcr=30, srp="<5", seronegative=WITHHELD)
    after = _sizes(hmgcr=30, srp="<5", seronegative=WITHHELD)
    before[0]["counts"]["valid_rows"], after[0]["counts"]["valid_rows"] = 40, 41
    assert added_patient_group(before, after, POLICY) is None


def test_a_note_that_narrows_a_marker_is_a_leak() -> None:
    from imnm_cohort.pipeline.selfcheck import check_notes

    row = {"cells": {"srp": {"n": "<5"}}, "test": {"reason": "fewer than 2 values in: srp"}}
    found = check_notes({"table_one": {"rows": [row]}}, POLICY)
    assert [f.path for f in found.findings] == ["table_one.rows[0].test.reason"]
    row["test"]["reason"] = "too few values to show"
    assert check_notes({"table_one": {"rows": [row]}}, POLICY).ok
    assert check_notes({"fine_gray": {"reason": "fewer than 10 cancers"}}, POLICY).ok
    # A group shown with no values at all: the note narrows nothing.
    empty = {"cells": {"srp": {"n": 0}}, "test": {"reason": "fewer than 2 values in: srp"}}
    assert check_notes({"table_one": {"rows": [empty]}}, POLICY).ok


def test_unknowns_in_no_relation_or_only_bounded_are_not_pinned() -> None:
    system = System()
    a, b = system.variable("a", 0, INF, True), system.variable("b", 1, 4, True)
    system.variable("c", 0, INF, True)  # in no relation at all
    system.relate([(a, 1), (b, -1)], 0, equal=False)  # a <= b
    assert solve(system).pinned == ()


def test_margins_the_check_cannot_solve_fail_closed() -> None:
    # A total smaller than a shown cell: no assignment fits (the check cannot vouch).
    data, declaration = _table([["<5", 8, 10], [6, 2, 12]], (21, 20), (9, 10, 22), 4)
    check = check_run(data, declaration, POLICY)
    assert [f.reason for f in check.findings] == ["the self-check could not solve its margins"]


def test_parts_of_a_published_zero_are_not_reported() -> None:
    # The overall column shows 0 missing values: every group's is 0 for every reader.
    data = {"parts": {"a": WITHHELD, "b": "<5"}, "total": 0, "other": {"x": "<5", "y": 3}}
    declaration = Declaration(
        margins=(
            Margin((("parts", "a"),), ("total",)),
            Margin((("other", "x"), ("parts", "a")), ("other", "y")),
        )
    )
    found = check_counts([("t.json", data, declaration, None)], POLICY)
    # x = 3 - a = 3: still a leak; a = 0 is not.
    assert [f.path for f in found.findings] == ["other.x"]
