"""The report's figures drawn in a process of their own, beside the run.

Importing matplotlib and drawing the figures take about half a second whatever the size of
the cohort, and a run needs the figures only when it renders. So a run whose formats use
figures starts this process first (:class:`FigureProcess`): the process imports matplotlib
while the run reads, validates, classifies and analyses, draws as soon as it is handed the
disclosure-controlled figure data (:class:`~imnm_cohort.disclosure.figures.FigureData`,
nothing else of the run), and hands back each figure's files in the file formats the run's
formats read (:func:`~imnm_cohort.outputs.registry.figure_files`). The files are those the
run's own process would draw, byte for byte: the same matplotlib, the same style, a fixed
SVG id salt and no timestamps (``tests/pipeline/test_figure_process.py`` compares every
file of the two).

The command line starts the process (``imnm-cohort run``), before it even loads the
pipeline; :func:`~imnm_cohort.pipeline.run.run_pipeline` called from Python draws in its
own process unless handed one, so that a script or a task of a scheduler is never
re-imported by a process it did not ask for (``spawn`` imports the main module).

Nothing is lost when the process cannot help. Should it fail to start, die, or fail to
draw, the run draws the figures itself, and an error in the drawing is then met, and
reported, exactly as without the process. The process ignores Ctrl-C (the run stops it) and
is a daemon, so it never outlives the run.

The process is started with the ``spawn`` method: it shares nothing with the run but what
the pipe carries, and the run's threads (the snapshot writer, a database driver's) cannot
leave it in a broken state as ``fork`` could.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from imnm_cohort.disclosure.figures import FigureData
    from imnm_cohort.report.figures import Figures, FigureSet

#: The files of each figure by name and file format, and whether each is two columns wide.
Drawn = tuple[dict[str, dict[str, bytes]], dict[str, bool]]


def svg_text(svg: bytes) -> str:
    """A saved SVG file's text from its ``<svg`` element on, for inlining in HTML."""
    text = svg.decode("utf-8")
    return text[text.index("<svg") :]


def _draw(data: FigureData, formats: tuple[str, ...]) -> Drawn:
    """Draw every figure and save it in each of ``formats`` (in this process)."""
    from imnm_cohort.report.figures import Figures

    figures = Figures(data)
    files = {name: {fmt: figures.save(name, fmt) for fmt in formats} for name in figures.names}
    return files, {name: figures.two_columns(name) for name in figures.names}


def _serve(conn: Connection) -> None:
    """The process's work: import matplotlib at once, then draw one job and reply.

    The reply is ``None`` when the drawing fails: the run then draws itself and meets the
    error where it would have without this process.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle
    try:
        import imnm_cohort.report.figures  # noqa: F401 - the import is the head start

        job = conn.recv()
    except (EOFError, OSError):  # the run ended without asking
        return
    if job is None:
        return
    reply: Drawn | None
    try:
        reply = _draw(*job)
    except Exception:
        reply = None
    try:
        conn.send(reply)
    except (OSError, ValueError):  # the run is gone, or the reply does not pickle
        return


class DrawnFigures:
    """The figures' files as the figure process drew them (a
    :class:`~imnm_cohort.report.figures.FigureSet`).

    A file format that was not drawn there (a writer registered later that reads PNG, say)
    and :meth:`figure` are drawn here when first asked, from the same data.
    """

    def __init__(self, data: FigureData, drawn: Drawn) -> None:
        self._data = data
        self._files, self._wide = drawn
        self._here: Figures | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The figures' file stems, in report order."""
        return tuple(self._files)

    def two_columns(self, name: str) -> bool:
        """Whether a figure is two journal columns wide (else one)."""
        return self._wide[name]

    def save(self, name: str, fmt: str) -> bytes:
        """One figure in a file format (``svg``, ``pdf`` or ``png`` at 300 dpi)."""
        saved = self._files[name].get(fmt)
        return saved if saved is not None else self.figures.save(name, fmt)

    def svg(self, name: str) -> str:
        """A figure's SVG text without the XML prolog (to be inlined in HTML)."""
        return svg_text(self.save(name, "svg"))

    @property
    def figures(self) -> Figures:
        """The figures drawn in this process (on first use)."""
        if self._here is None:
            from imnm_cohort.report.figures import Figures

            self._here = Figures(self._data)
        return self._here

    def figure(self, name: str) -> Any:
        """The matplotlib figure itself, drawn in this process."""
        return self.figures.figure(name)


class FigureProcess:
    """A process that imports matplotlib now and draws the figures when handed their data.

    Use :func:`figure_process`, which stops it however the run ends.
    """

    def __init__(self) -> None:
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None
        self._job: tuple[FigureData, tuple[str, ...]] | None = None
        context = multiprocessing.get_context("spawn")
        conn, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child,), name="imnm-cohort figures", daemon=True
        )
        try:
            process.start()
        except Exception:  # none can be started here (a daemonic process, a limit on
            # processes, a frozen interpreter): the run draws the figures itself
            conn.close()
            return
        finally:
            child.close()
        self._conn, self._process = conn, process

    def submit(self, data: FigureData, formats: tuple[str, ...]) -> None:
        """Hand the process the figure data; it draws while the run goes on."""
        self._job = (data, formats)
        if self._conn is None:
            return
        try:
            self._conn.send(self._job)
        except (OSError, ValueError):  # the process died, or the data does not pickle
            self.close()

    def result(self) -> FigureSet:
        """The figures: as the process drew them, or drawn here if it could not."""
        if self._job is None:
            raise RuntimeError("submit() the figure data first")
        drawn = None
        if self._conn is not None:
            try:
                drawn = self._conn.recv()
            except (EOFError, OSError):  # the process died: draw here
                drawn = None
        self.close()
        data, _ = self._job
        if drawn is None:
            from imnm_cohort.report.figures import Figures

            return Figures(data)
        return DrawnFigures(data, drawn)

    def close(self) -> None:
        """Stop the process (at once: it holds nothing the run needs)."""
        conn, process, self._conn, self._process = self._conn, self._process, None, None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)


@contextmanager
def figure_process(start: bool) -> Iterator[FigureProcess | None]:
    """A :class:`FigureProcess` when ``start`` is true (else None), stopped on leaving."""
    process = FigureProcess() if start else None
    try:
        yield process
    finally:
        if process is not None:
            process.close()
