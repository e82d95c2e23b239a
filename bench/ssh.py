"""The console over SSH: `python -m bench.ssh` (also part of `make bench`).

On a small demo database of its own (BENCH_SSH_TENANTS, 200 by default) on
the benchmark's embedded server, the SSH server (console/ssh) runs in this
process on 127.0.0.1 with one admin operator; an asyncssh client asks for a
pseudo-terminal and reads the console's screen.

- Connect to a loaded dashboard: from the TCP connect to the dashboard's
  "Updated HH:MM" (every card answered), five sessions one after another.
  Budget 2 s.
- Memory per open session: ten sessions at once, each on its loaded
  dashboard; the RSS of each console process. Budget 150 MB each.

Everything goes to 127.0.0.1; the server, every console process and the
operator role are gone when it ends, however it ends.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncssh
import psycopg
import psycopg.sql
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine

from bench.results import run_alone, verdict

DATABASE = "bench_ssh"
ROLE_PREFIX = "benchssh_"
OPERATOR = "bench"
SEQUENTIAL = 5
CONCURRENT = 10
SIZE = (120, 40)
LOADED = "Updated"  # the dashboard's "Updated HH:MM": every card has answered
WAIT_S = 60.0
SETTLE_S = 2.0  # after the last dashboard loads, before memory is read

BUDGET_LOADED_S = 2.0
BUDGET_RSS_MB = 150.0

ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")


def _tenants() -> int:
    raw = os.environ.get("BENCH_SSH_TENANTS", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 200


# -- the database -----------------------------------------------------------------


def _seeded_database(tenants: int) -> str:
    """A fresh demo database on the benchmark's server; its SQLAlchemy URL."""
    from bench import dataset
    from demo import seed

    return dataset.scratch_database(DATABASE, lambda engine: seed.seed(engine, tenants=tenants, seed=1))


def _drop_roles(url: str) -> None:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT rolname FROM pg_roles WHERE left(rolname, length(%s)) = %s", (ROLE_PREFIX, ROLE_PREFIX)
        )
        for (name,) in rows.fetchall():
            conn.execute(psycopg.sql.SQL("DROP OWNED BY {}").format(psycopg.sql.Identifier(name)))
            conn.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(name)))


# -- the client ---------------------------------------------------------------------


class _Screen(asyncssh.SSHClientSession[bytes]):
    def __init__(self) -> None:
        self.raw = bytearray()
        self.changed = asyncio.Event()

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.raw += data
        self.changed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.changed.set()

    async def wait_for(self, needle: str, timeout: float = WAIT_S) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while needle not in ESCAPES.sub("", self.raw.decode("utf-8", "replace")):
            if loop.time() > deadline:
                raise TimeoutError(f"{needle!r} not on screen after {timeout} s")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.01, deadline - loop.time()))
            except TimeoutError:
                pass


async def _session(port: int, key: asyncssh.SSHKey) -> tuple[asyncssh.SSHClientConnection, float]:
    """A console on a loaded dashboard: the connection and seconds it took."""
    started = time.perf_counter()
    conn = await asyncssh.connect(
        "127.0.0.1", port, username=OPERATOR, client_keys=[key], known_hosts=None, agent_path=None
    )
    _, screen = await conn.create_session(
        _Screen, term_type="xterm-256color", term_size=SIZE, encoding=None, request_pty="force"
    )
    await screen.wait_for(LOADED)
    return conn, time.perf_counter() - started


