"""Golden outputs: every scenario of :mod:`tests.golden.scenarios` prints and writes what
it printed and wrote when its record under ``tests/golden/data/`` was made.

A failure names each output that changed and shows a unified diff of the first changed
one whose text the record keeps. Re-record (``python -m tests.golden.record``) only for a
deliberate change of behaviour.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest

from tests.golden.scenarios import SCENARIOS, record, record_path


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
