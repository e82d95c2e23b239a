"""The SSH server end to end: an asyncssh client on 127.0.0.1 with keys made
here, consoles on pseudo-terminals against a test database, each as its
operator's own PostgreSQL role."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import asyncssh
import psycopg
import psycopg.sql
import pytest
from sqlalchemy import create_engine

from console.ssh.limits import Limits
from console.ssh.server import ConsoleServer
from core.operator_roles import OperatorRole, role_name
from tests.ssh.support import (
    LOADED,
    OperatorKeys,
    apply,
    connect,
    libpq,
    make_operator,
    open_console,
    running_server,
    write_operators,
)

pytestmark = pytest.mark.slow

STOPPED_WITHIN = 5.0


@pytest.fixture
def team(database_url: str, role_prefix: str, tmp_path: Path) -> tuple[Path, OperatorKeys, OperatorKeys]:
    """alice (admin, English) and bob (reader, Danish), their roles applied."""
    alice = make_operator("alice", OperatorRole.admin)
    bob = make_operator("bob", OperatorRole.reader, locale="da-DK")
    path = tmp_path / "operators.toml"
    write_operators(path, [alice, bob])
    engine = create_engine(database_url)
    apply(engine, [alice, bob])
    engine.dispose()
    return path, alice, bob


def gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def wait_gone(pid: int, seconds: float = STOPPED_WITHIN) -> float:
    started = time.monotonic()
    while not gone(pid):
        if time.monotonic() - started > seconds:
            raise AssertionError(f"console process {pid} still running after {seconds} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def session_of(server: ConsoleServer, name: str):  # noqa: ANN201
    sessions = [session for session in server.sessions if session.operator.name == name and session.process]
    assert len(sessions) == 1, sessions
    return sessions[0]


def window_of(server: ConsoleServer, name: str) -> tuple[int, int]:
    """(columns, rows) of the operator's console's terminal, as its process sees it."""
    process = session_of(server, name).process
    rows, columns, _, _ = struct.unpack("HHHH", fcntl.ioctl(process._master, termios.TIOCGWINSZ, b"\0" * 8))
    return columns, rows


async def test_an_admin_sees_the_admin_badge_and_a_reader_neither_badge_nor_write(
    database_url: str, team: tuple[Path, OperatorKeys, OperatorKeys], tmp_path: Path
) -> None:
    path, alice, bob = team
    async with running_server(database_url, path, tmp_path) as server:
        async with await connect(server, alice.key) as conn:
            _, screen = await open_console(conn)
            await screen.wait_for(LOADED["en-US"])
            await screen.wait_for(" Admin ")
            assert "alice" in screen.text
        async with await connect(server, bob.key) as conn:
            _, screen = await open_console(conn)
            await screen.wait_for(LOADED["da-DK"])
            await asyncio.sleep(0.5)  # the admin check answers right after the first paint
            assert "bob" in screen.text and "Admin" not in screen.text
    # The reader's role itself: PostgreSQL refuses its writes.
    with psycopg.connect(libpq(database_url), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role_name("bob"))))
        assert conn.execute("SELECT current_user").fetchone() == (role_name("bob"),)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO tenants (id, created_at, name, state, plan) VALUES (77, now(), 'x', 'Active', 'Basis')"
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO operator_actions (operator, path, action, outcome) VALUES ('bob', 'ssh', 'sync', 'succeeded')"
            )


async def test_what_is_refused(
    database_url: str, team: tuple[Path, OperatorKeys, OperatorKeys], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, alice, _ = team
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    caplog.set_level(logging.INFO, logger="console.ssh")
    async with running_server(database_url, path, tmp_path) as server:
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(server, stranger)
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(server, None, password="secret-password", preferred_auth="password,keyboard-interactive")
        async with await connect(server, alice.key) as conn:
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.run("id", check=True)
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection("127.0.0.1", server.port)
            with pytest.raises(asyncssh.ChannelListenError):
                await conn.forward_remote_port("127.0.0.1", 0, "127.0.0.1", 9)
            with pytest.raises((asyncssh.SFTPError, asyncssh.ChannelOpenError)):
                await conn.start_sftp_client()
        await asyncio.sleep(0.2)
    lines = [record.getMessage() for record in caplog.records if record.name == "console.ssh"]
    logins = [line for line in lines if line.startswith("ssh login:")]
    assert logins[0].startswith("ssh login: unknown key SHA256:") and logins[0].endswith(": refused")
    assert stranger.get_fingerprint("sha256") in logins[0]
    assert logins[1].startswith("ssh login: no key - from 127.0.0.1:") and logins[1].endswith(": refused")
    assert logins[2].startswith(f"ssh login: alice {alice.key.get_fingerprint('sha256')} from 127.0.0.1:")
    assert logins[2].endswith(": accepted")
    assert len(logins) == 3
    assert any("command execution of alice" in line for line in lines)
    assert any("port forwarding of alice" in line for line in lines)
    everything = "\n".join(lines)
    assert "secret-password" not in everything and alice.public_line.split()[1] not in everything


async def test_two_sessions_run_side_by_side_with_their_own_sizes_and_locales(
    database_url: str, team: tuple[Path, OperatorKeys, OperatorKeys], tmp_path: Path
) -> None:
    path, alice, bob = team
    async with running_server(database_url, path, tmp_path) as server:
        async with await connect(server, alice.key) as alice_conn, await connect(server, bob.key) as bob_conn:
            alice_channel, alice_screen = await open_console(alice_conn, size=(100, 30))
            _, bob_screen = await open_console(bob_conn, size=(132, 43))
            await asyncio.gather(alice_screen.wait_for(LOADED["en-US"]), bob_screen.wait_for(LOADED["da-DK"]))
            assert "Opdateret" not in alice_screen.text and "Updated" not in bob_screen.text
            assert (window_of(server, "alice"), window_of(server, "bob")) == ((100, 30), (132, 43))
            alice_channel.change_terminal_size(90, 28)
            for _ in range(100):
                if window_of(server, "alice") == (90, 28):
                    break
                await asyncio.sleep(0.02)
            assert (window_of(server, "alice"), window_of(server, "bob")) == ((90, 28), (132, 43))
            assert session_of(server, "alice").process.pid != session_of(server, "bob").process.pid


async def test_closing_the_client_ends_its_console(
    database_url: str, team: tuple[Path, OperatorKeys, OperatorKeys], tmp_path: Path
) -> None:
    path, alice, _ = team
    async with running_server(database_url, path, tmp_path) as server:
        conn = await connect(server, alice.key)
        _, screen = await open_console(conn)
        await screen.wait_for(LOADED["en-US"])
        pid = session_of(server, "alice").process.pid
        conn.close()
        await wait_gone(pid)
        await asyncio.sleep(0.1)
        assert not server.sessions


async def test_editing_the_operators_file_takes_effect_for_the_next_login(
    database_url: str, team: tuple[Path, OperatorKeys, OperatorKeys], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, alice, bob = team
    carol = make_operator("carol", OperatorRole.reader)
    caplog.set_level(logging.INFO, logger="console.ssh")
    async with running_server(database_url, path, tmp_path) as server:
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(server, carol.key)
        async with await connect(server, alice.key) as conn:
            _, screen = await open_console(conn)
            await screen.wait_for(LOADED["en-US"])
            # A bad file: refused with its line, the last good one stays, the open session too.
            write_operators(
                path,
                [alice, bob, carol],
                extra='[[operators]]\nname = "dave"\nrole = "admin"\nshell = "/bin/sh"\nkeys = []\n',
            )
            await wait_for_log(caplog, "operators file refused")
            assert any("line 20: unknown field 'shell'" in record.getMessage() for record in caplog.records)
            with pytest.raises(asyncssh.PermissionDenied):
                await connect(server, carol.key)
            assert session_of(server, "alice").process.running
            # A good file: carol may log in, and alice's session is untouched.
            engine = create_engine(database_url)
            apply(engine, [alice, bob, carol])
            engine.dispose()
            write_operators(path, [alice, bob, carol])
            await wait_for_log(caplog, "operators file reloaded: 3 operator(s)")
            async with await connect(server, carol.key) as carol_conn:
                _, carol_screen = await open_console(carol_conn)
                await carol_screen.wait_for("carol")
            assert session_of(server, "alice").process.running
            # Removing alice ends her session (her terminal is restored, then a line says why).
            pid = session_of(server, "alice").process.pid
            write_operators(path, [bob, carol])
            await screen.wait_for("your access changed")
            await wait_gone(pid)
        with pytest.raises(asyncssh.PermissionDenied):
            await connect(server, alice.key)


async def wait_for_log(caplog: pytest.LogCaptureFixture, text: str, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not any(text in record.getMessage() for record in caplog.records):
        if time.monotonic() > deadline:
            raise AssertionError(f"no log line with {text!r}")
        await asyncio.sleep(0.05)


async def test_session_limits(database_url: str, team: tuple[Path, OperatorKeys, OperatorKeys], tmp_path: Path) -> None:
    path, alice, bob = team
    limits = Limits(max_sessions=1, idle_timeout=3.0, failure_delay=0.05, failure_delay_cap=0.2, stop_grace=2.0)
    async with running_server(database_url, path, tmp_path, limits) as server:
        async with await connect(server, alice.key) as conn:
            _, screen = await open_console(conn)
            await screen.wait_for(LOADED["en-US"])
            pid = session_of(server, "alice").process.pid
            async with await connect(server, bob.key) as bob_conn:
                _, refused = await open_console(bob_conn)
                await refused.wait_for("too many sessions are open (1)")
                await asyncio.wait_for(refused.closed.wait(), 5)
            # No input from alice for 3 s ends her session.
            await screen.wait_for("no input for 3s: session closed", timeout=15)
            await wait_gone(pid)
        # Without a terminal there is no console.
        async with await connect(server, bob.key) as conn:
            channel, plain = await conn.create_session(type(screen), encoding=None)
            await plain.wait_for("needs a terminal")


async def test_the_command_serves_reloads_on_sighup_and_stops_on_sigterm(
    database_url: str, team: tuple[Path, OperatorKeys, OperatorKeys], tmp_path: Path
) -> None:
    path, alice, _ = team
    host_key = tmp_path / "host_key"
    key = asyncssh.generate_private_key("ssh-ed25519")
    host_key.write_bytes(key.export_private_key())
    host_key.chmod(0o600)
    env = {name: value for name, value in os.environ.items() if not name.startswith("STRIPE_")}
    command = [
        sys.executable,
        "-c",
        "import sys; sys.argv[0] = 'backoffice'; from console.cli import main; main()",
        "--database-url",
        database_url,
        "ssh",
        "serve",
        "--port",
        "0",
        "--host-key",
        str(host_key),
        "--operators",
        str(path),
    ]
    process = await asyncio.create_subprocess_exec(*command, env=env, stderr=asyncio.subprocess.PIPE)
    try:
        lines: list[str] = []

        async def line_with(text: str) -> str:
            while True:
                line = (await asyncio.wait_for(process.stderr.readline(), WAIT_LINE)).decode()
                assert line, lines
                lines.append(line)
                if text in line:
                    return line

        assert key.get_fingerprint("sha256") in await line_with("host key fingerprint")
        port = int((await line_with("listening on ssh://127.0.0.1:")).strip().rsplit(":", 1)[1])
        conn = await asyncssh.connect(
            "127.0.0.1", port, username="x", client_keys=[alice.key], known_hosts=None, agent_path=None
        )
        conn.close()
        assert "ssh login: alice SHA256:" in await line_with("ssh login:")
        process.send_signal(signal.SIGHUP)
        await line_with("operators file reloaded: 2 operator(s)")
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
        assert "stopped" in (await process.stderr.read()).decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


WAIT_LINE = 60.0


async def test_connections_waiting_to_log_in_are_capped(
    database_url: str,
    team: tuple[Path, OperatorKeys, OperatorKeys],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Idle connections that never log in cannot pile up for the login grace
    time: past the cap a new one is closed at once, and the places free up
    as they end."""
    caplog.set_level(logging.INFO, logger="console.ssh")
    path, alice, _ = team
    limits = Limits(max_unauthenticated=4, max_unauthenticated_per_address=2, failure_delay=0.05, stop_grace=2.0)
    async with running_server(database_url, path, tmp_path, limits) as server:
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        deadline = time.monotonic() + 5
        while server.unauthenticated.waiting < 2:
            assert time.monotonic() < deadline, "the idle connections were never counted"
            await asyncio.sleep(0.02)
        with pytest.raises((asyncssh.Error, OSError)):
            await asyncio.wait_for(connect(server, alice.key), 5)
        await wait_for_log(caplog, "refused, too many connections waiting to log in")
        for _, writer in idle:
            writer.close()
        while server.unauthenticated.waiting:
            assert time.monotonic() < deadline, "closed connections still count"
            await asyncio.sleep(0.02)
        async with await connect(server, alice.key):
            assert server.unauthenticated.waiting == 0  # a logged-in connection no longer waits
