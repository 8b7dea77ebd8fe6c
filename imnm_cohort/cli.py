"""The command line: ``imnm-cohort`` and ``python -m imnm_cohort``.

This is the only module that prints and chooses exit codes. ``main(argv)`` returns the
exit code, so tests call it without a subprocess:

* 0 success; 1 input that cannot be used (nothing written); 2 usage or configuration error;
* 3 outputs written but rows were quarantined and ``--strict`` was given;
* 4 another run is writing to the same output folder (nothing written).

Every failure is one line on stderr. An unexpected error (a bug) is the last resort: one
line, exit code 1, and the traceback in a debug log inside the output folder.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from imnm_cohort import __version__
from imnm_cohort.errors import (
    ConfigError,
    ExtractError,
    ImnmCohortError,
    OutputError,
    RunLockedError,
)
from imnm_cohort.vocabulary import CRITERIA_NAMES, GROUP_COLUMN

# Parsing the arguments, --version and --help import nothing heavy (no pandas, no numpy):
# each command imports what it uses when it runs (tests/cli/test_startup.py).
if TYPE_CHECKING:
    from imnm_cohort.engines.batched import BatchedResult
    from imnm_cohort.report.figure_process import FigureProcess
    from imnm_cohort.sources.base import Source
    from imnm_cohort.validation.validate import ValidationResult

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_QUARANTINED, EXIT_LOCKED = 0, 1, 2, 3, 4
#: Each kind of error and its exit code; the first class that matches decides.
EXIT_CODES: tuple[tuple[type[ImnmCohortError], int], ...] = (
    (RunLockedError, EXIT_LOCKED),
    (ConfigError, EXIT_USAGE),
    (ExtractError, EXIT_INPUT),
    (OutputError, EXIT_INPUT),
    (ImnmCohortError, EXIT_INPUT),
)


def exit_code(error: ImnmCohortError) -> int:
    """The exit code for an error of the toolkit."""
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def strict_exit_code(strict: bool, quarantined_rows: int) -> int:
    """3 when rows were quarantined and ``--strict`` was given (outputs are written anyway)."""
    return EXIT_QUARANTINED if strict and quarantined_rows else EXIT_OK


#: The largest synthetic registry (about 3 GB of memory while it is made).
SYNTH_MAX = 10_000_000
#: The largest synthetic registry with event tables (about 3 GB of memory while it is made:
#: some 16 visits, 4.5 treatment courses and 2 antibody tests per patient).
SYNTH_EVENTS_MAX = 200_000


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise ConfigError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(prog="imnm-cohort", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--version", action="version", version=f"imnm-cohort {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("synth", help="write a synthetic registry extract")
    p.add_argument("--n", type=int, required=True, help="number of patients")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--dirty",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="share of rows given a rule-breaking defect (default 0)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        help="a .csv or .parquet file, a .duckdb database (table 'patients'), or a folder "
        "(no suffix) of Parquet files",
    )
    p.add_argument(
        "--layout",
        choices=("flat", "redcap", "omop"),
        default="flat",
        help="flat: a section-1 extract (default); redcap: a longitudinal REDCap-shaped "
        "export (.csv) with its data dictionary and mapping file beside it; omop: an OMOP "
        "CDM v5.4 database (.duckdb, or a folder of one Parquet file per table) with "
        "planted IMNM cases",
    )
    p.add_argument(
        "--events",
        action="store_true",
        help="also write the event tables (visits, treatments, antibody_tests, cancers) with "
        "planted effects: -o is then a folder, given patients, the four tables, planted.json "
        "and pipeline.toml (run it with 'run FOLDER/pipeline.toml')",
    )
    p.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="with --events: the tables' format (default csv)",
    )

    p = sub.add_parser("map", help="map a site's export into a section-1 extract")
    p.add_argument("export", type=_input_arg, help=f"the export: a file, or {_URL_HELP}")
    p.add_argument("--mapping", required=True, type=Path, help="the mapping file (.toml)")
    p.add_argument("-o", "--output", required=True, type=Path, help="a .csv or .parquet file")

    p = sub.add_parser("draft-mapping", help="draft a mapping file from a REDCap dictionary")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--redcap-dictionary", type=Path, help="the data dictionary (.csv or .xlsx)"
    )
    source.add_argument(
        "--from-data",
        type=Path,
        help="an SPSS (.sav) or Stata (.dta) file: draft from its variable and value labels",
    )
    p.add_argument("-o", "--output", required=True, type=Path, help="the mapping file to write")
    p.add_argument("--force", action="store_true", help="replace the output file if it exists")

    p = sub.add_parser("validate", help="validate an extract and quarantine bad rows")
    p.add_argument("extract", type=_input_arg, help=f"the extract: a file, or {_URL_HELP}")
    _mapping_option(p)
    p.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        help="write valid rows, quarantine and the validation report here",
    )
    p.add_argument("--strict", action="store_true", help="exit 3 when any row is quarantined")

    p = sub.add_parser("classify", help="validate and classify an extract")
    p.add_argument("extract", type=_input_arg, help=f"the extract: a file, or {_URL_HELP}")
    _mapping_option(p)
    p.add_argument(
        "--criteria",
        default=CRITERIA_NAMES[0],
        help=f"criteria set: {', '.join(CRITERIA_NAMES)} (default %(default)s)",
    )
    p.add_argument("-o", "--output", required=True, type=Path, help="a .csv or .parquet file")
    p.add_argument("--strict", action="store_true", help="exit 3 when any row is quarantined")
    p.add_argument(
        "--batch-rows",
        type=int,
        metavar="ROWS",
        help="validate and classify in batches of ROWS rows, in bounded memory "
        "(automatic, 500,000 rows, for a CSV or Parquet extract over 1 GB)",
    )

    p = sub.add_parser("run", help="run a pipeline (default: the bundled demo)")
    p.add_argument(
        "pipeline",
        nargs="?",
        type=Path,
        help="a pipeline file (.toml); default: the bundled demo pipeline",
    )
    p.add_argument(
        "--input",
        type=_input_arg,
        help=f"use this extract instead of the pipeline's: a file, or {_URL_HELP}",
    )
    _mapping_option(p)
    p.add_argument(
        "--output-dir",
        type=Path,
        help="write run folders here instead of the pipeline's output root",
    )
    p.add_argument("--strict", action="store_true", help="exit 3 when any row is quarantined")
    p.add_argument(
        "--batch-rows",
        type=int,
        metavar="ROWS",
        help="validate and classify the input in batches of ROWS rows (a CSV or Parquet "
        "extract; the outputs are the same)",
    )

    sub.add_parser("criteria", help="list the criteria sets and the reason codes")
    p = sub.add_parser("concepts", help="list the OMOP concept sets a run uses")
    p.add_argument("--concept-sets", type=Path, help="a site's own concept set file (.toml) to add")
    for command in sub.choices.values():
        _global_options(command)
    return parser


def _global_options(command: argparse.ArgumentParser) -> None:
    """The global options, accepted after the subcommand too (``validate x.csv -q``).

    Their default here is SUPPRESS, so that a subcommand that is not given one keeps the
    value given before the subcommand.
    """
    command.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    command.add_argument(
        "--version",
        action="version",
        version=f"imnm-cohort {__version__}",
        help=argparse.SUPPRESS,
    )


#: What an input URL looks like, for --help (docs/sources.md has every form).
_URL_HELP = (
    "a source's URL (duckdb:///registry.duckdb?table=patients, "
    "postgres://host/db?table=imnm.patients&password_env=VAR, omop+duckdb:///cdm.duckdb)"
)


def _input_arg(text: str) -> Path | str:
    """An input as the command line gives it: a file's path, or a source's URL (kept as
    text: a path would fold its slashes)."""
    from imnm_cohort.sources.url import is_url

    return text if is_url(text) else Path(text)


def _mapping_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mapping",
        type=Path,
        help="a mapping file (.toml) that turns a site's own export into an extract",
    )


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line and return its exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except ConfigError as exc:
        print(f"imnm-cohort: error: {exc}", file=err)
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except BrokenPipeError:  # --help piped into a command that stopped reading
        _silence(sys.stdout)
        return EXIT_OK
    say = _Printer(out, err, quiet=args.quiet)
    try:
        command = {
            "synth": _synth,
            "map": _map,
            "draft-mapping": _draft_mapping,
            "validate": _validate,
            "classify": _classify,
            "criteria": _criteria,
            "concepts": _concepts,
            "run": _run,
        }[args.command]
        return command(args, say)
    except ImnmCohortError as exc:
        say.error(f"imnm-cohort: error: {_one_line(exc)}")
        return exit_code(exc)
    except KeyboardInterrupt:
        say.error("imnm-cohort: interrupted")
        return 130
    except Exception as exc:  # the last resort: a bug, never a traceback on the screen
        log = _debug_log(_output_folder(args), exc)
        say.error(
            f"imnm-cohort: error: unexpected internal error ({type(exc).__name__}: "
            f"{_one_line(exc)[:200]}); details in {log}"
        )
        return EXIT_INPUT


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _output_folder(args: argparse.Namespace) -> Path | None:
    """Where the command writes: the debug log of an unexpected error goes there."""
    if getattr(args, "output_root", None) is not None:
        return Path(args.output_root)
    if getattr(args, "output_dir", None) is not None:
        return Path(args.output_dir)
    if getattr(args, "output", None) is not None:
        return Path(args.output).parent
    return None


def _debug_log(folder: Path | None, exc: BaseException) -> Path:
    """Write the traceback of an unexpected error to a log file and return its path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = f"imnm-cohort {__version__}, {sys.version.split()[0]}, argv {sys.argv!r}\n" + "".join(
        traceback.format_exception(exc)
    )
    for where in (folder, Path(tempfile.gettempdir())):
        if where is None:
            continue
        try:
            where.mkdir(parents=True, exist_ok=True)
            path = where / f"imnm-cohort-debug-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return Path(os.devnull)


