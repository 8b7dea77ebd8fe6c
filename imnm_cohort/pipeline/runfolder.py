"""Run folders: one folder per run, published whole or not at all.

* A lock file in the output root stops two runs writing there at once
  (:class:`~imnm_cohort.errors.RunLockedError`, exit 4). The lock is an operating-system
  lock (``flock``): it is released when the process ends, even if it is killed.
* Everything is written into a hidden ``.incomplete-*`` folder, which is renamed into place
  only when the run has completed; ``latest`` (a symbolic link) is then switched to it
  atomically. An interrupted or failed run leaves the earlier runs and ``latest`` as they
  were; its leftover folder is removed by the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from imnm_cohort.errors import ConfigError, RunLockedError

LOCK_NAME = ".imnm-cohort.lock"
LATEST = "latest"
INCOMPLETE_PREFIX = ".incomplete-"


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the output root's lock for the duration of a run.

    Raises
    ------
    RunLockedError
        When another run holds it.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{root}: cannot create the output folder ({exc})") from None
    handle = (root / LOCK_NAME).open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(
                f"{root}: another run is writing to this output folder; nothing was written"
            ) from None
        yield
    finally:
        handle.close()


def run_name(now: dt.datetime, config_digest: str, input_sha: str) -> str:
    """A run folder's name: UTC time and a short hash of the settings and the input."""
    short = hashlib.sha256((config_digest + input_sha).encode()).hexdigest()[:8]
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{short}"


def start(root: Path, name: str) -> Path:
    """Create the incomplete folder for a run (removing leftovers of interrupted runs)."""
    for leftover in root.glob(INCOMPLETE_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    work = root / f"{INCOMPLETE_PREFIX}{name}"
    work.mkdir(parents=True)
    return work


def publish(work: Path, root: Path, name: str) -> Path:
    """Move a completed run into place and point ``latest`` at it; returns its folder."""
    final = root / name
    suffix = 1
    while final.exists():
        final = root / f"{name}.{suffix}"
        suffix += 1
    os.rename(work, final)
    pointer = root / f".{LATEST}.new"
    with contextlib.suppress(FileNotFoundError):
        pointer.unlink()
    pointer.symlink_to(final.name, target_is_directory=True)
    os.replace(pointer, root / LATEST)
    return final


def discard(work: Path) -> None:
    """Remove an incomplete run folder."""
    shutil.rmtree(work, ignore_errors=True)


def latest_run(root: Path) -> Path | None:
    """The folder ``latest`` points at, if any."""
    link = root / LATEST
    if not link.is_symlink() and not link.is_dir():
        return None
    target = link.resolve()
    return target if target.is_dir() else None
