"""Which threads hold a pooled database connection, from SQLAlchemy's pool
events (every engine's pool), and a Stripe gateway that notes each call made
while its own thread holds one: a call inside a transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool


class HeldConnections:
    def __init__(self) -> None:
        self._holders: dict[int, int] = {}  # id(pool record) -> thread id

    def checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        self._holders[id(record)] = threading.get_ident()

    def checkin(self, dbapi_connection: Any, record: Any) -> None:
        self._holders.pop(id(record), None)

    def held_here(self) -> bool:
        return threading.get_ident() in self._holders.values()


@contextmanager
def watching_connections() -> Iterator[HeldConnections]:
    held = HeldConnections()
    event.listen(Pool, "checkout", held.checkout)
    event.listen(Pool, "checkin", held.checkin)
    try:
        yield held
    finally:
        event.remove(Pool, "checkout", held.checkout)
        event.remove(Pool, "checkin", held.checkin)


class GuardedStripe:
    """Wraps a gateway (or a StripeClient): every call is noted in `calls`,
    and in `calls_holding_a_connection` when its thread held one."""

    def __init__(self, gateway: Any, held: HeldConnections) -> None:
        self._gateway = gateway
        self._held = held
        self.calls: list[str] = []
        self.calls_holding_a_connection: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._gateway, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if self._held.held_here():
                self.calls_holding_a_connection.append(name)
            return attribute(*args, **kwargs)

        return call
