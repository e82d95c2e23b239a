"""The SSH server (asyncssh): public-key logins against the operators file,
one console process per session, as the operator's PostgreSQL role.

- Only public keys log in; passwords and keyboard-interactive are not
  offered. A shell is the only request granted: exec, subsystems (SFTP),
  port forwarding, agent forwarding, X11 and tunnels are refused.
- A session needs a pseudo-terminal; it runs `backoffice console` on one of
  its own (pty_console.py) with the client's TERM and window size, as the
  operator's role (BACKOFFICE_DB_ROLE), name and locale, and preferences of
  its own. The console process ends within seconds of the client leaving.
- One log line per connection: who (operator name, "unknown key" or "no
  key"), the key's SHA256 fingerprint, the client address and the outcome.
  Refused requests after a login are one line each. Never a key, a secret
  or raw client data (what is logged goes through the escaping formatter of
  console/cli/logs.py).
- Limits (limits.py): sessions at once, an idle timeout on client input, a
  login grace time, a growing delay after failed logins from an address,
  and a cap on the connections waiting to log in, in all and per address.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from sqlalchemy import Engine

from console.ssh.host_key import HostKey
from console.ssh.limits import FailedLogins, Limits, Unauthenticated
from console.ssh.operators_file import Operator, OperatorsConfig, OperatorsWatcher
from console.ssh.pty_console import CONSOLE_COMMAND
from console.ssh.session import DEFAULT_TERM, ConsoleSession
from core.operator_roles import can_become
from core.settings import SSH_SESSION_ENV
from db.engine import DB_ROLE_ENV

log = logging.getLogger("console.ssh")

TERM_SHAPE = re.compile(r"[A-Za-z0-9._+-]{1,64}\Z")
# What a client may tell the console about its terminal (ssh's SendEnv).
CLIENT_ENVIRONMENT = {"COLORTERM": re.compile(r"(truecolor|24bit)\Z"), "NO_COLOR": re.compile(r".{0,16}\Z")}
# The server's own terminal and desktop say nothing about a client's.
NOT_INHERITED = ("COLUMNS", "LINES", "COLORTERM", "NO_COLOR", "TMUX", "STY", "DISPLAY", "SSH_AUTH_SOCK", "WINDOWID")
# A peer that stops answering (a dead network) is dropped after about a minute.
KEEPALIVE_SECONDS = 15
KEEPALIVE_COUNT = 4


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    host_key: HostKey
    database_url: str  # what each console connects to, as the operator's role
    default_locale: str
    config_root: Path  # each operator's console preferences live in a folder here
    limits: Limits = field(default_factory=Limits)
    base_environment: Mapping[str, str] = field(default_factory=dict)
    console_command: Sequence[str] = CONSOLE_COMMAND
    reload_seconds: float = 2.0  # how often the operators file's mtime is looked at


class ConsoleServer:
    """`await start()`, then `await serve_forever()` or `await close()`."""

    def __init__(self, settings: ServerSettings, operators: OperatorsWatcher, engine: Engine) -> None:
        self.settings = settings
        self.operators = operators
        self.operators.on_change = self._operators_changed
        self.engine = engine  # the server's own role: only asks whether it may become an operator
        self.failures = FailedLogins(settings.limits)
        self.unauthenticated = Unauthenticated(settings.limits)
        self.sessions: set[ConsoleSession] = set()
        self._listener: asyncssh.SSHAcceptor | None = None
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = asyncio.Event()

    @property
    def config(self) -> OperatorsConfig:
        return self.operators.config

    @property
    def port(self) -> int:
        assert self._listener is not None
        return self._listener.get_port()

    async def start(self) -> None:
        settings = self.settings
        self._listener = await asyncssh.create_server(
            lambda: LoginHandler(self),
            settings.host,
            settings.port,
            server_host_keys=[settings.host_key.key],
            login_timeout=settings.limits.login_grace,
            encoding=None,
            line_editor=False,
            allow_pty=True,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_scp=False,
            password_auth=False,
            kbdint_auth=False,
            host_based_auth=False,
            gss_host=None,
            keepalive_interval=KEEPALIVE_SECONDS,
            keepalive_count_max=KEEPALIVE_COUNT,
            server_version="backoffice",
        )
        self._poller = asyncio.ensure_future(self._poll_operators())
        atexit.register(self._kill_consoles)

    async def serve_forever(self) -> None:
        await self._closed.wait()

    def reload(self) -> None:
        """SIGHUP: read the operators file now."""
        self.operators.reload()

    async def close(self) -> None:
        """Stop listening, end every session (their consoles restore the
        clients' terminals), and wait for the consoles to be gone."""
        if self._poller is not None:
            self._poller.cancel()
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
        await asyncio.gather(
            *(session.end("the server is shutting down") for session in list(self.sessions)), return_exceptions=True
        )
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        atexit.unregister(self._kill_consoles)
        self._closed.set()

    def spawn(self, coroutine: Any) -> None:
        """A task the server waits for on close (a console being stopped)."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _poll_operators(self) -> None:
        while True:
            await asyncio.sleep(self.settings.reload_seconds)
            self.operators.check()

    def _operators_changed(self, config: OperatorsConfig) -> None:
        """A key removed or moved to another operator or role ends its sessions."""
        for session in list(self.sessions):
            now = config.operator_for(session.key)
            if now is None or (now.name, now.role) != (session.operator.name, session.operator.role):
                log.info(
                    "ssh session of %s ended: its key or role changed in the operators file", session.operator.name
                )
                self.spawn(session.end("your access changed: log in again"))

    def _kill_consoles(self) -> None:
        for session in list(self.sessions):
            session.kill_now()

    # -- what a session needs ------------------------------------------------------

    def admit(self, session: ConsoleSession) -> bool:
        if len(self.sessions) >= self.settings.limits.max_sessions:
            return False
        self.sessions.add(session)
        return True

    def release(self, session: ConsoleSession) -> None:
        self.sessions.discard(session)

    def role_ready(self, operator: Operator) -> bool:
        """Runs in a thread: may the server become the operator's role?"""
        with self.engine.connect() as conn:
            return can_become(conn, operator.db_role)

    def console_environment(self, operator: Operator, term: str, client: Mapping[str, str]) -> dict[str, str]:
        settings = self.settings
        env = {name: value for name, value in settings.base_environment.items() if name not in NOT_INHERITED}
        preferences = settings.config_root / operator.name
        preferences.mkdir(mode=0o700, parents=True, exist_ok=True)
        env.update(
            {
                "BACKOFFICE_DATABASE_URL": settings.database_url,
                DB_ROLE_ENV: operator.db_role,
                "BACKOFFICE_OPERATOR": operator.name,
                "BACKOFFICE_LOCALE": operator.locale or settings.default_locale,
                SSH_SESSION_ENV: "1",
                "BACKOFFICE_CONFIG_DIR": str(preferences),
                "TERM": term if TERM_SHAPE.match(term) else DEFAULT_TERM,
            }
        )
        for name, shape in CLIENT_ENVIRONMENT.items():
            value = client.get(name)
            if isinstance(value, str) and shape.match(value):
                env[name] = value
        return env


def _address(conn: asyncssh.SSHServerConnection) -> tuple[str, str]:
    peer = conn.get_extra_info("peername") or ("?", 0)
    host = str(peer[0])
    return host, f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}"


