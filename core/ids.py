"""Identifier formats (docs/rules.md R13) and the deterministic
billing event id (docs/rules.md R7)."""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
from datetime import UTC, datetime

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SNOWFLAKE_EPOCH = datetime(2015, 1, 1, tzinfo=UTC)
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CROCKFORD.encode("ascii"))


def ulid(at: datetime, rng: random.Random | None = None) -> str:
    """A ULID: 48-bit millisecond time then 80 random bits, Crockford base32.
    Pass a seeded `rng` for reproducible ids (demo data, tests)."""
    millis = int(at.timestamp() * 1000)
    randomness = rng.getrandbits(80) if rng is not None else secrets.randbits(80)
    value = (millis << 80) | randomness
    # 130 bits as 26 base32 digits: placed at the top of 160 bits, the
    # standard encoder's first 26 digits, translated to Crockford's alphabet.
    digits = base64.b32encode((value << 30).to_bytes(20, "big"))[:26]
    return digits.translate(_TO_CROCKFORD).decode("ascii")


def prefixed(prefix: str, at: datetime, rng: random.Random | None = None) -> str:
    return f"{prefix}_{ulid(at, rng)}"


def tenant_id(at: datetime, sequence: int, generator: int = 0) -> int:
    """Snowflake-style time-ordered 64-bit id (IdGen defaults: 41 bits of
    milliseconds since 2015-01-01, 10 bits generator, 12 bits sequence)."""
    millis = int((at - SNOWFLAKE_EPOCH).total_seconds() * 1000)
    return (millis << 22) | ((generator & 0x3FF) << 12) | (sequence & 0xFFF)


def occurred_at_text(occurred_at: datetime) -> str:
    """ISO 8601 UTC with microseconds: 2026-05-06T10:00:00.000000+00:00."""
    return occurred_at.astimezone(UTC).isoformat(timespec="microseconds")


def billing_event_id(subscription_id: str, event_type: str, stripe_event_id: str, occurred_at: datetime) -> str:
    """`bilev_` + 26-char base32hex (RFC 4648 extended hex, no padding) of the
    first 16 bytes of SHA-256 over "sub|type|stripe event|occurred_at", so the
    same fact reached by any path (webhook, sync, backfill) gets the same id."""
    key = f"{subscription_id}|{event_type}|{stripe_event_id}|{occurred_at_text(occurred_at)}"
    digest = hashlib.sha256(key.encode("utf-8")).digest()[:16]
    return "bilev_" + base64.b32hexencode(digest).decode("ascii").rstrip("=")
