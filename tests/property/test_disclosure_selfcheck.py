"""Properties of the disclosure self-check on what the pipeline really publishes.

* For random small cohorts, a full run's aggregate outputs pass the self-check (the run
  publishes; nothing withheld comes back).
* Two runs whose inputs differ by one patient give that patient's group away only within
  the threshold policy's known limit (``docs/reports.md``, "Self-check"): when the group's
  size is shown in both runs, or when every other group's is.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from imnm_cohort import synthesize, write_extract
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.pipeline.run import run_pipeline
from imnm_cohort.pipeline.selfcheck import added_patient_group, check_counts

# Each example is a whole run: few examples, and no shrinking (a failing run is reported
# as found, with its size and seed).
SETTINGS = settings(
    max_examples=2,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    database=None,
    derandomize=True,  # fixed examples: the same runs in every CI run
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _config(extract: Path, root: Path):
    config = load_pipeline(None).with_overrides(extract, root)
    return dataclasses.replace(config, formats=("json",))


def _published(config):
    result = stages.validate(config, stages.read(config))
    _, classified = stages.classify(config, result)
    analysis = stages.analyse(config, classified)
    disclosed = stages.disclose(config, result, classified, analysis)
    truth = stages.build_summary(config, result, classified, analysis)
    return (disclosed.summary.data, disclosed.declaration, truth), disclosed.policy


@SETTINGS
@given(n=st.integers(15, 60), seed=st.integers(0, 2**16))
def test_a_run_of_a_small_cohort_passes_the_self_check(tmp_path_factory, n, seed) -> None:
    folder = tmp_path_factory.mktemp("selfcheck")
    extract = write_extract(synthesize(n, seed=seed), folder / "extract.csv")
    run_pipeline(_config(extract, folder / "runs"))  # raises DisclosureLeakError on a leak


def _known_sizes(run, policy) -> set[str]:
    """Groups whose size a reader of this one run knows: shown, or given back by the
    run's own margins (a leak of the run itself, which its self-check reports; not one of
    differencing)."""
    summary, declaration, truth = run
    pinned = check_counts([("summary.json", summary, declaration, truth)], policy).findings
    return {g for g, v in summary["groups"].items() if isinstance(v, int)} | {
        f.path.removeprefix("groups.") for f in pinned if f.path.startswith("groups.")
    }


@pytest.mark.slow
@SETTINGS
@given(n=st.integers(15, 60), seed=st.integers(0, 2**16), which=st.integers(0, 59))
@example(n=38, seed=15, which=28)  # anti-HMGCR's size withheld, and given back by each run
def test_one_added_patient_is_given_away_only_within_the_known_limit(
    tmp_path_factory, n, seed, which
) -> None:
    folder = tmp_path_factory.mktemp("differencing")
    cohort = synthesize(n, seed=seed)
    leave_out = which % n
    before = write_extract(cohort.drop(index=cohort.index[leave_out]), folder / "before.csv")
    after = write_extract(cohort, folder / "after.csv")
    (a, policy), (b, _) = (_published(_config(p, folder / "runs")) for p in (before, after))
    group = added_patient_group(a, b, policy)
    assert group in (None, *_grown(a, b))
    if group is None:
        return
    known = _known_sizes(a, policy) & _known_sizes(b, policy)
    others = [g for g in b[0]["groups"] if g != group]
    within_limit = group in known or all(g in known for g in others)
    assert within_limit, f"the added patient's group ({group}) is given away beyond the limit"


def _grown(a, b) -> list[str]:
    return [g for g in b[2]["groups"] if b[2]["groups"][g] != a[2]["groups"][g]]
