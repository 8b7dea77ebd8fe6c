"""Golden outputs: every scenario of :mod:`tests.golden.scenarios` prints and writes what
it printed and wrote when its record under ``tests/golden/data/`` was made.

A failure names each output that changed and shows a unified diff of the first changed
one whose text the record keeps. Re-record (``python -m tests.golden.record``) only for a
deliberate change of behaviour.

A kept text is unchanged when it is the same but for numbers written with a fraction or an
exponent that agree to :data:`REL_TOL`. The same run gives the same numbers on one machine,
but not to the last digit on another processor: numpy and OpenBLAS choose their SIMD
kernels by processor, so the demo's Cox hazard ratio moved in its last binary digit
(1.0223589094032797 against ...794) between the recording machine and an AMD EPYC one,
and the mixed model's optimiser, which stops at its convergence tolerance, moved the CK
slope of the REDCap scenario by 1.7e-8 of its value (its standard error by 7.5e-8).
Every other character, and every integer (a count), must be identical; a large file kept
as parts (a JSON file's members, a text's blocks of lines) is compared part by part.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from typing import Any

import pytest

from tests.golden.scenarios import SCENARIOS, record, record_path

#: How far a written floating-point number may move between processors (relative).
REL_TOL = 1e-6
#: A number with a fraction or an exponent (an integer, a count, is compared exactly).
_FLOAT = re.compile(r"-?\d+\.\d+(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+")


def same_but_last_digits(old: str, new: str) -> bool:
    """Whether two texts differ only in floating-point numbers that agree to REL_TOL."""
    if _FLOAT.sub("#", old) != _FLOAT.sub("#", new):
        return False
    return all(
        a == b or math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12)
        for a, b in zip(_FLOAT.findall(old), _FLOAT.findall(new), strict=True)
    )


def _parts(files: dict[str, Any], path: str) -> list[str]:
    """The names of the parts a large file is kept as, in order (none for a small one)."""
    return [p for p in files if p.startswith(f"{path}#")]


def _lines(text: str) -> list[str]:
    """A text's lines; an XML part written on one line is cut between its elements."""
    if any(len(line) > 400 for line in text.splitlines()):
        text = text.replace("><", ">\n<")
    return text.splitlines(keepends=True)


def _diff(name: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        _lines(old),
        _lines(new),
        fromfile=f"golden/{name}",
        tofile=f"now/{name}",
        n=2,
    )
    text = "".join(lines)
    return text if len(text) < 8000 else text[:8000] + "\n... (diff cut at 8,000 characters)\n"


def differences(golden: dict[str, Any], now: dict[str, Any]) -> str:
    """What changed between two records, for a person; empty when nothing did."""
    changed: list[str] = []
    first_diff = command_diff = ""
    old_commands, new_commands = golden["commands"], now["commands"]
    if [c["argv"] for c in old_commands] != [c["argv"] for c in new_commands]:
        changed.append("the commands run differ (the scenario changed: re-record it)")
    for i, (old, new) in enumerate(zip(old_commands, new_commands, strict=False)):
        for part in ("exit", "stdout", "stderr"):
            if old[part] != new[part]:
                label = f"command {i + 1} ({' '.join(old['argv'][:1])}) {part}"
                changed.append(f"{label}: was {old[part]!r:.80}, now {new[part]!r:.80}")
                if not command_diff and part != "exit":
                    command_diff = _diff(label, old[part], new[part])
    old_files, new_files = golden["files"], now["files"]
    for path in sorted(set(old_files) - set(new_files)):
        changed.append(f"{path}: no longer written")
    for path in sorted(set(new_files) - set(old_files)):
        changed.append(f"{path}: newly written")
    for path in sorted(set(old_files) & set(new_files)):
        old, new = old_files[path], new_files[path]
        if old == new:
            continue
        if "text" in old and "text" in new and same_but_last_digits(old["text"], new["text"]):
            continue
        if (
            "text" not in old
            and _parts(old_files, path)
            and _parts(old_files, path) == _parts(new_files, path)
        ):
            continue  # a file kept as parts: its parts are compared one by one
        changed.append(f"{path}: content changed")
        if not first_diff and "text" in old and "text" in new:
            first_diff = _diff(path, old["text"], new["text"])
    if golden.get("excluded") != now.get("excluded"):
        changed.append(f"excluded outputs: was {golden.get('excluded')}, now {now.get('excluded')}")
    if not changed:
        return ""
    # a written file's diff tells more than the printed lines (a run folder's name)
    shown = first_diff or command_diff
    return "\n".join(["outputs changed:", *(f"  {c}" for c in changed), "", shown])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_outputs_are_unchanged(name: str) -> None:
    golden = json.loads(record_path(name).read_text(encoding="utf-8"))
    message = differences(golden, record(name))
    assert not message, f"scenario {name}: {message}"


def test_every_record_is_a_scenario() -> None:
    """A stored record without its scenario would be a comparison that never runs."""
    stored = {p for p in record_path("x").parent.rglob("*.json")}
    assert stored == {record_path(n) for n in SCENARIOS}


def test_a_changed_output_is_named_with_a_diff() -> None:
    """The comparison itself: a changed line in a kept text is named and shown."""
    golden = {
        "commands": [{"argv": ["run"], "exit": 0, "stdout": "a\n", "stderr": ""}],
        "files": {"out/report.md": {"sha256": "1", "text": "Table 1\nn = 12\n"}},
        "excluded": {},
    }
    now = json.loads(json.dumps(golden))
    assert differences(golden, now) == ""
    now["files"]["out/report.md"] = {"sha256": "2", "text": "Table 1\nn = 13\n"}
    message = differences(golden, now)
    assert "out/report.md: content changed" in message
    assert "-n = 12\n+n = 13" in message
    now["commands"][0]["exit"] = 1
    assert "command 1 (run) exit: was 0, now 1" in differences(golden, now)


def test_numbers_may_move_in_their_last_digits_only() -> None:
    """Another processor's last binary digit passes; a change a reader could see does not."""
    old = '{"hazard_ratio": 1.0223589094032797, "n": 120, "p": 2.5e-08}'
    assert same_but_last_digits(old, old.replace("032797", "032794"))
    assert same_but_last_digits(old, old.replace("2.5e-08", "2.5000000000000004e-08"))
    assert not same_but_last_digits(old, old.replace("1.0223589094032797", "1.02236"))
    assert not same_but_last_digits(old, old.replace("120", "121"))  # counts are exact
    assert not same_but_last_digits(old, old.replace('"p"', '"q"'))
    assert not same_but_last_digits(old, old.replace(', "p": 2.5e-08', ""))
    golden = {"commands": [], "files": {"s.json": {"sha256": "1", "text": old}}}
    now = {"commands": [], "files": {"s.json": {"sha256": "2", "text": old.replace("97,", "94,")}}}
    assert differences(golden, now) == ""
    # a large file kept as parts: its whole entry has no text, and its parts decide
    golden["files"] = {"big.json": {"sha256": "1"}, "big.json#a": {"sha256": "1", "text": old}}
    now["files"] = {"big.json": {"sha256": "2"}, "big.json#a": {"sha256": "2", "text": old}}
    assert differences(golden, now) == ""
    now["files"]["big.json#a"] = {"sha256": "3", "text": old.replace("120", "121")}
    assert "big.json#a: content changed" in differences(golden, now)
