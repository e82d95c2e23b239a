"""The operator's keys in the real program, in a pseudo-terminal at 80x24:
vim and less movement, sorting on its own keys, a footer that keeps esc, ?
and q, focus where the first key acts, `--kiosk` without the word `console`,
and admin actions that check before they ask and ask before they run."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pexpect
from sqlalchemy import Engine

from tests.console.lists_data import Platform
from tests.console.lists_fixtures import (  # noqa: F401
    lists_database,
    lists_engine,
    platform,
    quiet_dashboard,
    reader_engine,
)
from tests.console.test_terminal import BACKOFFICE, Terminal

ESCAPE = "\x1b"
ENTER = "\r"
PAGE_DOWN = "\x1b[6~"
FOOTER = ("esc Back", "? Help", "q Quit")


@contextmanager
def backoffice(
    engine: Engine, tmp_path: Path, *args: str, stripe: bool = False
) -> Iterator[tuple[pexpect.spawn, Terminal]]:
    """`backoffice --database-url URL ARGS` at 80x24; quits with q on leaving."""
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "TERM": "xterm-256color", "BACKOFFICE_CONFIG_DIR": str(tmp_path), "BACKOFFICE_LOCALE": "en-US"}
    env.pop("NO_COLOR", None)
    env.pop("STRIPE_API_KEY", None)
    if stripe:
        env["STRIPE_API_KEY"] = "sk_test_never_called"  # every dialog here is cancelled: Stripe is never asked
    child = pexpect.spawn(
        str(BACKOFFICE), ["--database-url", url, *args], env=env, dimensions=(24, 80), encoding="utf-8", timeout=30
    )
    try:
        yield child, Terminal(child)
    finally:
        child.close(force=True)


def press(child: pexpect.spawn, *keys: str) -> None:
    for key in keys:
        child.send(key)
        time.sleep(0.3)  # a lone escape is told from an escape sequence by a pause


def quit_(child: pexpect.spawn, terminal: Terminal) -> None:
    for _ in range(5):
        child.send("q")
        if child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=6) == 0:
            break
    child.close()
    assert child.exitstatus == 0, terminal.text[-1000:]


def since(terminal: Terminal, start: int) -> str:
    return terminal.text[start:]


def test_keys_of_an_operator_without_stripe(lists_engine: Engine, platform: Platform, tmp_path: Path) -> None:
    with backoffice(lists_engine, tmp_path) as (child, terminal):  # no `console`: it is the default command
        terminal.wait_for("TOTAL ACCOUNTS", *FOOTER)
        # The dashboard scrolls with G and g at once.
        press(child, "G")
        terminal.wait_for("MRR movements")  # the last card
        press(child, "g")
        terminal.wait_for("TOTAL ACCOUNTS")
        # Lists: sorted by name, and j/g/G move the cursor within the page.
        press(child, "a")
        terminal.wait_for("Sorted by Name ↑", *FOOTER)
        press(child, "G", ENTER)
        terminal.wait_for("Solstrand", "Billing drift detected", *FOOTER)
        drift = terminal.text
        terminal.wait_for("Acknowledge it with A once understood")
        # Stripe is not configured: s and R say so at once, and are not offered.
        opened = len(drift)
        press(child, "s")
        terminal.wait_for("Stripe is not configured")
        press(child, "R")
        terminal.wait_for("Stripe is not configured")
        assert "Sync with Stripe" not in since(terminal, opened)
        press(child, ESCAPE)
        terminal.wait_for("Sorted by Name ↑")
        press(child, "g", "j", ENTER)  # the second row: Fjordhus, no drift
        terminal.wait_for("Fjordhus A/S", *FOOTER)
        press(child, "A")
        terminal.wait_for("nothing to")
        press(child, ESCAPE)
        # Sorting has its own keys, and the order is said.
        press(child, ">")
        terminal.wait_for("Sorted by Plan ↓")
        press(child, "I")
        terminal.wait_for("Sorted by Plan ↑")
        press(child, "o")  # the operator menu, on the accounts list too
        terminal.wait_for("Operator · ")
        press(child, ESCAPE)
        # Back on the dashboard, the page keys scroll at once.
        press(child, "d")
        terminal.wait_for(*FOOTER)
        press(child, PAGE_DOWN)
        terminal.wait_for("Premium")  # the plan chart, below the first screenful
        # A person opens with the memberships focused: enter opens the account.
        press(child, "u")
        terminal.wait_for("Most recently seen first", *FOOTER)
        press(child, ENTER)
        terminal.wait_for("Memberships", *FOOTER)
        press(child, ENTER)
        terminal.wait_for("Overview", "Billing events", *FOOTER)
        # The help scrolls with the same keys and says nothing of a kiosk on k.
        start = len(terminal.text)
        press(child, "?")
        terminal.wait_for("Everywhere")
        press(child, "G")
        terminal.wait_for("ctrl+q quits")
        press(child, "g")
        terminal.wait_for("Everywhere")
        assert "k  Kiosk" not in since(terminal, start)
        press(child, ESCAPE)
        quit_(child, terminal)


def test_admin_actions_ask_first_with_cancel_focused(lists_engine: Engine, platform: Platform, tmp_path: Path) -> None:
    with backoffice(lists_engine, tmp_path, "console", stripe=True) as (child, terminal):
        terminal.wait_for("TOTAL ACCOUNTS", *FOOTER)
        press(child, "a")
        terminal.wait_for("Sorted by Name ↑")
        press(child, "G", ENTER)
        terminal.wait_for("Solstrand", "Sync with Stripe (s), or acknowledge it with A")
        # Sync asks first; a stray enter is Cancel.
        press(child, "s")
        terminal.wait_for("Sync Solstrand with Stripe?")
        start = len(terminal.text)
        press(child, ENTER)
        terminal.wait_for("Billing drift detected")
        assert "Syncing" not in since(terminal, start)
        # Disaster recovery: one enter runs nothing; the name must be typed.
        press(child, "R")
        terminal.wait_for("Disaster recovery", "type the account's name, Solstrand, or its id")
        start = len(terminal.text)
        press(child, ENTER)
        time.sleep(1)
        press(child, ESCAPE)
        terminal.wait_for("Billing drift detected")
        assert "Replaying" not in since(terminal, start)
        # Acknowledging asks too, with Cancel focused.
        press(child, "A")
        terminal.wait_for("Acknowledge billing drift of Solstrand?")
        press(child, ENTER)
        terminal.wait_for("Billing drift detected")
        quit_(child, terminal)


def test_a_reader_reads_drift_without_an_admin_hint(reader_engine: Engine, platform: Platform, tmp_path: Path) -> None:
    with backoffice(reader_engine, tmp_path) as (child, terminal):
        terminal.wait_for("TOTAL ACCOUNTS", *FOOTER)
        press(child, "a")
        terminal.wait_for("Sorted by Name ↑")
        start = len(terminal.text)
        press(child, "G", ENTER)
        terminal.wait_for("Solstrand", "Billing drift detected: 2 discrepancies", *FOOTER)
        time.sleep(1)
        press(child, "j")  # anything still on its way is drawn by now
        shown = since(terminal, start)
        assert "acknowledge it with A" not in shown and "Acknowledge it with A" not in shown
        quit_(child, terminal)


def test_kiosk_without_the_word_console(lists_engine: Engine, tmp_path: Path) -> None:
    with backoffice(lists_engine, tmp_path, "--kiosk", "--rotate", "5") as (child, terminal):
        terminal.wait_for("1/5", "Key figures")
        terminal.wait_for("2/5")  # rotates every 5 seconds, as asked
        child.send("q")  # a kiosk ignores q
        time.sleep(1)
        assert child.isalive()
        child.send("\x11")  # ctrl+q quits
        assert child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=10) == 0
        child.close()
        assert child.exitstatus == 0
