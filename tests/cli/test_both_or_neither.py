"""map and classify write a table and its quarantine both or neither: a full disk while the
quarantine is written removes the table already written, in one line, exit code 1."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import pytest

from imnm_cohort import cli
from imnm_cohort.io import tables


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, err.getvalue()


@pytest.mark.parametrize("command", ["map", "classify", "classify-batched"])
def test_a_failed_quarantine_write_leaves_neither_file(tmp_path, monkeypatch, command):
    source = tmp_path / "in" / "x.csv"
    source.parent.mkdir()
    layout = ["--layout", "redcap"] if command == "map" else ["--dirty", "0.2"]
    assert run("synth", "--n", "60", "--seed", "4", *layout, "-o", str(source))[0] == 0
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / "t.csv"
    argv = {
        "map": ["map", str(source), "--mapping", str(source.with_suffix(".mapping.toml"))],
        "classify": ["classify", str(source)],
        "classify-batched": ["classify", str(source), "--batch-rows", "25"],
    }[command]
    real = tables.write_table

    def full_disk_for_quarantine(frame, path):
        if Path(path).name.endswith(".quarantine.csv"):
            assert output.is_file()  # the table itself was written first
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(frame, path)

    # The command imports its writer when it runs: the writer is replaced where it lives.
    monkeypatch.setattr(tables, "write_table", full_disk_for_quarantine)
    code, err = run(*argv, "-o", str(output))
    assert code == cli.EXIT_INPUT
    assert err.splitlines()[-1] == (
        f"imnm-cohort: error: {folder}: the disk is full or a file size limit was reached "
        "(No space left on device); nothing was published"
    )
    assert list(folder.iterdir()) == []
