"""Small registries with chosen group sizes, for the hostile-run tests."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from tests.conftest import BASE_PATIENT

#: Cells that turn the (anti-HMGCR) base patient into each IMNM group.
GROUP_CELLS: dict[str, dict[str, Any]] = {
    "hmgcr": {},
    "srp": {"anti_hmgcr": "negative", "anti_srp": "positive", "statin_exposed": "false"},
    "seronegative": {"anti_hmgcr": "negative", "anti_srp": "negative"},
}


def patients(sizes: dict[str, int], **cells: Any) -> list[dict[str, Any]]:
    """One row per patient: ``sizes`` patients per group, with varied dates and CK."""
    out = []
    for group, n in sizes.items():
        for i in range(n):
            k = len(out)
            row = {c: ("" if v is None else v) for c, v in BASE_PATIENT.items()}
            row.update(GROUP_CELLS[group])
            row.update(
                patient_id=f"{group[:2].upper()}{i:03d}",
                birth_date=f"{1940 + k % 40}-0{1 + k % 9}-1{k % 9}",
                ck_peak=str(2000 + 137 * k),
                last_followup_date=f"{2016 + k % 7}-0{1 + k % 9}-15",
            )
            row.update(cells)
            out.append(row)
    return out


def write_csv(rows: list[dict[str, Any]], path: Path, delimiter: str = ",") -> Path:
    columns = list(rows[0])
    for row in rows:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
