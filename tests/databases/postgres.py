"""A throw-away PostgreSQL 15 cluster for the database tests.

The cluster is made with ``initdb`` in a temporary folder, started with ``pg_ctl`` on a free
port of 127.0.0.1 (and a Unix socket in the same folder), and removed at the end. The server
refuses to run as root, so as root every server command runs as the ``postgres`` user
(``runuser``). Logins over TCP need a password (``scram-sha-256``), so that the tests can
check that a password never reaches an output, a log or a message.

A user with a real server sets ``IMNM_TEST_PG_URL`` (a libpq URL whose database the tests
may fill and empty) and no cluster is made.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: The login the tests use, and its password (a test value, written nowhere but here).
USER = "imnm_test"
PASSWORD = "s3cret-Pa55-for-tests"
DATABASE = "registry"


def bindir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl`` (from ``pg_config --bindir``), or None."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(out.stdout.strip())
    return folder if (folder / "initdb").exists() and (folder / "pg_ctl").exists() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running throw-away cluster."""

    root: Path
    port: int
    bindir: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        """A URL without the password (it comes from the environment or ``.pgpass``)."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def url_with_password(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def _as_server_user(self, args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, **kw)  # type: ignore[call-overload]

    def psql(self, sql: str) -> str:
        """Run SQL as the superuser over the Unix socket (no password)."""
        out = self._as_server_user(
            [
                self.bindir / "psql",
                "-h",
                self.root,
                "-p",
                self.port,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-qAt",
                "-c",
                sql,
            ]
        )
        return out.stdout

    def stop(self, mode: str = "fast") -> None:
        self._as_server_user([self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -h 127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._as_server_user(
            [
                self.bindir / "pg_ctl",
                "-D",
                self.data,
                "-l",
                self.root / "server.log",
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])


def start_cluster() -> Cluster:
    """initdb, start, and make the test login and database."""
    folder = bindir()
    if folder is None:
        raise RuntimeError("PostgreSQL is not installed: pg_config --bindir names no initdb")
    root = Path(tempfile.mkdtemp(prefix="imnm-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    cluster = Cluster(root, _free_port(), folder)
    cluster._as_server_user(
        [
            folder / "initdb",
            "-D",
            cluster.data,
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ]
    )
    for attempt in range(3):
        try:
            cluster.start()
            break
        except subprocess.CalledProcessError:
            if attempt == 2:
                raise
            cluster.port = _free_port()  # taken in between: try another
            time.sleep(0.5)
    cluster.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
    cluster.psql(f"CREATE DATABASE {DATABASE} OWNER {USER}")
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    """Stop the server (immediately if it does not stop cleanly) and delete its folder."""
    for mode in ("fast", "immediate"):
        try:
            cluster.stop(mode)
            break
        except subprocess.CalledProcessError:
            continue
    shutil.rmtree(cluster.root, ignore_errors=True)
