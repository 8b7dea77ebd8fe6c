"""Layers import only downward.

The package is a stack of layers in data-flow order, with the vocabulary, the errors and
disclosure control at the bottom. A module may import from its own layer and from the
layers below it, never from a layer above: every ``import`` statement of every module
counts, at module level, inside a function (a lazy import) or under ``TYPE_CHECKING``.
The list below is the one home of the order (``docs/architecture.md`` draws it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import imnm_cohort

PACKAGE = Path(imnm_cohort.__file__).parent

#: Bottom first. A name is a subpackage or a top-level module of ``imnm_cohort``.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("vocabulary", "errors"),
    ("io", "settings_files", "disclosure"),
    ("contracts",),
    ("sources",),
    ("mapping",),
    ("validation",),
    ("classify",),
    ("engines",),
    ("analysis",),
    ("report",),
    ("outputs",),
    ("synth", "synth_redcap", "synth_omop", "synth_events"),
    ("pipeline",),
    ("cli", "__init__", "__main__"),
)
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _unit(module: str) -> str:
    """The layer unit of a dotted module name inside the package."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        out.append((".".join(rel.parts), path))
    return out


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return [(line, t) for line, t in found if t == "imnm_cohort" or t.startswith("imnm_cohort.")]


def test_every_module_belongs_to_a_layer():
    units = {_unit(m) for m, _ in _modules()}
    assert units <= set(LAYER), f"add to LAYERS: {sorted(units - set(LAYER))}"


def test_no_module_imports_from_a_layer_above_its_own():
    upward = []
    for module, path in _modules():
        mine = LAYER[_unit(module)]
        for line, target in _imports(module, path):
            theirs = LAYER.get(_unit(target), len(LAYERS))
            if target == "imnm_cohort" and mine < len(LAYERS) - 1:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports the package root")
            elif theirs > mine:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
    assert not upward, "imports that run up the layers:\n" + "\n".join(upward)


@pytest.mark.parametrize("lower", ["disclosure", "contracts", "vocabulary", "errors", "io"])
def test_the_bottom_layers_import_nothing_heavy(lower):
    """The bottom of the stack is cheap to import: no pandas-level dependency is needed to
    read a declaration or a contract's names (heavy libraries are imported where used)."""
    heavy = {"scipy", "lifelines", "matplotlib", "docx", "openpyxl", "statsmodels"}
    for module, path in _modules():
        if _unit(module) != lower:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        names = {
            (a.name if isinstance(n, ast.Import) else (n.module or "")).split(".")[0]
            for n in top
            for a in (n.names if isinstance(n, ast.Import) else [n])
        }
        assert not names & heavy, (module, names & heavy)
