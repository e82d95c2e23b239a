from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, datetime

from core import ids

AT = datetime(2026, 5, 6, 10, 0, tzinfo=UTC)


def test_billing_event_id_is_deterministic_base32hex_of_sha256() -> None:
    expected_digest = hashlib.sha256(b"sub_01|SubscriptionCreated|evt_123|2026-05-06T10:00:00.000000+00:00").digest()[
        :16
    ]
    expected = "bilev_" + base64.b32hexencode(expected_digest).decode().rstrip("=")
    value = ids.billing_event_id("sub_01", "SubscriptionCreated", "evt_123", AT)
    assert value == expected
    assert len(value) == len("bilev_") + 26
    assert set(value[6:]) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUV")


def test_billing_event_id_normalises_the_time_zone_and_changes_with_any_part() -> None:
    from datetime import timedelta, timezone

    same_instant = AT.astimezone(timezone(timedelta(hours=2)))
    assert ids.billing_event_id("s", "T", "e", AT) == ids.billing_event_id("s", "T", "e", same_instant)
    assert ids.billing_event_id("s", "T", "e", AT) != ids.billing_event_id("s", "T", "e2", AT)


def test_ulid_is_time_ordered_and_reproducible_with_a_seed() -> None:
    first = ids.ulid(AT, random.Random(1))
    assert first == ids.ulid(AT, random.Random(1))
    assert len(first) == 26
    assert ids.ulid(AT.replace(second=1), random.Random(0)) > ids.ulid(AT, random.Random(0))


def test_tenant_ids_are_time_ordered_64_bit() -> None:
    earlier = ids.tenant_id(AT, 5)
    later = ids.tenant_id(AT.replace(minute=1), 0)
    assert 0 < earlier < later < 2**63
