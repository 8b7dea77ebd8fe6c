"""Benchmark: ``imnm-cohort run`` as whole processes, against ``python -c "import pandas"``.

Targets (2-core reference machine): a run of 10,000 synthetic patients with the default
formats <= 4x the time of importing pandas; 100,000 patients <= 10x; 1,000,000 patients
<= 30 s and <= 3 GB peak resident memory.

Each round runs the anchor (``python -c "import pandas"``) and the run (and, with
``--before``, the same run with another copy of the package, e.g. an earlier commit
unpacked with ``git archive``) one after another, so that the machine's load weighs on
all alike; the medians are printed. For each child: wall time, CPU time (user + system,
from ``resource.getrusage(RUSAGE_CHILDREN)`` before and after) and peak resident memory
(the child's own ``ru_maxrss``, from ``os.wait4``). On a shared machine the CPU time is the
steadier figure. Each run writes into a fresh output folder (a first run: no comparison
with an earlier one).

Run from ``benchmarks/``::

    ../.venv/bin/python bench_run_scale.py                      # 10k, 100k, 1M
    ../.venv/bin/python bench_run_scale.py 10000 --repeats 5
    ../.venv/bin/python bench_run_scale.py 1000000 --repeats 3 --before /tmp/old
    ../.venv/bin/python bench_run_scale.py 10000 --tree /tmp/new --as-installed

``--tree`` runs another copy of the package as "this tree" (a commit unpacked with ``git
archive``, so that editing the checkout cannot change a benchmark under way);
``--as-installed`` runs every child, the anchor too, without the packages this development
environment has and a user's installation does not (:data:`_common.DEVELOPMENT_ONLY`), and
byte-compiles each copy of the package first, as ``pip install`` does (an editable install
under ``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile every module of the toolkit in
every run: about 0.2 s at 10,000 patients on the reference machine).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import DATA, cli_command, python_command

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {10_000: "<= 4x", 100_000: "<= 10x", 1_000_000: "<= 30 s, <= 3 GB"}


@dataclass(frozen=True)
class Child:
    """One child process: wall and CPU seconds, peak resident memory in GB."""

    wall: float
    cpu: float
    peak_gb: float


def run_child(command: Sequence[str], pythonpath: Path | None = None) -> Child:
    """Run ``command`` to completion (its output discarded) and measure it."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    with tempfile.TemporaryFile("w+") as errors:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} exited with {proc.returncode}: {errors.read()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Child(wall, cpu, usage.ru_maxrss / 1024**2)  # Linux: KiB


def extract(n: int, seed: int = 1) -> Path:
    """The synthetic extract of ``n`` patients (made once, kept under benchmarks/data/)."""
    path = DATA / f"run_scale_{n}_{seed}.parquet"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        command = [sys.executable, "-m", "imnm_cohort", "-q", "synth", "--n", str(n)]
        subprocess.run([*command, "--seed", str(seed), "-o", str(path)], check=True)
    return path


def pipeline(folder: Path, data: Path) -> Path:
    """A pipeline file naming only the input: every other setting (formats too) default."""
    path = folder / "pipeline.toml"
    path.write_text(f'[input]\nextract = "{data}"\n\n[output]\nroot = "{folder / "out"}"\n')
    return path


def summarise(label: str, runs: list[Child], anchor: float | None) -> None:
    wall = statistics.median(r.wall for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    peak = max(r.peak_gb for r in runs)
    ratio = f"{wall / anchor:6.2f}x" if anchor else " " * 7
    print(f"  {label:34s} wall {wall:7.2f} s {ratio}  cpu {cpu:7.2f} s  peak {peak:5.2f} GB")


def bench(
    n: int, repeats: int, before: Path | None, tree: Path = ROOT, as_installed: bool = False
) -> None:
    """Alternate the anchor and the run(s) ``repeats`` times after one warm-up round."""
    data = extract(n)
    if as_installed:
        for code in (tree, before):
            if code is not None:
                compileall.compile_dir(code / "imnm_cohort", quiet=1)
    anchor_cmd = python_command("import pandas", as_installed)
    codes = {"run (this tree)": tree, **({"run (--before)": before} if before else {})}
    runs: dict[str, list[Child]] = {"import pandas": [], **{k: [] for k in codes}}
    for i in range(repeats + 1):
        anchor = run_child(anchor_cmd)
        done = {}
        for label, code in codes.items():
            with tempfile.TemporaryDirectory() as tmp:
                command = cli_command(["-q", "run", str(pipeline(Path(tmp), data))], as_installed)
                done[label] = run_child(command, code)
        if i:  # the first round warms the file cache and is not counted
            runs["import pandas"].append(anchor)
            for label in codes:
                runs[label].append(done[label])
    installed = ", as installed" if as_installed else ""
    print(f"{n:,} patients, median of {repeats}{installed} (target {TARGETS.get(n, 'none')}):")
    anchor_wall = statistics.median(r.wall for r in runs["import pandas"])
    anchor_cpu = statistics.median(r.cpu for r in runs["import pandas"])
    summarise("python -c 'import pandas'", runs["import pandas"], None)
    for label in codes:
        summarise(f"imnm-cohort {label}", runs[label], anchor_wall)
        cpu = statistics.median(r.cpu for r in runs[label])
        print(f"  {'':34s} cpu ratio {cpu / anchor_cpu:6.2f}x")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--repeats", type=int, help="rounds counted (default 5; 3 from 1,000,000 patients)"
    )
    parser.add_argument("--before", type=Path, help="another copy of the package to compare")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the copy to run as this tree")
    parser.add_argument(
        "--as-installed", action="store_true", help="hide the development-only packages"
    )
    args = parser.parse_args(argv)
    for n in args.sizes:
        repeats = args.repeats or (3 if n >= 1_000_000 else 5)
        bench(n, repeats, args.before, args.tree, args.as_installed)


if __name__ == "__main__":
    main()
