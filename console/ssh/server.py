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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh
from sqlalchemy import Engine

from console.ssh.host_key import HostKey
from console.ssh.limits import FailedLogins, Limits, Unauthenticated
from console.ssh.operators_file import Operator, OperatorsConfig, OperatorsWatcher
from console.ssh.pty_console import CONSOLE_COMMAND, ConsoleProcess, TerminalSize
from core.operator_roles import can_become
from core.settings import SSH_SESSION_ENV
from db.engine import DB_ROLE_ENV

log = logging.getLogger("console.ssh")

DEFAULT_TERM = "xterm-256color"
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


class ConsoleSession(asyncssh.SSHServerSession):
    """One shell request: one console process, for as long as both last."""

    def __init__(self, server: ConsoleServer, login: LoginHandler, operator: Operator, key: bytes) -> None:
        self.server = server
        self.login = login
        self.operator = operator
        self.key = key
        self.process: ConsoleProcess | None = None
        self._channel: asyncssh.SSHServerChannel | None = None
        self._term: str | None = None
        self._size = TerminalSize(80, 24)
        self._last_input = time.monotonic()
        self._idle: asyncio.TimerHandle | None = None
        self._farewell: str | None = None
        self._gone = False

    # -- requests ------------------------------------------------------------------------

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self._channel = chan

    def pty_requested(
        self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Mapping[int, int]
    ) -> bool:
        self._term = term_type or DEFAULT_TERM
        self._size = _size(term_size)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.login.refused("command execution")
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        self.login.refused("subsystem")
        return False

    def session_started(self) -> None:
        self.server.spawn(self._start())

    async def _start(self) -> None:
        if self._term is None:
            self._refuse("the back-office console needs a terminal: connect with ssh -t")
            return
        if not self.server.admit(self):
            self.login.refused("session (too many open)")
            self._refuse(f"too many sessions are open ({self.server.settings.limits.max_sessions}); try again later")
            return
        try:
            ready = await asyncio.get_running_loop().run_in_executor(None, self.server.role_ready, self.operator)
        except Exception:  # noqa: BLE001 - the database is down: the console would only say so
            ready = False
        if not ready:
            log.warning(
                "ssh session of %s refused: the server cannot become role %s", self.operator.name, self.operator.db_role
            )
            self._refuse("your database role is not set up: ask an admin to run backoffice operators apply")
            return
        if self._gone:  # the client left during the check
            self.server.release(self)
            return
        assert self._channel is not None
        env = self.server.console_environment(self.operator, self._term, self._channel.get_environment())
        self.process = await ConsoleProcess.start(
            env=env,
            size=self._size,
            on_output=self._output,
            on_exit=self._exited,
            command=self.server.settings.console_command,
        )
        if self._gone:  # the client left while the console started
            self.server.spawn(self.process.stop(hang_up=True, grace=self.server.settings.limits.stop_grace))
            return
        self._arm_idle()

    def _refuse(self, message: str) -> None:
        self.server.release(self)
        if self._channel is not None and not self._gone:
            self._channel.write(f"backoffice: {message}\r\n".encode())
            self._channel.exit(1)

    # -- data both ways --------------------------------------------------------------

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self._last_input = time.monotonic()
        if self.process is not None:
            self.process.write(data)

    def _output(self, data: bytes) -> None:
        if self._channel is not None and not self._gone:
            self._channel.write(data)

    def pause_writing(self) -> None:
        if self.process is not None:
            self.process.pause_output()

    def resume_writing(self) -> None:
        if self.process is not None:
            self.process.resume_output()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self._size = _size((width, height, pixwidth, pixheight))
        if self.process is not None:
            self.process.resize(self._size)

    def eof_received(self) -> bool:
        return False  # the client will send no more keys: the session ends

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass  # the operator has no process to signal

    # -- the end ---------------------------------------------------------------------

    def _arm_idle(self) -> None:
        idle = self.server.settings.limits.idle_timeout
        remaining = self._last_input + idle - time.monotonic()
        if remaining <= 0:
            log.info("ssh session of %s ended: no input for %d s", self.operator.name, int(idle))
            self.server.spawn(self.end(f"no input for {_duration(idle)}: session closed"))
            return
        self._idle = asyncio.get_running_loop().call_later(remaining, self._arm_idle)

    async def end(self, farewell: str) -> None:
        """The server ends the session: the console restores the client's
        terminal, then the farewell line and the channel's close."""
        self._farewell = farewell
        if self.process is not None and self.process.running:
            await self.process.stop(hang_up=False, grace=self.server.settings.limits.stop_grace)
        elif self.process is None:
            self._refuse(farewell)

    def _exited(self, code: int) -> None:
        self.server.release(self)
        if self._idle is not None:
            self._idle.cancel()
        if self._channel is None or self._gone:
            return
        if self._farewell:
            self._channel.write(f"\r\nbackoffice: {self._farewell}\r\n".encode())
        self._channel.exit(code if 0 <= code <= 255 else 128 + min(abs(code), 127))

    def connection_lost(self, exc: Exception | None) -> None:
        """The client went away: hang up its console (SIGHUP, then SIGKILL)."""
        self._gone = True
        if self._idle is not None:
            self._idle.cancel()
        if self.process is not None and self.process.running:
            self.server.spawn(self.process.stop(hang_up=True, grace=self.server.settings.limits.stop_grace))
        elif self.process is None:
            self.server.release(self)

    def kill_now(self) -> None:
        if self.process is not None:
            self.process.kill_now()


def _size(term_size: Sequence[int]) -> TerminalSize:
    width, height, pixwidth, pixheight = (list(term_size) + [0, 0, 0, 0])[:4]
    return TerminalSize(width or 80, height or 24, pixwidth, pixheight)


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
