"""Benchmark: how long the command line takes to start, as whole processes.

Each command is a new Python process, as a user runs it, timed against
``python -c "import pandas"`` in the same run: the two alternate, after one warm-up call
each, and each figure is the median of 5 (wall time, and the processor time of the process: the
steadier figure on a loaded machine). Targets: ``--version``, ``--help`` and every
subcommand's ``--help`` <= 0.5x ``import pandas`` (the command line imports neither pandas
nor numpy to print them); ``validate`` of a 300-patient extract <= 2x.

Run: ``.venv/bin/python benchmarks/bench_startup.py [REPEATS] [--tree PATH]
[--as-installed]`` from ``benchmarks/`` (default 5 repeats). ``--tree`` runs another copy
of the package (a commit unpacked with ``git archive``); ``--as-installed`` runs every
process, the anchor too, without the packages a user's installation does not have
(:data:`_common.DEVELOPMENT_ONLY`).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import DATA, cli_command, python_command

from imnm_cohort import synthesize, write_extract

ANCHOR = ("python -c 'import pandas'", [sys.executable, "-c", "import pandas"])
SUBCOMMANDS = ("synth", "map", "draft-mapping", "validate", "classify", "run", "criteria")


def extract(n: int = 300) -> Path:
    """The validate benchmark's extract (made once under benchmarks/data/, git-ignored)."""
    path = DATA / f"startup_{n}.csv"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        write_extract(synthesize(n, seed=1), path)
    return path


def cases() -> list[tuple[str, list[str], float]]:
    """Each command as a label, its arguments after ``imnm-cohort`` and its target ratio."""
    out = [("--version", ["--version"], 0.5), ("--help", ["--help"], 0.5)]
    out += [(f"{name} --help", [name, "--help"], 0.5) for name in SUBCOMMANDS]
    out.append(("validate (300 patients)", ["validate", str(extract())], 2.0))
    return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seconds(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and processor seconds of one process; a failing command stops the benchmark."""
    start, cpu = time.perf_counter(), _children_cpu()
    run = subprocess.run
    run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start, _children_cpu() - cpu


def alternate(
    anchor_command: list[str], command: list[str], repeats: int, env: dict[str, str] | None
) -> tuple[tuple[float, float], ...]:
    """Medians (wall, processor) of the anchor and of ``command``, called alternately after
    a warm-up each."""
    anchor: list[tuple[float, float]] = []
    toolkit: list[tuple[float, float]] = []
    seconds(anchor_command)
    seconds(command, env)
    for _ in range(repeats):
        anchor.append(seconds(anchor_command))
        toolkit.append(seconds(command, env))
    return tuple(
        (statistics.median(t[0] for t in times), statistics.median(t[1] for t in times))
        for times in (anchor, toolkit)
    )


def main(
    repeats: int, tree: Path | None = None, as_installed: bool = False, only: str | None = None
) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)} if tree else None
    anchor_command = python_command("import pandas", as_installed)
    installed = " (as installed)" if as_installed else ""
    print(f"anchor: {ANCHOR[0]}{installed}; wall and processor (cpu) seconds, medians of {repeats}")
    print(
        f"{'imnm-cohort ...':26s} {'wall':>7s} {'anchor':>7s} {'ratio':>6s} "
        f"{'cpu':>7s} {'anchor':>7s} {'ratio':>6s} {'target':>6s}"
    )
    for label, args, target in cases():
        if only and only not in label:
            continue
        command = cli_command(args, as_installed)
        (anchor, anchor_cpu), (toolkit, toolkit_cpu) = alternate(
            anchor_command, command, repeats, env
        )
        ratio = toolkit / anchor
        verdict = "ok" if ratio <= target else "MISSED"
        print(
            f"{label:26s} {toolkit:6.2f}s {anchor:6.2f}s {ratio:5.2f}x "
            f"{toolkit_cpu:6.2f}s {anchor_cpu:6.2f}s {toolkit_cpu / anchor_cpu:5.2f}x "
            f"{target:5.1f}x  {verdict}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repeats", nargs="?", type=int, default=5)
    parser.add_argument("--tree", type=Path, help="another copy of the package to run")
    parser.add_argument("--as-installed", action="store_true", help="hide development-only")
    parser.add_argument("--only", help="run only the commands whose label contains this")
    args = parser.parse_args()
    main(args.repeats, args.tree, args.as_installed, args.only)
