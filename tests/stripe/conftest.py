from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.stripe.recorded_stripe import RecordedStripe
from tests.stripe_emulator import localstripe, localstripe_url  # noqa: F401


@pytest.fixture
def recorded_stripe() -> Iterator[RecordedStripe]:
    """A Stripe-like server answering from tests/stripe/fixtures (see recorded_stripe.py)."""
    server = RecordedStripe()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)
