"""The figures drawn in a process of their own (:mod:`imnm_cohort.report.figure_process`):
the same files, byte for byte, as the run's own process draws; and the run's own drawing
whenever the process cannot help (it cannot start, it died, its drawing failed)."""

from __future__ import annotations

import dataclasses
import io
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imnm_cohort.outputs.registry import FIGURE_FILES
from imnm_cohort.pipeline import stages
from imnm_cohort.pipeline.config import PipelineConfig, load_pipeline
from imnm_cohort.pipeline.run import run_pipeline
from imnm_cohort.report import figure_process
from imnm_cohort.report.figure_process import DrawnFigures, FigureProcess
from imnm_cohort.report.figures import Figures
from imnm_cohort.synth import synthesize, write_extract

FORMATS = ("html", "md", "json", "figures")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> PipelineConfig:
    folder = tmp_path_factory.mktemp("figure_process")
    extract = write_extract(synthesize(400, seed=3), folder / "extract.csv")
    base = load_pipeline(None).with_overrides(extract, folder / "runs")
    return dataclasses.replace(base, formats=FORMATS)


@pytest.fixture(scope="module")
def data(config: PipelineConfig) -> Any:
    result = stages.validate(config, stages.read(config))
    _, classified = stages.classify(config, result)
    analysis = stages.analyse(config, classified)
    return stages.disclose(config, result, classified, analysis).figures


def _same_files(drawn: Any, here: Figures) -> None:
    assert drawn.names == here.names
    for name in here.names:
        assert drawn.two_columns(name) == here.two_columns(name)
        assert drawn.svg(name) == here.svg(name)
        for fmt in FIGURE_FILES:
            assert drawn.save(name, fmt) == here.save(name, fmt), (name, fmt)


def test_the_process_draws_the_files_the_run_would_draw(data: Any) -> None:
    process = FigureProcess()
    process.submit(data, FIGURE_FILES)
    drawn = process.result()
    assert isinstance(drawn, DrawnFigures)  # drawn there, not here
    _same_files(drawn, Figures(data))


def test_a_file_format_not_drawn_there_is_drawn_here(data: Any) -> None:
    process = FigureProcess()
    process.submit(data, ("svg",))
    drawn = process.result()
    assert isinstance(drawn, DrawnFigures)
    here = Figures(data)
    name = here.names[0]
    assert drawn.save(name, "png") == here.save(name, "png")
    assert drawn.figure(name).get_size_inches().tolist() == (
        here.figure(name).get_size_inches().tolist()
    )


def test_a_process_that_died_leaves_the_drawing_to_the_run(data: Any) -> None:
    process = FigureProcess()
    assert process._process is not None and process.running
    process._process.kill()
    process._process.wait()
    process.submit(data, FIGURE_FILES)
    drawn = process.result()
    assert isinstance(drawn, Figures)
    _same_files(drawn, Figures(data))


def test_a_process_that_cannot_start_leaves_the_drawing_to_the_run(
    data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError(11, "Resource temporarily unavailable")  # fork: no more processes

    monkeypatch.setattr(figure_process.subprocess, "Popen", refuse)
    process = FigureProcess()
    assert process._process is None and not process.running
    process.submit(data, ("svg",))
    assert isinstance(process.result(), Figures)


def test_a_drawing_that_fails_there_is_redrawn_here() -> None:
    """The process replies None, and the run meets the error itself, as without it."""
    replies = io.BytesIO()
    figure_process.serve(io.BytesIO(pickle.dumps((None, ("svg",)))), replies)  # no data
    assert pickle.loads(replies.getvalue()) is None
    replies = io.BytesIO()
    figure_process.serve(io.BytesIO(b""), replies)  # the run ended without asking
    assert replies.getvalue() == b""


def test_the_process_never_imports_the_program_that_started_it(tmp_path: Path) -> None:
    """A script without a main guard that runs the command line in its own process is not
    run again by the figures' process (as multiprocessing's spawn would run it)."""
    marker = tmp_path / "ran"
    script = tmp_path / "script.py"
    script.write_text(
        "import pathlib, sys\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "marker.write_text(marker.read_text() + 'x' if marker.exists() else 'x')\n"
        "from imnm_cohort.report.figure_process import FigureProcess\n"
        "from imnm_cohort.synth import synthesize\n"
        "process = FigureProcess()\n"
        "assert process.running\n"
        "process.close()\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "x"


def test_result_before_submit_is_a_programming_error() -> None:
    process = FigureProcess()
    with pytest.raises(RuntimeError, match="submit"):
        process.result()
    process.close()
    process.close()  # closing twice is harmless


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_a_run_with_the_process_writes_what_a_run_without_it_writes(
    config: PipelineConfig, tmp_path: Path
) -> None:
    import datetime as dt

    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    used: list[type] = []

    class Watched(FigureProcess):
        def result(self) -> Any:
            figures = super().result()
            used.append(type(figures))
            return figures

    aside = run_pipeline(
        dataclasses.replace(config, output_root=tmp_path / "a"), now=now, drawer=Watched()
    )
    here = run_pipeline(dataclasses.replace(config, output_root=tmp_path / "b"), now=now)
    assert used == [DrawnFigures]
    assert aside.folder.name == here.folder.name
    assert _files(aside.folder) == _files(here.folder)


def test_a_run_without_figures_stops_the_process(config: PipelineConfig, tmp_path: Path) -> None:
    process = FigureProcess()
    child = process._process
    assert child is not None
    run_pipeline(
        dataclasses.replace(config, output_root=tmp_path, formats=("json",)), drawer=process
    )
    assert process._process is None and not process.running
    assert child.poll() is not None


def test_the_command_line_draws_aside_with_the_same_figures(
    config: PipelineConfig, tmp_path: Path
) -> None:
    """``imnm-cohort run`` as a user runs it (a process without matplotlib imported)."""
    pipeline = tmp_path / "pipeline.toml"
    pipeline.write_text(
        f'[input]\nextract = "{config.extract}"\n\n[output]\nroot = "{tmp_path / "cli"}"\n'
        'formats = ["html", "md", "figures"]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "imnm_cohort", "-q", "run", str(pipeline)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (cli,) = [p for p in (tmp_path / "cli").iterdir() if p.is_dir() and not p.is_symlink()]
    here = run_pipeline(dataclasses.replace(config, output_root=tmp_path / "here"))
    figures = {k: v for k, v in _files(cli).items() if k.startswith("figures")}
    # the five figures of a run without event tables, each in SVG, PDF and PNG
    five = {"onset_age", "ck_peak", "statin_latency", "cancer_incidence", "survival"}
    assert {Path(k).stem for k in figures} == five
    assert len(figures) == len(five) * len(FIGURE_FILES)
    assert figures == {k: v for k, v in _files(here.folder).items() if k.startswith("figures")}
