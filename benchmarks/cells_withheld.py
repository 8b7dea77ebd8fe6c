"""Measure: Table 1 cells not shown by disclosure control (sex row, all categorical rows).

For each extract given (a path, or ``synth:N,SEED`` for a synthetic registry), the valid
rows are classified and analysed, and Table 1 is published under the default policy
(minimum 5); the script prints, per extract and in total, the cells not shown (``<5`` or
``[withheld]``) and the cells of the sex row and of every categorical row. Run it with two
versions of the package on the same extracts to compare them.

Run: ``cd benchmarks; ../.venv/bin/python cells_withheld.py synth:3000,0
../tests/corpus/files/*.csv``
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import imnm_cohort as ic
from imnm_cohort.analysis import analyse
from imnm_cohort.disclosure.suppression import suppress
from imnm_cohort.errors import ImnmCohortError


def _cells(row: dict[str, Any]) -> Iterator[Any]:
    for cell in row["cells"].values():
        yield from cell["counts"].values()


def measure(source: str) -> tuple[int, int, int, int] | None:
    """(sex cells not shown, sex cells, categorical cells not shown, categorical cells)."""
    if source.startswith("synth:"):
        n, seed = map(int, source.removeprefix("synth:").split(","))
        raw = ic.synthesize(n, seed=seed)
    else:
        raw = ic.read_extract(source)
    valid = ic.validate_extract(raw).valid
    if valid.empty:
        return None
    analysis = analyse(ic.classify(valid), n_boot=10)
    t1 = suppress(analysis.to_dict(), analysis.disclosure(), 5).data["table_one"]
    sex = [v for r in t1["rows"] if r["variable"] == "sex" for v in _cells(r)]
    cat = [v for r in t1["rows"] if r["kind"] == "categorical" for v in _cells(r)]
    return (
        sum(isinstance(v, str) for v in sex),
        len(sex),
        sum(isinstance(v, str) for v in cat),
        len(cat),
    )


def main(sources: list[str]) -> None:
    results = {}
    for source in sources:
        try:
            found = measure(source)
        except (ImnmCohortError, OSError):
            continue  # a hostile file that cannot be read or validated
        if found is not None:
            results[source] = found
            print(source, found)
    total = [sum(r[i] for r in results.values()) for i in range(4)]
    keys = ("sex_not_shown", "sex_cells", "categorical_not_shown", "categorical_cells")
    print(json.dumps({"extracts": len(results), **dict(zip(keys, total, strict=True))}))


if __name__ == "__main__":
    main(sys.argv[1:])
