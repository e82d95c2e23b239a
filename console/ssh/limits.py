"""Session limits of the SSH server: durations as operators write them, the
growing delay after failed logins from one address, and how many connections
may be waiting to log in."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

DURATION = re.compile(r"(?P<amount>\d+(?:\.\d+)?)(?P<unit>[smhd]?)\Z")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`30`, `30s`, `15m`, `8h`, `1d` as seconds (more than 0); ValueError otherwise."""
    match = DURATION.match(text.strip().lower())
    if match is None:
        raise ValueError(f"{text!r} is not a duration: a number with s, m, h or d (8h, 30m)")
    seconds = float(match.group("amount")) * UNIT_SECONDS[match.group("unit")]
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError("a duration must be more than 0")
    return seconds


@dataclass(frozen=True)
class Limits:
    max_sessions: int = 20
    idle_timeout: float = 8 * 3600.0  # no input from the client for this long ends the session
    login_grace: float = 30.0  # to authenticate, from the TCP connection
    failure_delay: float = 1.0  # the first delay after a failed login; it doubles with each failure
    failure_delay_cap: float = 16.0  # under the login grace, so a delayed client can still log in
    failure_memory: float = 900.0  # an address's failures are forgotten this long after the last one
    stop_grace: float = 3.0  # a console that ignores its hang-up is killed after this long
    max_unauthenticated: int = 64  # connections not yet logged in, from everyone
    max_unauthenticated_per_address: int = 8  # ... and from one address


@dataclass
class FailedLogins:
    """Failed logins by client address: the next login from an address waits
    `delay_for(address)`, 1 s, 2 s, 4 s... up to the cap. A success clears
    the address; failures are forgotten after a quiet while."""

    limits: Limits
    clock: Callable[[], float] = time.monotonic
    max_addresses: int = 10_000  # a flood of addresses cannot grow it without bound
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def delay_for(self, address: str) -> float:
        count, last = self._failures.get(address, (0, 0.0))
        if not count or self.clock() - last > self.limits.failure_memory:
            return 0.0
        return min(self.limits.failure_delay_cap, self.limits.failure_delay * 2 ** (count - 1))

    def failed(self, address: str) -> None:
        now = self.clock()
        count, last = self._failures.pop(address, (0, now))
        if now - last > self.limits.failure_memory:
            count = 0
        self._failures[address] = (count + 1, now)  # re-inserted: the dict stays oldest first
        while len(self._failures) > self.max_addresses:
            del self._failures[next(iter(self._failures))]

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)


@dataclass
class Unauthenticated:
    """The connections not yet logged in, in all and by address. Past either
    limit a new connection is closed at once (OpenSSH's MaxStartups does the
    same): idle or trickling connections can otherwise hold sockets and
    memory for the whole login grace time, as many as a client cares to open."""

    limits: Limits
    _by_address: dict[str, int] = field(default_factory=dict)
    _total: int = 0

    def admit(self, address: str) -> bool:
        """Count a new connection from `address`, unless a limit is reached."""
        if self._total >= self.limits.max_unauthenticated:
            return False
        if self._by_address.get(address, 0) >= self.limits.max_unauthenticated_per_address:
            return False
        self._by_address[address] = self._by_address.get(address, 0) + 1
        self._total += 1
        return True

    def release(self, address: str) -> None:
        """An admitted connection logged in or ended."""
        count = self._by_address.pop(address, 0) - 1
        if count > 0:
            self._by_address[address] = count
        self._total = max(0, self._total - 1)

    @property
    def waiting(self) -> int:
        return self._total
