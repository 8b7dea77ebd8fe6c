"""Benchmark: what each output format adds to a run, and the time to draw the figures.

Targets on the 2-core reference machine: the bundled demo with every format <= 15 s (see
``bench_run.py``); drawing and saving every figure of the demo (SVG, PDF, PNG) <= 0.5 s.

Each format is timed on the demo's already-analysed results (in one process, after a first
warm-up run so that imports are not counted), as the pipeline's ``write`` stage runs it.

Run: ``.venv/bin/python benchmarks/bench_outputs.py`` from ``benchmarks/``.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

from imnm_cohort.outputs.registry import FORMATS, write_outputs
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import load_pipeline
from imnm_cohort.pipeline.meta import report_meta
from imnm_cohort.report.figures import FILE_FORMATS, Figures


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    config = load_pipeline()
    extract = stages.read(config)
    result = stages.validate(config, extract)
    criteria, classified = stages.classify(config, result)
    analysis = stages.analyse(config, classified)
    disclosed = stages.disclose(config, result, classified, analysis)
    meta = report_meta(
        config=config,
        criteria=criteria,
        methods=analysis.methods(),
        run_name="bench",
        started=__import__("datetime").datetime.now(__import__("datetime").UTC),
        input_sha=extract.sha256,
        withheld_count=len(disclosed.summary.withheld),
    )

    def figures() -> None:
        drawn = Figures(disclosed.figures)
        for name in drawn.names:
            drawn.svg(name)
            for fmt in FILE_FORMATS:
                if fmt != "svg":
                    drawn.save(name, fmt)

    figures()  # warm-up: imports and font cache
    seconds = best_of(3, figures)
    print(f"figures: draw + SVG/PDF/PNG of all 5: {seconds:.3f} s (target <= 0.5 s)")
    every = dataclasses.replace(config, formats=tuple(FORMATS))
    outputs = stages.render(every, disclosed, None, meta, result, classified)
    with tempfile.TemporaryDirectory() as tmp:
        write_outputs(outputs, Path(tmp) / "warm", FORMATS)
        for name in FORMATS:
            folder = Path(tmp) / name
            one = dataclasses.replace(config, formats=(name,))
            outputs = stages.render(one, disclosed, None, meta, result, classified)
            seconds = best_of(3, lambda f=folder, n=name, o=outputs: write_outputs(o, f, (n,)))
            print(f"format {name:8s} write: {seconds:.3f} s")


if __name__ == "__main__":
    main()
