"""A throw-away PostgreSQL server for tests and benchmarks.

    from tests.pg_server import PostgresServer, find_pg_bin

    with PostgresServer.start() as server:          # initdb + pg_ctl start on a free port
        url = server.create_database("replica_test")  # postgresql+psycopg://postgres@127.0.0.1:PORT/replica_test
        ...
    # stopped (pg_ctl stop -m immediate, then SIGKILL by PID if needed) and its directory removed

The cluster lives in a fresh directory under the system temp dir, listens on 127.0.0.1 only, with
trust authentication for the `postgres` role. initdb refuses to run as root, so when the
tests run as root the server runs as the `postgres` OS user (via runuser/su) and the directory
is chowned to it. In pytest use the session fixture `postgres_server` (tests/conftest.py), which
skips with a reason only when no PostgreSQL binaries are installed.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg


def find_pg_bin() -> Path | None:
    """The folder holding initdb/pg_ctl/postgres, or None when PostgreSQL is not installed."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    candidates += [Path("/usr/local/pgsql/bin"), Path("/usr/local/bin")]
    for folder in candidates:
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self, bin_dir: Path, base_dir: Path, port: int, run_as: str | None) -> None:
        self.bin_dir = bin_dir
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.log_file = base_dir / "server.log"
        self.port = port
        self.run_as = run_as
        self.pid: int | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def start(cls, *, fast: bool = True, bin_dir: Path | None = None, attempts: int = 3) -> PostgresServer:
        """initdb a new cluster and start it on a free port.

        `fast` turns off fsync/full-page writes (fine for tests: it is the client we kill, never
        the server); benchmarks pass fast=False for realistic numbers.
        """
        bin_dir = bin_dir or find_pg_bin()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) are not installed.")
        run_as = "postgres" if os.geteuid() == 0 else None
        base_dir = Path(tempfile.mkdtemp(prefix="campaign-lens-pg-"))
        if run_as:
            user = pwd.getpwnam(run_as)
            os.chown(base_dir, user.pw_uid, user.pw_gid)
        server = cls(bin_dir, base_dir, 0, run_as)
        try:
            server._initdb()
            last_error: Exception | None = None
            for _ in range(attempts):  # a free port can be taken between probing and binding
                server.port = free_port()
                try:
                    server._start(fast)
                    return server
                except subprocess.CalledProcessError as error:
                    last_error = error
            raise RuntimeError(f"PostgreSQL did not start: {last_error}\n{server.log_tail()}")
        except BaseException:
            server.stop()
            raise

    def _run(self, args: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self.run_as:
            if shutil.which("runuser"):
                command = ["runuser", "-u", self.run_as, "--", *command]
            else:
                command = ["su", self.run_as, "-s", "/bin/sh", "-c", shlex.join(command)]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=timeout, cwd=self.base_dir)

    def _initdb(self) -> None:
        self._run([
            str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        ])

    def _start(self, fast: bool) -> None:
        options = [
            f"-p {self.port}", f"-k {self.base_dir}", "-c listen_addresses=127.0.0.1", "-c max_connections=100",
        ]
        if fast:
            options += ["-c fsync=off", "-c full_page_writes=off", "-c synchronous_commit=off"]
        self._run([
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", " ".join(options),
            "-l", str(self.log_file), "-w", "-t", "60", "start",
        ], timeout=90)
        pid_file = self.data_dir / "postmaster.pid"
        self.pid = int(pid_file.read_text().split()[0])

    def stop(self) -> None:
        """Stop immediately and remove the cluster. Safe to call twice."""
        if self.pid is not None:
            try:
                self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"], 30)
            except (subprocess.SubprocessError, OSError):
                pass
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                pass
            else:
                try:  # still there: kill the postmaster by its own PID
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                time.sleep(0.2)
            self.pid = None
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- databases -------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) for `database` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE `name` (dropping an old one of that name) and return its SQLAlchemy URL.

        With `template`, the new database is a file copy of that (idle) database: the quick way
        to hand every test an already migrated schema.
        """
        for identifier in filter(None, (name, template)):
            if not identifier.replace("_", "").isalnum():
                raise ValueError(f"unsafe database name {identifier!r}")
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
