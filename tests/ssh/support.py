"""What the SSH tests share: operator keys made in the test, an operators
file, unique operator roles (roles are cluster-wide), the server started in
the test's event loop, and a client that reads the console's screen."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh
import psycopg
import psycopg.sql
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from console.ssh.host_key import HostKey
from console.ssh.limits import Limits
from console.ssh.operators_file import OperatorsWatcher
from console.ssh.server import ConsoleServer, ServerSettings
from core.operator_roles import OperatorRole, apply_roles

# Escape sequences a terminal program writes: CSI, OSC, and the two-byte ones.
ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
WAIT = 30.0  # a console's first screen on a loaded 2-core machine
LOADED = {"en-US": "Updated", "da-DK": "Opdateret"}  # the dashboard's "Updated HH:MM"


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class OperatorKeys:
    name: str
    role: OperatorRole
    key: asyncssh.SSHKey
    locale: str | None = None

    @property
    def public_line(self) -> str:
        return self.key.export_public_key().decode().strip()

    def toml(self) -> str:
        locale = f'locale = "{self.locale}"\n' if self.locale else ""
        return f'[[operators]]\nname = "{self.name}"\nrole = "{self.role.value}"\n{locale}keys = ["{self.public_line}"]\n\n'


def make_operator(name: str, role: OperatorRole, locale: str | None = None) -> OperatorKeys:
    return OperatorKeys(name, role, asyncssh.generate_private_key("ssh-ed25519", comment=f"{name}@test"), locale)


def write_operators(path: Path, operators: list[OperatorKeys], extra: str = "") -> None:
    """Written whole and renamed into place, as an editor saves."""
    draft = path.with_suffix(".draft")
    draft.write_text("".join(operator.toml() for operator in operators) + extra, encoding="utf-8")
    os.replace(draft, path)


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}_"


def drop_prefixed_roles(database_url: str, prefix: str) -> None:
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        rows = conn.execute("SELECT rolname FROM pg_roles WHERE left(rolname, length(%s)) = %s", (prefix, prefix))
        for (name,) in rows.fetchall():
            conn.execute(psycopg.sql.SQL("DROP OWNED BY {}").format(psycopg.sql.Identifier(name)))
            conn.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(name)))


def apply(engine: Engine, operators: list[OperatorKeys]) -> None:
    with engine.begin() as conn:
        apply_roles(conn, {operator.name: operator.role for operator in operators})


@asynccontextmanager
async def running_server(
    database_url: str, operators_path: Path, tmp_path: Path, limits: Limits | None = None
) -> AsyncIterator[ConsoleServer]:
    """The server on 127.0.0.1, any free port, stopped (every console with it) afterwards."""
    engine = create_engine(database_url)
    key = asyncssh.generate_private_key("ssh-ed25519")
    settings = ServerSettings(
        host="127.0.0.1",
        port=0,
        host_key=HostKey(key, tmp_path / "host_key", created=True),
        database_url=database_url,
        default_locale="en-US",
        config_root=tmp_path / "preferences",
        limits=limits or Limits(failure_delay=0.05, failure_delay_cap=0.2, stop_grace=2.0),
        base_environment={
            name: value for name, value in os.environ.items() if not name.startswith(("STRIPE_", "BACKOFFICE_"))
        },
        reload_seconds=0.2,
    )
    server = ConsoleServer(settings, OperatorsWatcher(operators_path), engine)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
        engine.dispose()


class Screen(asyncssh.SSHClientSession[bytes]):
    """What the console wrote, as text without its escape sequences."""

    def __init__(self) -> None:
        self.raw = bytearray()
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()

    def data_received(self, data: bytes, datatype: Any) -> None:
        self.raw += data
        self.changed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        self.changed.set()

    @property
    def text(self) -> str:
        return ESCAPES.sub("", self.raw.decode("utf-8", "replace"))

    def mark(self) -> int:
        """Where the output is now: `wait_for(..., after=mark)` looks only at what comes next."""
        return len(self.raw)

    async def wait_for(self, needle: str, timeout: float = WAIT, *, after: int = 0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            text = ESCAPES.sub("", bytes(self.raw[after:]).decode("utf-8", "replace"))
            if needle in text:
                return text
            if self.closed.is_set() or loop.time() > deadline:
                raise AssertionError(f"{needle!r} not on screen after {timeout} s; saw: {text[-2000:]!r}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), max(0.05, deadline - loop.time()))
            except TimeoutError:
                pass


async def connect(
    server: ConsoleServer, key: asyncssh.SSHKey | None = None, **options: Any
) -> asyncssh.SSHClientConnection:
    return await asyncssh.connect(
        "127.0.0.1",
        server.port,
        username="operator",
        client_keys=[key] if key is not None else None,
        known_hosts=None,
        agent_path=None,
        preferred_auth=options.pop("preferred_auth", "publickey"),
        **options,
    )


async def open_console(
    conn: asyncssh.SSHClientConnection, size: tuple[int, int] = (120, 40), term: str = "xterm-256color"
) -> tuple[asyncssh.SSHClientChannel[bytes], Screen]:
    channel, screen = await conn.create_session(
        Screen, term_type=term, term_size=size, encoding=None, request_pty="force"
    )
    return channel, screen
