"""The command line starts at once: heavy libraries are imported only where they are used.

Each check runs in a new Python process, as a user's command does (this test process has
imported everything already). ``--version`` and every ``--help`` import neither pandas nor
numpy; ``validate`` and ``classify`` import no statistics, plotting or office library.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import imnm_cohort
from imnm_cohort import synthesize, write_extract
from imnm_cohort.classify import available_criteria
from imnm_cohort.cli import build_parser
from imnm_cohort.vocabulary import CRITERIA_NAMES

PACKAGE = Path(imnm_cohort.__file__).parent
#: What printing the version or the help must not import.
DATA_LIBRARIES = ("pandas", "numpy", "pyarrow", "pandera")
#: What only the analyses, the report and the output formats use.
REPORT_LIBRARIES = ("scipy", "lifelines", "statsmodels", "matplotlib", "docx", "openpyxl")
#: The layers that use the report libraries; any other module imports them inside a function.
USERS = ("analysis", "report", "outputs", "pipeline")

#: Runs each command line of ``sys.argv[2:]`` (JSON) in turn; after each, prints its exit
#: code and which of the names of ``sys.argv[1]`` (JSON) are imported so far.
PROBE = """
import json, sys
from imnm_cohort.cli import main
names = json.loads(sys.argv[1])
for argv in json.loads(sys.argv[2]):
    code = main(argv)
    print(json.dumps([code, sorted(name for name in names if name in sys.modules)]))
"""


def _in_new_process(commands: list[list[str]], names: tuple[str, ...]) -> list[list]:
    """Run each command line in turn in one new process: for each, its exit code and which of
    ``names`` were imported by then."""
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    argv = [sys.executable, "-c", PROBE, json.dumps(names), json.dumps(commands)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()[-len(commands) :]]


def _subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["--help"], *([name, "--help"] for name in _subcommands())],
    ids=" ".join,
)
def test_version_and_help_import_no_data_or_report_library(argv):
    assert _in_new_process([argv], DATA_LIBRARIES + REPORT_LIBRARIES) == [[0, []]]


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "extract.csv"
    write_extract(synthesize(60, seed=2), path)
    return path


@pytest.mark.slow
def test_validate_and_classify_import_no_report_library(extract, tmp_path):
    validate = ["-q", "validate", str(extract)]
    classify = ["-q", "classify", str(extract), "-o", str(tmp_path / "classified.csv")]
    # One process for both (start-up is the cost); each line says what was imported by then.
    assert _in_new_process([validate, classify], REPORT_LIBRARIES) == [[0, []], [0, []]]


@pytest.mark.slow
def test_the_package_imports_its_names_when_first_read():
    """``import imnm_cohort`` imports no pandas; each public name is there when read, and
    ``imnm_cohort.classify`` stays the function once the subpackage of that name is loaded."""
    code = (
        "import sys, imnm_cohort as ic\n"
        "assert 'pandas' not in sys.modules and 'numpy' not in sys.modules\n"
        "assert set(ic.__all__) <= set(dir(ic))\n"
        "import imnm_cohort.classify.rules\n"
        "assert ic.classify.__module__ == 'imnm_cohort.classify.procedure'\n"
        "from imnm_cohort import classify\n"
        "assert classify is ic.classify\n"
        "assert ic.EXTRACT_SCHEMA is sys.modules['imnm_cohort.contracts.patients'].EXTRACT_SCHEMA\n"
        "try:\n"
        "    ic.no_such_name\n"
        "except AttributeError as exc:\n"
        "    assert 'no_such_name' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_help_lists_the_criteria_sets_the_package_has():
    assert available_criteria() == CRITERIA_NAMES


def _imports_outside_functions(tree: ast.Module) -> list[tuple[int, str]]:
    """Top-level names imported when the module is imported (``TYPE_CHECKING`` blocks and
    function bodies left out)."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.append((node.lineno, (node.module or "").split(".")[0]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_report_libraries_are_imported_at_module_level_only_by_their_users():
    """Below the analyses (and in the command line) a report library is imported inside the
    function that uses it, so that validating, mapping or classifying never pays for it."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) > 1 and parts[0] in USERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found += [
            f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
            for line, name in _imports_outside_functions(tree)
            if name in REPORT_LIBRARIES
        ]
    assert not found, "\n".join(found)


def test_the_rule_sees_an_import_at_module_level():
    source = (
        "import scipy\n"
        "try:\n    import openpyxl\nexcept ImportError:\n    pass\n"
        "if TYPE_CHECKING:\n    import matplotlib\n"
        "def f():\n    import lifelines\n"
    )
    assert _imports_outside_functions(ast.parse(source)) == [(1, "scipy"), (3, "openpyxl")]
