"""One SSH shell session of the console server (server.py): the console
process on its own pseudo-terminal, the data both ways, the window size, the
idle timeout, and the end, whichever side ends it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import asyncssh

from console.ssh.operators_file import Operator
from console.ssh.pty_console import ConsoleProcess, TerminalSize

if TYPE_CHECKING:
    from console.ssh.server import ConsoleServer, LoginHandler

log = logging.getLogger("console.ssh")

DEFAULT_TERM = "xterm-256color"


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
