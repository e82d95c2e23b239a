"""Fixtures of the stripe_sync tests: the local Stripe emulator, a server
answering from recorded Stripe responses, and a reader login."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from tests.stripe_emulator import localstripe, localstripe_url  # noqa: F401
from tests.stripe_sync.recorded_stripe import RecordedStripe


@pytest.fixture
def reader(database_url: str) -> Iterator[Engine]:
    """An engine that logs in as a role in backoffice_reader."""
    role = f"reader_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN IN ROLE backoffice_reader"))
    engine = create_engine(make_url(database_url).set(username=role, password=None))
    yield engine
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"DROP OWNED BY {role}"))
        conn.execute(text(f"DROP ROLE {role}"))
    admin.dispose()


@pytest.fixture
def recorded_stripe() -> Iterator[RecordedStripe]:
    """A Stripe-like server answering from tests/stripe_sync/fixtures/api (see recorded_stripe.py)."""
    server = RecordedStripe()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