class LoginHandler(asyncssh.SSHServer):
    """One TCP connection: its login, then its sessions."""

    def __init__(self, server: ConsoleServer) -> None:
        self.server = server
        self.host = "?"
        self.address = "?"
        self.operator: Operator | None = None
        self.key: bytes = b""
        self._offered: tuple[Operator | None, str, bytes] | None = None  # the last key offered
        self._auth_started = False
        self._logged = False
        self._waiting = False  # counted among the connections not yet logged in

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.host, self.address = _address(conn)
        self._waiting = self.server.unauthenticated.admit(self.host)
        if not self._waiting:
            self._logged = True
            log.info("ssh connection from %s: refused, too many connections waiting to log in", self.address)
            asyncio.get_running_loop().call_soon(conn.abort)

    def _logged_in_or_gone(self) -> None:
        if self._waiting:
            self._waiting = False
            self.server.unauthenticated.release(self.host)

    async def begin_auth(self, username: str) -> bool:
        self._auth_started = True
        delay = self.server.failures.delay_for(self.host)
        if delay:
            await asyncio.sleep(delay)
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def host_based_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # The username is not an identity here: the key is.
        operator = self.server.config.operator_for(key.public_data)
        self._offered = (operator, key.get_fingerprint("sha256"), key.public_data)
        return operator is not None

    def auth_completed(self) -> None:
        assert self._offered is not None and self._offered[0] is not None
        operator, fingerprint, self.key = self._offered
        assert operator is not None
        self.operator = operator
        self._logged_in_or_gone()
        self.server.failures.succeeded(self.host)
        self._log_login(operator.name, fingerprint, "accepted")

    def connection_lost(self, exc: Exception | None) -> None:
        self._logged_in_or_gone()
        if self._logged:
            return
        operator, fingerprint, _ = self._offered or (None, "-", b"")
        who = operator.name if operator else ("unknown key" if self._offered else "no key")
        timed_out = exc is not None and "Login timeout" in str(exc)
        self._log_login(who, fingerprint, "login timed out" if timed_out else "refused")
        if self._auth_started or timed_out:
            self.server.failures.failed(self.host)

    def _log_login(self, who: str, fingerprint: str, outcome: str) -> None:
        self._logged = True
        log.info("ssh login: %s %s from %s: %s", who, fingerprint, self.address, outcome)

    def refused(self, what: str) -> None:
        name = self.operator.name if self.operator else "unknown"
        log.info("ssh %s of %s from %s: refused", what, name, self.address)

    # -- requests after the login ------------------------------------------------------

    def session_requested(self) -> ConsoleSession | bool:
        if self.operator is None:
            return False
        return ConsoleSession(self.server, self, self.operator, self.key)

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        self.refused("port forwarding")
        return False

    def server_requested(self, listen_host: str, listen_port: int) -> bool:
        self.refused("remote port forwarding")
        return False

    def unix_connection_requested(self, dest_path: str) -> bool:
        self.refused("socket forwarding")
        return False

    def unix_server_requested(self, listen_path: str) -> bool:
        self.refused("remote socket forwarding")
        return False

    def tun_requested(self, unit: int | None) -> bool:
        self.refused("tunnel")
        return False

    def tap_requested(self, unit: int | None) -> bool:
        self.refused("tunnel")
        return False
