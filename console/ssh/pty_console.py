"""One console process on a pseudo-terminal of its own.

The console (`backoffice console`) runs as the leader of a new session with
the terminal's slave side as its controlling terminal, so it gets SIGWINCH
when the window changes and SIGHUP when the terminal goes away, as under
sshd. The server holds the master side: what the console writes is read
from it, what the client types is written to it.

Stopping: a client that went away gets SIGHUP (the console leaves at once:
there is no screen to restore); a session the server ends (idle, revoked,
shutdown) gets SIGTERM first, so the console restores the client's terminal.
Either way SIGKILL follows after the grace time, to the whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

READ_SIZE = 65536
# Keys typed while the console does not read are dropped beyond this.
MAX_PENDING_INPUT = 1 << 20

# `backoffice console` in this interpreter, without relying on the entry
# script being on PATH (a virtualenv the unit names by its python).
CONSOLE_COMMAND = (
    sys.executable,
    "-c",
    "import sys; sys.argv[0] = 'backoffice'; from console.cli import main; main()",
    "console",
)


@dataclass(frozen=True)
class TerminalSize:
    columns: int
    rows: int
    pixel_width: int = 0
    pixel_height: int = 0

    def packed(self) -> bytes:
        clamp = lambda value: max(0, min(int(value), 0xFFFF))  # noqa: E731 - the ioctl's unsigned shorts
        return struct.pack(
            "HHHH", clamp(self.rows), clamp(self.columns), clamp(self.pixel_width), clamp(self.pixel_height)
        )


def _take_controlling_terminal() -> None:
    """In the child, after setsid: the pseudo-terminal on stdin becomes its
    controlling terminal (nothing else runs between fork and exec)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class ConsoleProcess:
    """Start with `await ConsoleProcess.start(...)`; `on_output(bytes)` gets
    what the console writes, `on_exit(code)` is called once it ended and its
    output was read."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        master: int,
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
    ) -> None:
        self._process = process
        self._master = master
        self._on_output = on_output
        self._on_exit = on_exit
        self._loop = asyncio.get_running_loop()
        self._pending = bytearray()
        self._writing = False
        self._reading = False
        self._output_done = asyncio.Event()
        self._exited = asyncio.Event()
        self._exit_code: int | None = None
        self._watch = asyncio.ensure_future(self._watch_exit())
        self.resume_output()

    @classmethod
    async def start(
        cls,
        *,
        env: Mapping[str, str],
        size: TerminalSize,
        on_output: Callable[[bytes], None],
        on_exit: Callable[[int], None],
        command: Sequence[str] = CONSOLE_COMMAND,
    ) -> ConsoleProcess:
        master, slave = pty.openpty()
        try:
            fcntl.ioctl(master, termios.TIOCSWINSZ, size.packed())
            os.set_blocking(master, False)
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=dict(env),
                start_new_session=True,
                preexec_fn=_take_controlling_terminal,
                close_fds=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)  # the child holds it now: its exit shows as EOF on the master
        return cls(process, master, on_output, on_exit)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process.returncode is None

    # -- output ------------------------------------------------------------------

    def pause_output(self) -> None:
        """The client reads slower than the console writes: stop reading."""
        if self._reading and self._master >= 0:
            self._loop.remove_reader(self._master)
            self._reading = False

    def resume_output(self) -> None:
        if not self._reading and self._master >= 0 and not self._output_done.is_set():
            self._loop.add_reader(self._master, self._read)
            self._reading = True

    def _read(self) -> None:
        try:
            data = os.read(self._master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as error:  # EIO: every holder of the slave side has closed it
            if error.errno not in (errno.EIO, errno.EBADF):
                raise
            data = b""
        if data:
            self._on_output(data)
            return
        self.pause_output()
        self._output_done.set()

    # -- input -------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._master < 0 or not self.running:
            return
        if len(self._pending) + len(data) > MAX_PENDING_INPUT:
            return
        self._pending += data
        self._flush()

    def _flush(self) -> None:
        while self._pending and self._master >= 0:
            try:
                written = os.write(self._master, self._pending)
            except BlockingIOError:
                break
            except OSError:
                self._pending.clear()
                break
            del self._pending[:written]
        if self._pending and not self._writing and self._master >= 0:
            self._loop.add_writer(self._master, self._flush)
            self._writing = True
        elif not self._pending and self._writing:
            self._loop.remove_writer(self._master)
            self._writing = False

    # -- the window --------------------------------------------------------------

    def resize(self, size: TerminalSize) -> None:
        if self._master < 0:
            return
        fcntl.ioctl(self._master, termios.TIOCSWINSZ, size.packed())
        # The kernel signals the terminal's foreground group itself; the
        # console leads its own group, so saying it again is harmless.
        self._signal(signal.SIGWINCH)

    # -- the end -----------------------------------------------------------------

    async def _watch_exit(self) -> None:
        code = await self._process.wait()
        # Output written just before the exit is still in the terminal: read
        # it, but never wait long for a grandchild that kept the terminal.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._output_done.wait(), 1.0)
        self._close_master()
        self._exit_code = code
        self._exited.set()
        self._on_exit(code)

    async def wait(self) -> int:
        await self._exited.wait()
        assert self._exit_code is not None
        return self._exit_code

    def _signal(self, signum: int) -> None:
        # Only while the child is not reaped: afterwards its id may be reused.
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signum)

    async def stop(self, *, hang_up: bool, grace: float) -> None:
        """End the console: SIGHUP (the client is gone) or SIGTERM (the
        server ends it), then SIGKILL to its group after `grace` seconds."""
        if self.running:
            self._signal(signal.SIGHUP if hang_up else signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.shield(self._process.wait()), grace)
            except TimeoutError:
                self._signal(signal.SIGKILL)
                await self._process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._exited.wait()), 2.0)
        self._close_master()

    def kill_now(self) -> None:
        """At interpreter exit, when nothing can be awaited any more."""
        self._signal(signal.SIGKILL)

    def _close_master(self) -> None:
        if self._master < 0:
            return
        self.pause_output()
        if self._writing:
            self._loop.remove_writer(self._master)
            self._writing = False
        os.close(self._master)
        self._master = -1
