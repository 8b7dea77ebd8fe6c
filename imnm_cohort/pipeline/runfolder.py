"""Run folders: one folder per run, published whole or not at all.

* A lock file in the output root stops two runs writing there at once
  (:class:`~imnm_cohort.errors.RunLockedError`, exit 4). The lock is an operating-system
  lock (``flock``): it is released when the process ends, even if it is killed. The run
  takes it before any work, and removes the lock file when it ends, failed or not.
* Everything is written into a hidden ``.incomplete-*`` folder, which is renamed into place
  only when the run has completed; ``latest`` is then switched to it atomically. It is a
  symbolic link, or, on a filesystem that refuses symbolic links, a small text file holding
  the run folder's name. A run that fails at any point (a full disk included) removes its
  folder and leaves the earlier runs and ``latest`` as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from imnm_cohort.errors import RunLockedError
from imnm_cohort.io.tables import write_failure
from imnm_cohort.sources.files import sha256_of as sha256_of  # the manifest's digests

LOCK_NAME = ".imnm-cohort.lock"
LATEST = "latest"
INCOMPLETE_PREFIX = ".incomplete-"


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the output root's lock for the duration of a run; remove it afterwards.

    Raises
    ------
    RunLockedError
        When another run holds it.
    ConfigError
        When the output folder cannot be created or written to.
    """
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        handle = (root / LOCK_NAME).open("a+")
    except OSError as exc:
        raise write_failure(root, exc) from None
    lock = root / LOCK_NAME
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The previous holder removes the file when done: a lock taken on a file that
            # is no longer the one at this path is no lock at all.
            if os.fstat(handle.fileno()).st_ino != lock.stat().st_ino:
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            raise RunLockedError(
                f"{root}: another run is writing to this output folder; nothing was written"
            ) from None
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
            if created:
                with contextlib.suppress(OSError):
                    root.rmdir()  # only if the failed run left it empty
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
    try:
        work.mkdir(parents=True)
    except OSError as exc:
        raise write_failure(root, exc) from None
    return work


def publish(work: Path, root: Path, name: str) -> Path:
    """Move a completed run into place and point ``latest`` at it; returns its folder.

    If ``latest`` cannot be switched, the run folder is taken back out: a run is
    published whole or not at all.
    """
    final = root / name
    suffix = 1
    while final.exists():
        final = root / f"{name}.{suffix}"
        suffix += 1
    os.rename(work, final)
    try:
        point_latest(root, final.name)
    except BaseException:
        os.rename(final, work)  # discarded by the caller
        raise
    return final


def point_latest(root: Path, name: str) -> None:
    """Switch ``latest`` to a run folder atomically: a symbolic link, or a text file
    holding the folder's name where the filesystem refuses symbolic links."""
    pointer = root / f".{LATEST}.new"
    with contextlib.suppress(FileNotFoundError):
        pointer.unlink()
    try:
        try:
            pointer.symlink_to(name, target_is_directory=True)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                raise
            pointer.write_text(name + "\n", encoding="utf-8")
        os.replace(pointer, root / LATEST)
    except BaseException:
        pointer.unlink(missing_ok=True)
        raise


def discard(work: Path) -> None:
    """Remove an incomplete run folder."""
    shutil.rmtree(work, ignore_errors=True)


def latest_run(root: Path) -> Path | None:
    """The completed run ``latest`` names, if any (a link or a text file naming it)."""
    link = root / LATEST
    if link.is_symlink():
        target = link.resolve()
    elif link.is_file():
        try:
            name = link.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not name or "/" in name or name.startswith("."):
            return None
        target = root / name
    else:
        return None
    return target if target.is_dir() else None