def _silence(stream: TextIO) -> None:
    """Point a stream whose reader has gone (``| head``) at the null device, so that no
    later write or the interpreter's last flush fails again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


class _Printer:
    """Prints results on the standard output and progress on the standard error.

    When the reader of a stream has gone (``| head``, ``2>&1 | head``), printing to it stops
    quietly and the command finishes its work, as Unix tools do.
    """

    def __init__(self, out: TextIO, err: TextIO, *, quiet: bool) -> None:
        self.out, self.err, self.quiet = out, err, quiet
        self.start = time.perf_counter()
        self.closed: set[int] = set()

    def _print(self, stream: TextIO, text: str, *, end: str = "\n") -> None:
        if id(stream) in self.closed:
            return
        try:
            print(text, end=end, file=stream, flush=stream is self.err)
        except BrokenPipeError:
            self.closed.add(id(stream))
            _silence(stream)

    def result(self, text: str) -> None:
        if not self.quiet:
            self._print(self.out, text)

    def stage(self, name: str, since: float) -> None:
        self.stage_done(name, time.perf_counter() - since)

    def stage_done(self, name: str, seconds: float) -> None:
        if not self.quiet:
            clear = "\r\x1b[K" if _is_tty(self.err) else ""
            self._print(self.err, f"{clear}[{name}] {seconds:.2f} s")

    def progress(self, name: str, seconds: float | None) -> None:
        """Pipeline progress: a live line on a terminal, one line per stage always."""
        if self.quiet:
            return
        if seconds is None:
            if _is_tty(self.err):
                self._print(self.err, f"\r\x1b[K... {name}", end="")
            return
        self.stage_done(name, seconds)

    def analysis(self, done: int, total: int, name: str) -> None:
        """Progress within ``analyse``: a bar on a terminal, a plain line per analysis else."""
        if self.quiet or done == total:
            return
        if _is_tty(self.err):
            bar = "#" * done + "-" * (total - done)
            self._print(self.err, f"\r\x1b[K... analyse [{bar}] {done}/{total} {name}", end="")
        else:
            self._print(self.err, f"[analyse {done + 1}/{total}] {name}")

    def note(self, text: str) -> None:
        """A note on the standard error, shown even with ``--quiet``."""
        self._print(self.err, f"imnm-cohort: note: {text}")

    def error(self, text: str) -> None:
        """The error line on the standard error, shown even with ``--quiet``."""
        self._print(self.err, text)


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _synth(args: argparse.Namespace, say: _Printer) -> int:
    from imnm_cohort.io.tables import write_failure
    from imnm_cohort.synth import synthesize, write_extract

    if not 1 <= args.n <= SYNTH_MAX:
        raise ConfigError(f"--n must be between 1 and {SYNTH_MAX:,}")
    if not 0 <= args.seed <= 2**32 - 1:
        raise ConfigError("--seed must be between 0 and 4294967295")
    if not 0.0 <= args.dirty <= 1.0:
        raise ConfigError("--dirty must be between 0 and 1")
    if args.events:
        return _synth_events(args, say)
    database = args.output.suffix.lower() == ".duckdb" or not args.output.suffix
    if args.layout == "omop":
        return _synth_omop(args, say, database)
    if not database or args.layout == "redcap":
        _check_table_output(args.output)
    t = time.perf_counter()
    if args.layout == "redcap":
        from imnm_cohort.synth_redcap import write_redcap

        files = write_redcap(args.n, args.output, seed=args.seed)
        say.stage("synth", t)
        say.result(
            f"wrote a REDCap-shaped export of {args.n} synthetic patients (seed {args.seed}): "
            + ", ".join(str(f) for f in files)
        )
        return EXIT_OK
    frame = synthesize(args.n, seed=args.seed, dirty=args.dirty)
    try:
        write_extract(frame, args.output)
    except OSError as exc:
        raise write_failure(args.output.parent, exc) from None
    say.stage("synth", t)
    say.result(f"wrote {len(frame)} synthetic patients (seed {args.seed}) to {args.output}")
    return EXIT_OK


def _synth_events(args: argparse.Namespace, say: _Printer) -> int:
    """``synth --events``: a folder with the patient table, the event tables, the planted
    values and a pipeline file."""
    from imnm_cohort.io.tables import write_failure
    from imnm_cohort.synth_events import synthesize_events, write_registry

    if args.layout != "flat":
        raise ConfigError("--events writes the flat layout (a folder of tables)")
    if args.n > SYNTH_EVENTS_MAX:
        raise ConfigError(f"with --events, --n must be at most {SYNTH_EVENTS_MAX:,}")
    if args.output.suffix:
        raise ConfigError(f"{args.output}: with --events, -o is a folder (no suffix)")
    if args.output.exists() and not args.output.is_dir():
        raise ConfigError(f"{args.output}: is a file, not a folder")
    t = time.perf_counter()
    registry = synthesize_events(args.n, seed=args.seed, dirty=args.dirty)
    try:
        files = write_registry(registry, args.output, table_format=args.format)
    except OSError as exc:
        raise write_failure(args.output, exc) from None
    say.stage("synth", t)
    rows = ", ".join(f"{name} {len(f):,}" for name, f in registry.tables.items())
    say.result(
        f"wrote {args.n} synthetic patients (seed {args.seed}) and event rows ({rows}) to "
        f"{args.output}; run it with: imnm-cohort run {files[-1]}"
    )
    return EXIT_OK


def _synth_omop(args: argparse.Namespace, say: _Printer, database: bool) -> int:
    import duckdb

    from imnm_cohort.io.tables import write_failure
    from imnm_cohort.synth_omop import write_omop

    if not database or args.dirty:
        raise ConfigError(
            f"{args.output}: --layout omop writes a .duckdb file or a folder, without --dirty"
        )
    if args.output.exists() and not args.output.suffix and not args.output.is_dir():
        raise ConfigError(f"{args.output}: is a file, not a folder")
    t = time.perf_counter()
    try:
        write_omop(args.n, args.output, seed=args.seed)
    except OSError as exc:
        raise write_failure(args.output.parent, exc) from None
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OutputError(f"{args.output}: cannot write the database ({reason})") from None
    say.stage("synth", t)
    say.result(
        f"wrote a synthetic OMOP CDM v5.4 database of {args.n} persons (seed {args.seed}) "
        f"to {args.output}"
    )
    return EXIT_OK


def _check_table_output(output: Path) -> None:
    """A patient-level table is written as CSV or Parquet, chosen by the suffix."""
    from imnm_cohort.io.tables import TABLE_SUFFIXES

    if output.suffix.lower() not in TABLE_SUFFIXES:
        raise ConfigError(f"{output}: output must end in {' or '.join(TABLE_SUFFIXES)}")


def _input_source(extract: Path | str, mapping: Path | None = None) -> Source:
    """The input a command names (a file, or a source's URL), read through the mapping
    file when one is given."""
    from imnm_cohort.validation.load import InputSpec

    if isinstance(extract, Path):
        return InputSpec(extract, mapping).source()
    from imnm_cohort.mapping.source import MappedSource
    from imnm_cohort.sources.url import source_from_url

    source = source_from_url(extract)
    if mapping is None and getattr(source, "needs_mapping", False):
        raise ConfigError(f"{source.name} is an export: name its mapping file (--mapping FILE)")
    return source if mapping is None else MappedSource(source, mapping)


def _input_file(extract: Path | str) -> Path | None:
    """The local file an input names (a file, a DuckDB database, files in place), if any:
    an output must never replace it."""
    if isinstance(extract, Path):
        return extract
    from imnm_cohort.sources.url import parse_source_url

    return parse_source_url(extract).local_path(Path.cwd())


def _load(source: Source, say: _Printer) -> ValidationResult:
    from imnm_cohort.engines.base import engine_for

    t = time.perf_counter()
    result = engine_for().validate(source)
    say.stage("validate", t)
    return result


def _map(args: argparse.Namespace, say: _Printer) -> int:
    from imnm_cohort.io.tables import write_table
    from imnm_cohort.validation.load import map_export

    _check_table_output(args.output)
    quarantine = _quarantine_path(args.output)
    for source in (_input_file(args.export), args.mapping):
        _refuse_overwriting(source, args.output, quarantine)
    t = time.perf_counter()
    export = args.export if isinstance(args.export, Path) else _input_source(args.export)
    result = map_export(export, args.mapping)
    say.stage("map", t)
    with _both_or_neither(args.output):
        write_table(result.extract, args.output)
        write_table(result.quarantine, quarantine)
    say.result(
        f"{args.export}: {result.export_rows} export rows, {result.patients} patients: "
        f"{len(result.extract)} mapped, {len(result.quarantine)} quarantined"
    )
    for reason, count in result.reason_counts.items():
        say.result(f"  quarantine  {reason}  {count}")
    say.result(_absent_summary(result.absent_columns))
    say.result(f"extract written to {args.output}; quarantine to {quarantine}")
    return EXIT_OK


def _draft_mapping(args: argparse.Namespace, say: _Printer) -> int:
    from imnm_cohort.io.tables import write_failure, write_text
    from imnm_cohort.mapping.draft import draft_from_readstat, draft_from_redcap

    source = args.redcap_dictionary if args.redcap_dictionary is not None else args.from_data
    _refuse_overwriting(source, args.output)
    if args.output.exists() and not args.force:
        raise ConfigError(
            f"{args.output}: exists (an edited mapping?); give --force to replace it, or "
            "choose another output file"
        )
    if args.redcap_dictionary is not None:
        draft = draft_from_redcap(args.redcap_dictionary)
    else:
        draft = draft_from_readstat(args.from_data)
    try:
        write_text(draft.text, args.output)
    except OSError as exc:
        raise write_failure(args.output.parent, exc) from None
    total = len(draft.matched) + len(draft.unmatched)
    say.result(
        f"drafted {args.output}: {len(draft.matched)} of {total} contract columns matched; "
        "review it before use"
    )
    if draft.unmatched:
        say.result("  not matched (commented out): " + ", ".join(draft.unmatched))
    if draft.required:
        say.result(
            "  REQUIRED and not matched (name them before use): " + ", ".join(draft.required)
        )
    if draft.identifiers:
        say.result("  identifiers (never kept): " + ", ".join(draft.identifiers))
    return EXIT_OK


def _absent_summary(absent: Sequence[str]) -> str:
    from imnm_cohort.contracts.hints import absent_effects

    if not absent:
        return "every contract column is present"
    lines = [f"{len(absent)} contract column(s) absent, read as empty:"]
    lines += [f"  absent  {line}" for line in absent_effects(absent)]
    return "\n".join(lines)


def _validation_summary(result: ValidationResult | BatchedResult) -> str:
    from imnm_cohort.contracts.hints import expected

    read = (
        f"{result.input_rows} rows"
        if result.export_rows is None
        else f"{result.export_rows} export rows, {result.input_rows} patients"
    )
    lines = [
        f"{result.source}: {read}: {result.valid_rows} valid, {result.quarantined_rows} quarantined"
    ]
    if result.empty_rows:
        from imnm_cohort.sources.files import empty_rows_skipped

        lines.append(f"  note        {empty_rows_skipped(result.empty_rows)}")
    for row in result.reason_counts().itertuples(index=False):
        hint = expected(str(row.column), str(row.rule))
        lines.append(
            f"  quarantine  {row.column}:{row.rule}  {row.rows}"
            + (f"  (expected {hint})" if hint else "")
        )
    for row in result.warning_counts().itertuples(index=False):
        lines.append(f"  warning     {row.code}  {row.rows}")
    if result.absent_columns:
        lines.append(_absent_summary(result.absent_columns))
    return "\n".join(lines)


def _strict_code(args: argparse.Namespace, result: ValidationResult | BatchedResult) -> int:
    return strict_exit_code(args.strict, result.quarantined_rows)


def _validate(args: argparse.Namespace, say: _Printer) -> int:
    from imnm_cohort.validation.report import VALIDATION_FILES, write_validation

    if args.output_dir is not None:
        outputs = (args.output_dir / name for name in VALIDATION_FILES)
        _refuse_overwriting(_input_file(args.extract), *outputs)
    result = _load(_input_source(args.extract, args.mapping), say)
    say.result(_validation_summary(result))
    if args.output_dir is not None:
        write_validation(result, args.output_dir)
        say.result(f"validation outputs written to {args.output_dir}")
    return _strict_code(args, result)


def _refuse_overwriting(extract: Path | None, *outputs: Path) -> None:
    """An output must never replace the file it is made from (None: no local file)."""
    if extract is None:
        return
    for output in outputs:
        same = output.resolve() == extract.resolve()
        if not same and output.exists() and extract.exists():
            same = os.path.samefile(output, extract)
        if same:
            raise ConfigError(f"{output}: is the input file itself; choose another output file")


def _quarantine_path(output: Path) -> Path:
    return output.with_name(output.stem + ".quarantine.csv")


@contextlib.contextmanager
def _both_or_neither(output: Path) -> Iterator[None]:
    """A table and its quarantine are written both or neither: a failed write removes
    ``output`` and becomes one line naming the folder."""
    from imnm_cohort.io.tables import write_failure

    try:
        yield
    except OSError as exc:
        with contextlib.suppress(OSError):  # a parent that is a file, a read-only folder
            output.unlink(missing_ok=True)
        raise write_failure(output.parent, exc) from None


def _classify(args: argparse.Namespace, say: _Printer) -> int:
    from imnm_cohort.classify import get_criteria, reason_counts
    from imnm_cohort.io.tables import write_table

    criteria = get_criteria(args.criteria)
    _check_table_output(args.output)
    if args.output.is_dir():
        raise ConfigError(f"{args.output}: is a folder; give the output file's name")
    quarantine = _quarantine_path(args.output)
    _refuse_overwriting(_input_file(args.extract), args.output, quarantine)
    batch_rows = _batch_rows(args)
    source = _input_source(args.extract, args.mapping)
    if batch_rows is not None:
        from imnm_cohort.engines.batched import classify_in_batches

        t = time.perf_counter()
        with _both_or_neither(args.output):
            batched = classify_in_batches(source, args.output, criteria, batch_rows=batch_rows)
            if batched.quarantined_rows:
                write_table(batched.quarantine, quarantine)
        say.stage(f"validate + classify, {batched.batches} batches", t)
        result: ValidationResult | BatchedResult = batched
        groups, reasons = batched.group_counts, batched.classification_reasons
    else:
        from imnm_cohort.engines.base import engine_for

        result = _load(source, say)
        t = time.perf_counter()
        classified = engine_for().classify(result, criteria)
        say.stage("classify", t)
        with _both_or_neither(args.output):
            write_table(classified, args.output)
            if result.quarantined_rows:
                write_table(result.quarantine, quarantine)
        counts = classified[GROUP_COLUMN].value_counts(sort=False)
        groups = {str(g): int(n) for g, n in counts.items()}
        reasons = reason_counts(classified)
    say.result(_validation_summary(result))
    say.result(f"criteria {criteria.name}:")
    for group, count in groups.items():
        say.result(f"  group   {group}  {count}")
    for code, count in reasons.items():
        say.result(f"  reason  {code}  {count}")
    say.result(f"classified rows written to {args.output}")
    if result.quarantined_rows:
        say.result(f"quarantined rows written to {quarantine}")
    return _strict_code(args, result)


def _batch_rows(args: argparse.Namespace) -> int | None:
    """Rows per batch for ``classify``, or None to classify in memory."""
    from imnm_cohort.engines.batched import AUTOMATIC_BATCH_BYTES, DEFAULT_BATCH_ROWS
    from imnm_cohort.sources.files import BATCHED_SUFFIXES

    if args.batch_rows is not None:
        if args.batch_rows < 1:
            raise ConfigError("--batch-rows must be at least 1")
        if args.mapping is not None:
            raise ConfigError("--batch-rows reads an extract; map the export first (map)")
        return int(args.batch_rows)
    if args.mapping is not None or not isinstance(args.extract, Path):
        # A mapping combines each patient's rows (the whole export is needed); a database
        # is read in batches only when asked to.
        return None
    suffix = args.extract.suffix.lower()
    large = args.extract.is_file() and args.extract.stat().st_size > AUTOMATIC_BATCH_BYTES
    return DEFAULT_BATCH_ROWS if large and suffix in BATCHED_SUFFIXES else None


def _run(args: argparse.Namespace, say: _Printer) -> int:
    from imnm_cohort.report.figure_process import figure_process

    # The figures' process starts first, so that its import of matplotlib runs beside the
    # pipeline's imports and work; the run stops it if its formats use no figures. A
    # process that has matplotlib already (a test session calling main()) gains nothing.
    with figure_process("matplotlib" not in sys.modules) as drawer:
        return _run_pipeline(args, say, drawer)


def _run_pipeline(args: argparse.Namespace, say: _Printer, drawer: FigureProcess | None) -> int:
    from imnm_cohort.pipeline.config import load_pipeline
    from imnm_cohort.pipeline.run import run_pipeline

    config = load_pipeline(
        args.pipeline, extract=args.input, output_root=args.output_dir, mapping=args.mapping
    )
    args.output_root = config.output_root  # where a debug log would go
    engine = None
    if args.batch_rows is not None:
        from imnm_cohort.engines.base import engine_for

        if args.batch_rows < 1:
            raise ConfigError("--batch-rows must be at least 1")
        if config.mapping is not None:
            raise ConfigError("--batch-rows reads an extract; map the export first (map)")
        engine = engine_for(args.batch_rows)
    result = run_pipeline(
        config,
        strict=args.strict,
        progress=say.progress,
        analysis_progress=say.analysis,
        engine=engine,
        drawer=drawer,
    )
    for note in result.notes:
        say.note(note)
    for note in config.notes:  # what the run did not take from the pipeline, and why
        say.result(f"note: {note}")
    unit = "patients" if config.mapping is not None else "rows"
    say.result(f"{config.input_label}: {result.quarantined_rows} {unit} quarantined")
    for label, held in result.table_quarantined:  # event tables: always rows
        say.result(f"{label}: {held} rows quarantined")
    if result.absent_columns:
        say.result(_absent_summary(result.absent_columns))
    say.result(f"run folder: {result.folder}")
    if (result.folder / "report.html").exists():
        say.result(f"report: {result.folder / 'report.html'}")
    held = result.quarantined_rows + sum(n for _, n in result.table_quarantined)
    return strict_exit_code(args.strict, held)


def _criteria(args: argparse.Namespace, say: _Printer) -> int:
    from imnm_cohort.classify import (
        RULES,
        available_criteria,
        get_criteria,
        scored_classifiers,
    )

    for name in available_criteria():
        c = get_criteria(name)
        say.result(
            f"{c.name}: {c.title}\n  CK_HIGH: {c.ck_high_text}\n"
            f"  necrotizing biopsy: {c.biopsy_text}\n  source: {c.citation}"
            + (f"\n  WEAK: {c.weak_text}" if c.weak_text else "")
            + (f"\n  note: {c.note}" if c.note else "")
        )
    say.result("scored classifiers (columns beside the IMNM group, which they never change):")
    for scored in scored_classifiers():
        say.result(f"  {scored.name} ({scored.version}): {scored.citation}")
        describe = getattr(scored, "describe", None)  # optional: the points, for people
        for line in describe() if callable(describe) else ():
            say.result(f"    {line}")
    say.result("rules (the first that applies decides):")
    for rule in RULES:
        say.result(f"  {rule.number:>2}. {rule.statement}\n      source: {rule.source}")
    say.result("reason codes:")
    from imnm_cohort.contracts.rule_codes import RuleCode

    for code in RuleCode:
        say.result(f"  {code.value:32s} rule {code.rule:>2}  -> {code.group:14s} {code.words}")
    return EXIT_OK


def _concepts(args: argparse.Namespace, say: _Printer) -> int:
    from imnm_cohort.sources.omop_concepts import describe_sets, load_concept_sets

    for line in describe_sets(load_concept_sets(args.concept_sets)):
        say.result(line)
    return EXIT_OK


def entry_point() -> None:
    """Console-script entry point."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # output piped into a command that stopped reading (| head)
        _silence(sys.stdout)
    sys.exit(code)
