"""The classification reason codes have one home, RuleCode, and every rule's outcome is in it."""

import dataclasses
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imnm_cohort import REASON_CODES, RuleCode, available_criteria, get_criteria
from imnm_cohort.classify.columns import FrameColumns
from imnm_cohort.classify.criteria import BIOPSY_OUTCOMES
from imnm_cohort.classify.rules import RULES, Facts
from imnm_cohort.report.labels import reason_words
from imnm_cohort.vocabulary import GROUPS

ROOT = Path(__file__).resolve().parents[2]
#: Codes whose text the contract gives (section 6), without the rule's ``r<n>_`` prefix.
CONTRACT_NAMED = {RuleCode.ANTIBODY_EQUIVOCAL}


def _facts(value: bool, biopsy: str) -> Facts:
    """One patient for whom every fact is ``value`` and rule 11 gives ``biopsy``."""
    fields = {f.name: np.array([value]) for f in dataclasses.fields(Facts)}
    return Facts(**{**fields, "biopsy": np.array([biopsy], dtype=object)})


def _codes_of(rule) -> set:
    """Every code a rule can give: its outcomes under all-true and all-false facts."""
    return {
        code
        for value, biopsy in itertools.product((True, False), BIOPSY_OUTCOMES)
        for code, _ in rule.outcomes(_facts(value, biopsy))
    }


def test_every_code_has_words_a_rule_and_a_group():
    for code in RuleCode:
        assert code.words.strip() and code.words == code.words.strip(), code
        assert 1 <= code.rule <= len(RULES), code
        assert code.group in GROUPS, code
        # Contract section 6 names the equivocal antibody's code itself.
        assert code.value.startswith(f"r{code.rule}_") or code in CONTRACT_NAMED, code


def test_every_rule_that_can_fire_gives_only_its_own_codes_and_every_code_is_given():
    given = set()
    for rule in RULES:
        codes = _codes_of(rule)
        assert codes, f"rule {rule.number} gives no code"
        assert all(isinstance(c, RuleCode) and c.rule == rule.number for c in codes), codes
        given |= codes
    assert given == set(RuleCode)


@pytest.mark.parametrize("name", available_criteria())
def test_each_criteria_set_s_biopsy_outcome_is_a_rule_11_code(name):
    levels = {"biopsy_necrosis": [None, "predominant", "present", "absent"],
              "biopsy_inflammation": [None, "minimal", "prominent"]}  # fmt: skip
    frame = pd.DataFrame(list(itertools.product(*levels.values())), columns=list(levels))
    outcomes = set(get_criteria(name).biopsy_outcome(FrameColumns(frame)))
    assert outcomes <= set(BIOPSY_OUTCOMES) == {c for c in RuleCode if c.rule == 11}


def test_reason_codes_and_report_words_come_from_the_enum():
    assert {c.value: (c.rule, c.group, c.words) for c in RuleCode} == REASON_CODES
    # As the reports worded it before the codes moved (the column title replaces ck_peak).
    assert reason_words("r6_ck_missing") == "anti-HMGCR positive, peak CK (U/L) is empty"
    assert reason_words("not_a_code") == "not_a_code"
    assert RuleCode.get("not_a_code") is None
    with pytest.raises(ValueError, match="not a classification reason code"):
        RuleCode.of("not_a_code")


def test_the_criteria_doc_gives_each_code_its_rule_group_and_words():
    row = re.compile(r"^\| `(\w+)` \| (\d+) \| ([^|]+) \| ([^|]+) \|$")
    rows = [row.match(line) for line in (ROOT / "docs" / "criteria.md").read_text().splitlines()]
    documented = {m[1]: m for m in rows if m}
    for code in RuleCode:
        if code.value in documented:  # the doc folds rule 7's four like codes into one row
            m = documented[code.value]
            assert int(m[2]) == code.rule, code
            assert m[3].strip().startswith(code.group), code
            assert m[4].strip().startswith(code.words), code
    assert len(documented) >= len(RuleCode) - 4
