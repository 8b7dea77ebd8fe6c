"""`imnm-cohort criteria` lists the scored classifiers with their published points."""

from __future__ import annotations

from tests.pipeline.readers import run


def test_criteria_lists_the_eular_acr_points_and_cut_offs():
    code, out, _ = run("criteria")
    assert code == 0
    assert "eular_acr_2017 (2017): Lundberg IE" in out
    # Points without / with biopsy and the cut-offs as published: Bottai M, et al. RMD Open
    # 2017;3:e000507, Table 1, and Lundberg IE, et al. Ann Rheum Dis 2017;76:1955-64.
    for line in (
        "age at onset 18 to under 40 years: 1.3 / 1.5",
        "age at onset >= 40 years: 2.1 / 2.2",
        "(anti_jo1): 3.9 / 3.8",
        "(gottron_sign): 3.3 / 3.7",
        "(biopsy_rimmed_vacuoles): - / 3.1",
        "possible: score >= 5.3 / 6.5",
        "probable: score >= 5.5 / 6.7",
        "definite: score >= 7.5 / 8.7",
    ):
        assert line in out, line
    # The scored classifiers come before the decision procedure's rules.
    assert out.index("scored classifiers") < out.index("rules (the first that applies")
