"""Benchmark: the time each output format adds to a run, and the time to draw the figures.

Targets on the 2-core reference machine: the bundled demo with every format <= 15 s
(``bench_run.py``); drawing every figure of the demo once and saving it as SVG, PDF and PNG
<= 0.5 s.

* Figures: in one process, after a warm-up (imports and font cache not counted), best of 3.
* Per format, as a user runs it: ``imnm-cohort run`` in a new process on the demo with
  ``formats = ["json"]`` (the baseline) and with ``["json", FORMAT]``; the difference is what
  the format adds, imports of its libraries included. Best of 2 each, as wall time and as
  the child's CPU time (user + system), which a busy machine inflates less.

Run: ``.venv/bin/python benchmarks/bench_outputs.py`` from ``benchmarks/``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from imnm_cohort.outputs.registry import FORMATS
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import BUNDLED_DEMO, load_pipeline
from imnm_cohort.report.figures import FILE_FORMATS, Figures


def best_of(
    n: int, fn: Callable[[], object], clock: Callable[[], float] = time.perf_counter
) -> float:
    times = []
    for _ in range(n):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def figures_time() -> tuple[float, float]:
    """Wall and CPU seconds (best of 3) to draw every figure and save it in each format."""
    config = load_pipeline()
    extract = stages.read(config)
    result = stages.validate(config, extract)
    _, classified = stages.classify(config, result)
    analysis = stages.analyse(config, classified)
    data = stages.disclose(config, result, classified, analysis).figures

    def draw_and_save() -> None:
        figures = Figures(data)
        for name in figures.names:
            figures.svg(name)
            for fmt in FILE_FORMATS:
                if fmt != "svg":
                    figures.save(name, fmt)

    draw_and_save()
    cpu = best_of(3, draw_and_save, clock=time.process_time)
    return best_of(3, draw_and_save), cpu


def demo_run(formats: list[str], tmp: Path) -> tuple[float, float]:
    """Wall and CPU seconds (best of 2 each) of the demo run with these formats."""
    pipeline = tmp / f"{'-'.join(formats)}.toml"
    text = BUNDLED_DEMO.read_text().replace("reports/demo", str(tmp / "out"))
    # The demo's data files are named relative to the bundled pipeline: make them absolute.
    text = re.sub(r'= "([\w.-]+\.csv)"', lambda m: f'= "{BUNDLED_DEMO.parent / m[1]}"', text)
    lines = [
        f"formats = {json.dumps(formats)}" if line.startswith("formats =") else line
        for line in text.splitlines()
    ]
    pipeline.write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "imnm_cohort", "-q", "run", str(pipeline)]
    cpu = []

    def once() -> None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)

    wall = best_of(2, once)
    return wall, min(cpu)


def main() -> None:
    seconds, cpu = figures_time()
    print(
        f"figures: draw all 5 once, save SVG + PDF + PNG: {seconds:.3f} s wall "
        f"(target <= 0.5 s), {cpu:.3f} s CPU"
    )
    with tempfile.TemporaryDirectory() as tmp:
        base, base_cpu = demo_run(["json"], Path(tmp))
        print(f"demo run, formats = ['json'] (baseline): {base:.2f} s wall, {base_cpu:.2f} s CPU")
        for name in FORMATS:
            if name == "json":
                continue
            wall, cpu = demo_run(["json", name], Path(tmp))
            print(f"  + {name:8s} {wall - base:+.2f} s wall, {cpu - base_cpu:+.2f} s CPU")
        every, every_cpu = demo_run(list(FORMATS), Path(tmp))
        print(f"demo run, every format: {every:.2f} s wall (target <= 15 s), {every_cpu:.2f} s CPU")
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
