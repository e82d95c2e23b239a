"""Storing never fails on a body's content: whatever JSON sits where an
event's fields go, the body is stored once (as an event or as Failed), and
never raises. Runs against real PostgreSQL, each example in a savepoint."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from db.models import StripeEvent
from stripe_sync.ingest import Outcome, parse_event, store_event
from tests.factories import NOW

# Any code point, surrogates and NUL included: JSON can carry them all.
_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3), max_leaves=8
)
_ID = _JSON | _TEXT.map(lambda text: "evt_" + text)
_CUSTOMER = _JSON | _TEXT.map(lambda text: "cus_" + text)


@st.composite
def _events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {"id": draw(_ID), "type": draw(_TEXT | _JSON), "created": draw(_JSON | st.integers())}
    if draw(st.booleans()):
        event["api_version"] = draw(_TEXT | _JSON)
    event["data"] = draw(
        _JSON
        | st.fixed_dictionaries(
            {"object": st.fixed_dictionaries({"object": st.just("subscription"), "customer": _CUSTOMER})}
        )
    )
    return event


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=_events())
def test_any_event_shaped_body_is_stored_once(conn: Connection, event: dict[str, Any]) -> None:
    raw = json.dumps(event).encode()  # escapes lone surrogates, as a sender would have to
    savepoint = conn.begin_nested()
    try:
        outcome = store_event(conn, raw, parse_event(raw), NOW)
        again = store_event(conn, raw, parse_event(raw), NOW)
        count = conn.execute(
            select(func.count()).select_from(StripeEvent).where(StripeEvent.id == outcome.event_id)
        ).scalar_one()
    finally:
        savepoint.rollback()
    assert count == 1 and again.event_id == outcome.event_id
    assert outcome.outcome in (Outcome.stored, Outcome.ignored, Outcome.malformed)
    assert again.outcome in (Outcome.duplicate, Outcome.malformed)
