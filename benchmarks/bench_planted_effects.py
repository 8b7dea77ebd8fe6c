"""Benchmark: the course analyses recover the effects that ``synth --events`` plants.

For each of ``SEEDS`` seeds, a synthetic registry of ``N`` patients with event tables
(:func:`imnm_cohort.synth_events.synthesize_events`) is validated, derived, classified and
analysed (:func:`imnm_cohort.synth_events.recover_planted`); each planted value is checked
against the analysis's 95% interval. With valid intervals about 95 of 100 cover each value;
fewer than 90 happens by chance less than 1% of the time. Prints the coverage per effect
and group and exits with 1 when any is below 90%.

Run: ``.venv/bin/python benchmarks/bench_planted_effects.py [N] [SEEDS]`` (default 300
patients, 100 seeds).
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict

from imnm_cohort.synth_events import recover_planted, synthesize_events

#: The least share of seeds whose interval must cover each planted value.
REQUIRED = 0.90


def main(n: int, seeds: int) -> int:
    start = time.perf_counter()
    covered: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for seed in range(seeds):
        missed = []
        for found in recover_planted(synthesize_events(n, seed=seed)):
            covered[(found.effect, found.group)].append(found.covered)
            if not found.covered:
                missed.append(f"{found.effect} {found.group}")
        print(f"seed {seed}: missed {', '.join(missed) or 'none'}", flush=True)
    failed = 0
    print(f"{n} patients, seeds 0-{seeds - 1}: planted value inside the 95% interval")
    for (effect, group), hits in sorted(covered.items()):
        share = sum(hits) / len(hits)
        ok = share >= REQUIRED
        failed += not ok
        print(
            f"  {effect:24s} {group:13s} {sum(hits):4d} / {len(hits):3d}"
            f"  {100 * share:5.1f}%  {'ok' if ok else 'BELOW 90%'}"
        )
    print(f"{time.perf_counter() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    sys.exit(main(*(args + [300, 100][len(args) :])))
