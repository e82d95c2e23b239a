"""The real program started with --kiosk in a pseudo-terminal at 80x24: every
letter, digit, escape, tab, enter, ctrl+p and ctrl+k leave it the kiosk;
ctrl+q quits with exit 0."""

from __future__ import annotations

import os
import string
import time
from pathlib import Path

import pexpect
from sqlalchemy import Engine

from tests.console.test_terminal import BACKOFFICE, Terminal

KEYS = [*string.ascii_lowercase, *string.ascii_uppercase, *string.digits, "\t", "\r", "\x10", "\x0b", " ", "?", "/"]
# What any other screen, dialog or the palette would write.
ELSEWHERE = (
    "Everywhere",  # help
    "Search for commands",  # the command palette
    "Operator ·",  # the operator menu
    "Leave kiosk mode?",
    "· Accounts",
    "· Users",
    "· Invoices",
    "Not available in kiosk mode",
)


def test_kiosk_in_a_pseudo_terminal_takes_no_key_but_ctrl_q(seeded_engine: Engine, tmp_path: Path) -> None:
    url = seeded_engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "TERM": "xterm-256color", "BACKOFFICE_CONFIG_DIR": str(tmp_path), "BACKOFFICE_LOCALE": "en-US"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(
        str(BACKOFFICE),
        ["--database-url", url, "console", "--kiosk", "--rotate", "1"],
        env=env,
        dimensions=(24, 80),
        encoding="utf-8",
        timeout=30,
    )
    terminal = Terminal(child)
    try:
        terminal.wait_for("TOTAL ACCOUNTS", "Key figures")
        start = len(terminal.text)
        child.send("\x1b")  # alone: followed at once by a letter it would read as alt+letter
        time.sleep(0.3)
        for key in KEYS:
            child.send(key)
            time.sleep(0.02)
        child.send("\x1b")
        time.sleep(0.3)
        # Still the kiosk: the rotation goes on through every panel.
        terminal.wait_for("2/5", "3/5", "4/5", "5/5", "1/5", timeout=30)
        shown = terminal.text[start:]
        assert [text for text in ELSEWHERE if text in shown] == []
        assert child.isalive()
        child.send("\x11")  # ctrl+q
        child.expect(pexpect.EOF, timeout=15)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, terminal.text[-1000:]