def _rss_mb(pid: int) -> float:
    """Resident memory of one process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _session_rss_mb(server: Any) -> list[float]:
    return [
        _rss_mb(session.process.pid)
        for session in list(server.sessions)
        if session.process is not None and session.process.running
    ]


async def _measure(url: str, workdir: Path) -> dict[str, Any]:
    from console.ssh.host_key import HostKey
    from console.ssh.limits import Limits
    from console.ssh.operators_file import OperatorsWatcher
    from console.ssh.server import ConsoleServer, ServerSettings
    from core.operator_roles import OperatorRole, apply_roles

    key = asyncssh.generate_private_key("ssh-ed25519", comment="bench@ssh")
    operators = workdir / "operators.toml"
    operators.write_text(
        f'[[operators]]\nname = "{OPERATOR}"\nrole = "admin"\nkeys = ["{key.export_public_key().decode().strip()}"]\n'
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        apply_roles(conn, {OPERATOR: OperatorRole.admin})
    settings = ServerSettings(
        host="127.0.0.1",
        port=0,
        host_key=HostKey(asyncssh.generate_private_key("ssh-ed25519"), workdir / "host_key", created=True),
        database_url=url,
        default_locale="en-US",
        config_root=workdir / "preferences",
        limits=Limits(max_sessions=CONCURRENT + 2),
        base_environment={
            name: value for name, value in os.environ.items() if not name.startswith(("STRIPE_", "BACKOFFICE_"))
        },
    )
    server = ConsoleServer(settings, OperatorsWatcher(operators), engine)
    await server.start()
    connections: list[asyncssh.SSHClientConnection] = []
    try:
        loaded = []
        for _ in range(SEQUENTIAL):
            conn, seconds = await _session(server.port, key)
            loaded.append(seconds)
            conn.close()
            await conn.wait_closed()
        while server.sessions:  # the last one's console is still stopping
            await asyncio.sleep(0.05)
        concurrent = await asyncio.gather(*(_session(server.port, key) for _ in range(CONCURRENT)))
        connections = [conn for conn, _ in concurrent]
        await asyncio.sleep(SETTLE_S)
        rss = _session_rss_mb(server)
        return {
            "tenants": _tenants(),
            "connect_to_dashboard_s": {"median": statistics.median(loaded), "max": max(loaded), "runs": loaded},
            "concurrent_sessions": len(rss),
            "concurrent_connect_to_dashboard_max_s": max(seconds for _, seconds in concurrent),
            "rss_per_session_mb": {"median": statistics.median(rss), "max": max(rss), "all": rss},
        }
    finally:
        for conn in connections:
            conn.close()
        await server.close()
        engine.dispose()


def measure(log: Any = print) -> dict[str, Any]:
    tenants = _tenants()
    log(f"SSH: seeding a demo database of {tenants} tenants...")
    url = _seeded_database(tenants)
    os.environ["BACKOFFICE_OPERATOR_ROLE_PREFIX"] = ROLE_PREFIX
    try:
        _drop_roles(url)
        with tempfile.TemporaryDirectory(prefix="bench-ssh-") as workdir:
            log(f"SSH: {SEQUENTIAL} sessions one after another, then {CONCURRENT} at once...")
            return asyncio.run(_measure(url, Path(workdir)))
    finally:
        _drop_roles(url)
        os.environ.pop("BACKOFFICE_OPERATOR_ROLE_PREFIX", None)
        _drop_database()


def _drop_database() -> None:
    from bench import dataset

    dataset.drop_scratch_database(DATABASE)


def print_table(console: Console, figures: dict[str, Any]) -> None:
    loaded = figures["connect_to_dashboard_s"]
    rss = figures["rss_per_session_mb"]
    table = Table(title=f"Console over SSH ({figures['tenants']} demo tenants)", header_style="bold")
    for column in ("figure", "value", "budget", ""):
        table.add_column(column)
    table.add_row(
        "connect to loaded dashboard (median / max)",
        f"{loaded['median']:.2f} s / {loaded['max']:.2f} s",
        f"< {BUDGET_LOADED_S:.0f} s",
        verdict(loaded["max"] < BUDGET_LOADED_S),
    )
    table.add_row(
        f"{figures['concurrent_sessions']} sessions at once: slowest to its dashboard",
        f"{figures['concurrent_connect_to_dashboard_max_s']:.2f} s",
        "",
        "",
    )
    table.add_row(
        f"RSS per console, {figures['concurrent_sessions']} open (median / max)",
        f"{rss['median']:.0f} MB / {rss['max']:.0f} MB",
        f"< {BUDGET_RSS_MB:.0f} MB",
        verdict(rss["max"] < BUDGET_RSS_MB),
    )
    console.print(table)


def main() -> None:
    run_alone("ssh", measure, print_table)


if __name__ == "__main__":
    main()
