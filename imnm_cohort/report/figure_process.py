"""The report's figures drawn in a process of their own, beside the run.

Importing matplotlib and drawing the figures take about half a second whatever the size of
the cohort, and a run needs the figures only when it renders. So ``imnm-cohort run`` starts
this process first (:class:`FigureProcess`), before it even loads the pipeline: the process
imports matplotlib while the run imports the analyses and works, draws as soon as it is
handed the disclosure-controlled figure data
(:class:`~imnm_cohort.disclosure.figures.FigureData`, nothing else of the run), and hands
back each figure's files in the file formats the run's formats read
(:func:`~imnm_cohort.outputs.registry.figure_files`). The files are those the run's own
process would draw, byte for byte: the same matplotlib, the same style, a fixed SVG id salt
and no timestamps (``tests/pipeline/test_figure_process.py`` compares every file of the
two).

The process is a new interpreter (``python -P -c``) that imports this module and nothing of
the program that started it: unlike ``multiprocessing``'s ``spawn``, it never re-imports
the parent's main module (a user's script without an ``if __name__ == "__main__":`` guard
would run again), and it shares nothing with the run but the two pipes that carry the
pickled data and the pickled files. ``-P`` keeps the current folder off its module path;
the folder this package was imported from is put first, so that it draws with the same
code. Its standard error is discarded: whatever goes wrong there, the run meets again.

Nothing is lost when the process cannot help. Should it fail to start, die, or fail to
draw, the run draws the figures itself, and an error in the drawing is then met, and
reported, exactly as without the process. The run stops the process however it ends.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imnm_cohort.disclosure.figures import FigureData
    from imnm_cohort.report.figures import Figures, FigureSet

#: The folder this package was imported from (put first on the process's module path).
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
#: The process's program: import matplotlib at once, then serve one job.
_PROGRAM = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from imnm_cohort.report.figure_process import serve; "
    "serve(sys.stdin.buffer, sys.stdout.buffer)"
)

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


def serve(received: IO[bytes], replies: IO[bytes]) -> None:
    """The process's work: import matplotlib at once, then draw one job and reply.

    The job is a pickled ``(data, formats)`` on ``received``; the reply, a pickled
    :data:`Drawn` on ``replies``, is ``None`` when the drawing fails: the run then draws
    itself and meets the error where it would have without this process. Nothing to read
    (the run ended without asking) ends the process.
    """
    box: dict[str, Any] = {}

    def read() -> None:  # beside the import, so that the run never waits to hand it over
        with contextlib.suppress(EOFError, OSError, pickle.UnpicklingError):
            box["job"] = pickle.load(received)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    import imnm_cohort.report.figures  # noqa: F401 - the import is the head start

    reader.join()
    job = box.get("job")
    if job is None:
        return
    reply: Drawn | None
    try:
        reply = _draw(*job)
    except Exception:
        reply = None
    with contextlib.suppress(OSError, ValueError):  # the run is gone
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


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
        self._job: tuple[FigureData, tuple[str, ...]] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-P", "-c", _PROGRAM, _PACKAGE_ROOT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, ValueError):  # no process can be started here: the run draws
            self._process = None

    def submit(self, data: FigureData, formats: tuple[str, ...]) -> None:
        """Hand the process the figure data; it draws while the run goes on."""
        self._job = (data, formats)
        process = self._process
        if process is None or process.stdin is None:
            return
        try:
            pickle.dump(self._job, process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            process.stdin.close()
        except (OSError, ValueError, pickle.PicklingError):  # it died, or no pickle
            self.close()

    def result(self) -> FigureSet:
        """The figures: as the process drew them, or drawn here if it could not."""
        if self._job is None:
            raise RuntimeError("submit() the figure data first")
        drawn: Drawn | None = None
        process = self._process
        if process is not None and process.stdout is not None:
            try:
                drawn = pickle.load(process.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):  # it died: draw here
                drawn = None
        self.close()
        data, _ = self._job
        if drawn is None:
            from imnm_cohort.report.figures import Figures

            return Figures(data)
        return DrawnFigures(data, drawn)

    @property
    def running(self) -> bool:
        """Whether the process is there (started, and not yet stopped)."""
        return self._process is not None and self._process.poll() is None

    def close(self) -> None:
        """Stop the process (at once: it holds nothing the run needs)."""
        process, self._process = self._process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if process.poll() is None:
            process.kill()
        process.wait()


@contextmanager
def figure_process(start: bool) -> Iterator[FigureProcess | None]:
    """A :class:`FigureProcess` when ``start`` is true (else None), stopped on leaving."""
    process = FigureProcess() if start else None
    try:
        yield process
    finally:
        if process is not None:
            process.close()
