"""Time is UTC-aware everywhere; tests pass a fixed `now`."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
