"""The golden-output scenarios: run each through the command line, in process, and reduce
everything it printed and wrote to a record that changes only when the behaviour does.

A record is a plain dictionary (stored as JSON under ``tests/golden/data/``)::

    {"scenario": name,
     "commands": [{"argv": [...], "exit": 0, "stdout": "...", "stderr": "..."}, ...],
     "files": {relative path: {"sha256": ..., "text": ... (small text only)}, ...},
     "excluded": {relative path: reason, ...}}

What legitimately changes between two runs is normalised before hashing (see
:func:`normalise_text` and :func:`file_entries`): the run folder's time stamp, the
manifest's start time, stage durations, absolute temporary and checkout paths, the
toolkit's version and the versions of Python and of the dependencies. Binary outputs are
reduced to what they show: the XML parts of a ``.docx`` or ``.xlsx`` except
``docProps/*``, a PNG's decoded pixels, a PDF's page count and page content streams, a
Parquet file's schema (without its writer metadata) and rows.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imnm_cohort import __version__
from imnm_cohort.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
CORPUS = ROOT / "tests" / "corpus" / "files"
CORPUS_EXPECTED = json.loads((ROOT / "tests" / "corpus" / "expected.json").read_text())

#: Text outputs smaller than this keep their normalised text in the record (for a diff).
TEXT_LIMIT = 20_000

#: Formats of the corpus runs: the text formats only, to keep the runs fast.
CORPUS_FORMATS = ("json", "csv", "md")

TEXT_SUFFIXES = {".csv", ".json", ".md", ".html", ".svg", ".toml", ".txt", ".log", ".xml"}

Record = dict[str, Any]


# --- normalisation -------------------------------------------------------------------


def _patterns(tmp: Path) -> list[tuple[re.Pattern[str], str]]:
    """What varies between runs of the same behaviour, most specific first."""
    paths = {str(tmp), str(tmp.resolve())}
    literal = sorted(paths | {p.replace("_", "\\_") for p in paths}, key=len, reverse=True)
    return [
        *((re.compile(re.escape(p)), "<TMP>") for p in literal),
        (re.compile(re.escape(str(ROOT))), "<ROOT>"),
        # a run folder's name starts with the UTC time it started; its hash part stays
        (re.compile(r"\b\d{8}T\d{6}Z(?=-[0-9a-f]{8})"), "<RUN-TIME>"),
        # the time a report was generated (in a report's text or a workbook's cell)
        (re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\b"), "<TIME> UTC"),
        (re.compile(r"(?m)^\[([^\]\n]+)\] \d+\.\d+ s$"), r"[\1] <DURATION> s"),
        (re.compile(r"imnm-cohort " + re.escape(__version__) + r"\b"), "imnm-cohort <VERSION>"),
        # the workbook's 'imnm-cohort' row holds the bare version in a cell of its own
        (re.compile(r"(?<=<t>)" + re.escape(__version__) + r"(?=</t>)"), "<VERSION>"),
    ]


def normalise_text(text: str, tmp: Path) -> str:
    """Text with the temporary folder, run times, durations and version replaced."""
    for pattern, replacement in _patterns(tmp):
        text = pattern.sub(replacement, text)
    return text


def _normalise_manifest(text: str) -> str:
    """A run manifest without its start time, durations, versions and output hashes.

    The output hashes are of raw bytes (a report holds its run time); every output is
    compared on its own, normalised, so the manifest keeps only their names.
    """
    manifest = json.loads(text)
    manifest["run"]["started_utc"] = "<TIMESTAMP>"
    manifest["toolkit"]["version"] = "<VERSION>"
    manifest["python"] = "<VERSION>"
    manifest["dependencies"] = {k: "<VERSION>" for k in manifest["dependencies"]}
    manifest["outputs"] = {k: "<SHA256>" for k in manifest["outputs"]}
    manifest["timings_seconds"] = {k: "<DURATION>" for k in manifest["timings_seconds"]}
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def _entry(text: str) -> dict[str, str]:
    entry = {"sha256": hashlib.sha256(text.encode()).hexdigest()}
    if len(text) < TEXT_LIMIT:
        entry["text"] = text
    return entry


def _binary_entry(digest: str, description: str) -> dict[str, str]:
    return {"sha256": digest, "text": description}


def _zip_entries(path: Path, tmp: Path) -> dict[str, dict[str, str]]:
    """The XML parts of an Office file, each normalised; ``docProps/*`` left out."""
    entries: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(path) as book:
        for part in sorted(book.namelist()):
            if part.startswith("docProps/"):
                continue
            entries["!" + part] = _entry(normalise_text(book.read(part).decode("utf-8"), tmp))
    return entries


def _png_entry(path: Path) -> dict[str, str]:
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        pixels = hashlib.sha256(image.tobytes()).hexdigest()
        return _binary_entry(pixels, f"PNG {image.mode} {image.size[0]}x{image.size[1]}")


def _pdf_entry(path: Path) -> dict[str, str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    digest = hashlib.sha256()
    for page in reader.pages:
        contents = page.get_contents()
        digest.update(contents.get_data() if contents is not None else b"")
        digest.update(b"\0page\0")
    return _binary_entry(digest.hexdigest(), f"PDF {len(reader.pages)} page(s)")


def _parquet_entry(path: Path) -> dict[str, str]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    schema = table.schema.remove_metadata().to_string(show_schema_metadata=False)
    rows = table.to_pandas().to_csv(index=False, lineterminator="\n")
    return _entry(f"{schema}\n---\n{rows}")


def _json_parts(text: str) -> dict[str, dict[str, str]]:
    """A large JSON object's top-level members, each its own entry (for a readable diff)."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {
        f"#{key}": _entry(json.dumps(member, indent=1, ensure_ascii=False) + "\n")
        for key, member in value.items()
    }


def _line_parts(text: str, size: int = 100) -> dict[str, dict[str, str]]:
    """A large text's lines in blocks of ``size``, each its own entry (for a diff)."""
    lines = text.splitlines(keepends=True)
    return {
        f"#lines {start + 1:05d}-": _entry("".join(lines[start : start + size]))
        for start in range(0, len(lines), size)
    }


def file_entries(path: Path, tmp: Path) -> dict[str, dict[str, str]]:
    """The record's entries for one output file, keyed by a suffix of its path ('' whole)."""
    suffix = path.suffix.lower()
    if path.is_symlink():
        return {"": {"symlink": _run_folder(normalise_text(str(path.readlink()), tmp))}}
    raw = path.read_bytes()
    if suffix in (".docx", ".xlsx") and raw[:2] == b"PK":
        return _zip_entries(path, tmp)
    if suffix == ".png" and raw[:4] == b"\x89PNG":
        return {"": _png_entry(path)}
    if suffix == ".pdf" and raw[:4] == b"%PDF":
        return {"": _pdf_entry(path)}
    if suffix in (".parquet", ".pq") and raw[:4] == b"PAR1" and raw[-4:] == b"PAR1":
        return {"": _parquet_entry(path)}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"": _binary_entry(hashlib.sha256(raw).hexdigest(), f"{len(raw)} bytes")}
    if path.name == "manifest.json":
        text = _normalise_manifest(text)
    text = normalise_text(text, tmp)
    entries = {"": _entry(text)}
    if len(text) >= TEXT_LIMIT:
        entries.update(_json_parts(text) if suffix == ".json" else _line_parts(text))
    return entries


def _run_folder(path: str) -> str:
    """A path with its run folder's name as ``<RUN>``.

    The name's hash part follows the settings (a Table 1 label among them): it is kept in
    what the run prints and in its manifest, and left out of the paths so that a changed
    setting compares each output with its old self instead of listing every file as gone.
    """
    return re.sub(r"<RUN-TIME>-[0-9a-f]{8}\b", "<RUN>", path)


def collect(tmp: Path) -> dict[str, dict[str, str]]:
    """Every file under ``tmp`` (inputs written by the scenario included), normalised."""
    files: dict[str, dict[str, str]] = {}
    for path in sorted(tmp.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        name = _run_folder(normalise_text(path.relative_to(tmp).as_posix(), tmp))
        for key, entry in file_entries(path, tmp).items():
            files[name + key] = entry
    return dict(sorted(files.items()))


# --- running -------------------------------------------------------------------------


class Session:
    """A scenario's temporary folder and the commands run in it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.commands: list[dict[str, Any]] = []

    def run(self, *argv: str | Path) -> int:
        """Run the command line in process; record its exit code and normalised output."""
        out, err = io.StringIO(), io.StringIO()
        args = [str(a) for a in argv]
        code = main(args, stdout=out, stderr=err)
        self.commands.append(
            {
                "argv": [normalise_text(a, self.tmp) for a in args],
                "exit": code,
                "stdout": normalise_text(out.getvalue(), self.tmp),
                "stderr": normalise_text(err.getvalue(), self.tmp),
            }
        )
        return code


def _demo(s: Session) -> None:
    """``make run``: the bundled demo pipeline, every format it lists."""
    s.run("run", "--output-dir", s.tmp / "out")


def _redcap(s: Session) -> None:
    """A synthetic REDCap export: drafted mapping, ``map``, and a mapped run."""
    export = s.tmp / "export.csv"
    s.run("synth", "--n", "120", "--seed", "11", "--layout", "redcap", "-o", export)
    s.run(
        "draft-mapping",
        "--redcap-dictionary",
        s.tmp / "export.dictionary.csv",
        "-o",
        s.tmp / "drafted.mapping.toml",
    )
    mapping = s.tmp / "export.mapping.toml"
    s.run("map", export, "--mapping", mapping, "-o", s.tmp / "mapped.csv")
    pipeline = s.tmp / "pipeline.toml"
    pipeline.write_text(
        '[input]\nextract = "export.csv"\nmapping = "export.mapping.toml"\n'
        '[output]\nroot = "out"\n'  # no formats: the default ones
    )
    s.run("run", pipeline)


def _batched(s: Session) -> None:
    """``classify --batch-rows`` on a synthetic extract with defects."""
    extract = s.tmp / "extract.csv"
    s.run("synth", "--n", "400", "--seed", "5", "--dirty", "0.05", "-o", extract)
    s.run("classify", extract, "--batch-rows", "90", "-o", s.tmp / "classified.csv")


def _corpus(name: str) -> Callable[[Session], None]:
    def scenario(s: Session) -> None:
        source = CORPUS / name
        mapping: list[str | Path] = []
        mapping_line = ""
        if "mapping" in CORPUS_EXPECTED[name]:
            (s.tmp / "mapping.toml").write_text(CORPUS_EXPECTED[name]["mapping"])
            mapping = ["--mapping", s.tmp / "mapping.toml"]
            mapping_line = 'mapping = "mapping.toml"\n'
        s.run("validate", source, *mapping)  # what it prints; the run writes the tables
        formats = ", ".join(f'"{f}"' for f in CORPUS_FORMATS)
        (s.tmp / "pipeline.toml").write_text(
            f"[input]\nextract = {json.dumps(str(source))}\n{mapping_line}"
            f'[output]\nroot = "run"\nformats = [{formats}]\n'
        )
        s.run("run", s.tmp / "pipeline.toml")

    return scenario


SCENARIOS: dict[str, Callable[[Session], None]] = {
    "demo": _demo,
    "redcap": _redcap,
    "batched_classify": _batched,
    **{f"corpus/{name}": _corpus(name) for name in sorted(CORPUS_EXPECTED)},
}


def record(name: str) -> Record:
    """Run one scenario in a fresh temporary folder and return its record."""
    with tempfile.TemporaryDirectory(prefix="golden-") as folder:
        tmp = Path(folder)
        session = Session(tmp)
        SCENARIOS[name](session)
        files = collect(tmp)
    return {"scenario": name, "commands": session.commands, "files": files, "excluded": {}}


def record_path(name: str) -> Path:
    """Where a scenario's record is stored."""
    return DATA / f"{name}.json"
