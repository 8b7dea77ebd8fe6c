"""Re-record the golden outputs: ``python -m tests.golden.record [SCENARIO ...]``.

Re-record ONLY for a deliberate change of behaviour (a new number, a changed label, a new
output), never to make ``tests/golden/test_golden.py`` pass after a change that was meant
to keep the behaviour: a restructuring that changes a golden record has changed what the
toolkit prints or writes. Review ``git diff tests/golden/data`` before committing a new
record. With no argument every scenario is recorded; stale records of scenarios that no
longer exist are removed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from tests.golden.scenarios import DATA, SCENARIOS, record, record_path


def dump(name: str) -> str:
    """A scenario's record as the JSON text stored for it."""
    return json.dumps(record(name), indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Record the named scenarios (all when none is named); return the exit code."""
    given = list(argv if argv is not None else sys.argv[1:])
    names = given or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    for name in names:
        path = record_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump(name), encoding="utf-8")
        print(f"recorded {path.relative_to(DATA)}")
    if not given:  # a full record: drop the records of scenarios that are gone
        wanted = {record_path(n) for n in SCENARIOS}
        for stale in sorted(set(DATA.rglob("*.json")) - wanted):
            stale.unlink()
            print(f"removed stale {stale.relative_to(DATA)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
