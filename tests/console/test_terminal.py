"""The real program in a pseudo-terminal at 80x24: start, read the dashboard,
press keys, quit."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pexpect
from sqlalchemy import Engine

BACKOFFICE = Path(sys.executable).parent / "backoffice"
ANSI = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])")


class Terminal:
    """What the program wrote, without escape sequences, read as it arrives."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self.text = ""

    def wait_for(self, *needles: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        start = len(self.text)
        while not all(needle in self.text[start:] for needle in needles):
            if time.monotonic() > deadline:
                raise AssertionError(f"{needles} not shown; screen text: {self.text[-2000:]!r}")
            try:
                chunk = self.child.read_nonblocking(65536, timeout=0.5)
            except pexpect.TIMEOUT:
                continue
            self.text += ANSI.sub("", chunk)


def test_console_in_a_pseudo_terminal(seeded_engine: Engine, tmp_path: Path) -> None:
    url = seeded_engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "TERM": "xterm-256color", "BACKOFFICE_CONFIG_DIR": str(tmp_path), "BACKOFFICE_LOCALE": "en-US"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(
        str(BACKOFFICE), ["--database-url", url, "console"], env=env, dimensions=(24, 80), encoding="utf-8", timeout=30
    )
    terminal = Terminal(child)
    try:
        terminal.wait_for("TOTAL ACCOUNTS", "Last 30 days", "DKK 746.00", "3 data-quality alerts")
        child.send("p")
        terminal.wait_for("Last 90 days")
        child.send("?")
        terminal.wait_for("Everywhere", "Command palette")
        child.send("\x1b")
        # On a busy machine the help screen may still be closing when `q`
        # arrives (a modal ignores it): press it again until the program ends.
        for _ in range(5):
            time.sleep(0.5)
            child.send("q")
            if child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=6) == 0:
                break
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, terminal.text[-1000:]
