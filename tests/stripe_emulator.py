"""A local Stripe emulator (localstripe) for tests: started once per test session.

Fixtures (import them into a conftest.py to use them elsewhere:
`from tests.stripe_emulator import localstripe, localstripe_url  # noqa: F401`):

- `localstripe_url` (session): base URL of a running `localstripe --from-scratch`
  on a random free port, e.g. `http://127.0.0.1:40123`. Stopped by PID at the end.
- `localstripe` (function): the same emulator, emptied first (`DELETE /_config/data`),
  as an `Emulator`: `.url`, `.api_key`, `.sdk` (a raw `stripe.StripeClient` for
  arranging data), `.client(**kwargs)` (our `stripe_sync.client.StripeClient`),
  `.configure_webhook(id, url, secret)`, and builders (`.standard_catalog()`,
  `.customer_with_card(...)`, `.subscribe(...)`).

localstripe binds every interface: it runs only here, on a throwaway port.
It posts each event to the webhooks configured about 1 s after the event, even
after a reset: a receiver may get a few events of the previous test.
What it lacks (Prices, schedules, `customer.subscription.updated`, credit notes,
proration) is covered with recorded payloads under tests/stripe_sync/fixtures/api/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import stripe

from stripe_sync.client import StripeClient

API_KEY = "sk_test_emulator"
STARTUP_SECONDS = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _localstripe_executable() -> str:
    candidate = Path(sys.executable).parent / "localstripe"
    if not candidate.exists():
        # A test dependency: its absence is a broken install, never a reason to skip.
        pytest.fail("localstripe is not installed in this environment (pip install -e '.[test]')")
    return str(candidate)


def _request(url: str, method: str = "GET", data: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Bearer {API_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited at start with code {process.returncode}")
        try:
            if _request(f"{url}/v1/plans") == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"localstripe did not answer on {url} within {STARTUP_SECONDS:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [_localstripe_executable(), "--port", str(port), "--from-scratch"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            _wait_until_up(url, process)
            yield url
        finally:
            _stop(process)


@dataclass
class Emulator:
    url: str
    api_key: str = API_KEY
    sdk: stripe.StripeClient = field(init=False)
    webhook_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.sdk = stripe.StripeClient(self.api_key, base_addresses={"api": self.url}, max_network_retries=0)

    def client(self, **kwargs: Any) -> StripeClient:
        kwargs.setdefault("timeout", 5)
        kwargs.setdefault("max_retries", 0)
        return StripeClient(self.api_key, self.url, **kwargs)

    def reset(self) -> None:
        status = _request(f"{self.url}/_config/data", method="DELETE")
        assert status == 200, f"localstripe reset answered {status}"

    def configure_webhook(self, webhook_id: str, url: str, secret: str, events: list[str] | None = None) -> None:
        """localstripe signs and POSTs every later event (about 1 s after it) to `url`."""
        form: list[tuple[str, str]] = [("url", url), ("secret", secret)]
        form += [("events[]", event) for event in events or []]
        data = "&".join(f"{key}={urllib.request.quote(value, safe='')}" for key, value in form).encode()
        status = _request(f"{self.url}/_config/webhooks/{webhook_id}", method="POST", data=data)
        assert status == 200, f"localstripe webhook configuration answered {status}"
        self.webhook_ids.add(webhook_id)

    def disable_webhooks(self) -> None:
        # localstripe cannot forget a webhook: narrow it to an event type that never happens.
        for webhook_id in self.webhook_ids:
            self.configure_webhook(webhook_id, "http://127.0.0.1:9/", "disabled", events=["never.happens"])
        self.webhook_ids.clear()

    # -- builders for the usual arrangement ---------------------------------

    def standard_catalog(self, currency: str = "dkk") -> dict[str, str]:
        """Legacy Plans standard_monthly (149.00) and premium_monthly (299.00), one product each."""
        products = {}
        for plan_id, name, amount in (("standard_monthly", "Standard", 14900), ("premium_monthly", "Premium", 29900)):
            product = self.sdk.v1.products.create(params={"name": name, "type": "service"})
            self.sdk.v1.plans.create(
                params={
                    "id": plan_id,
                    "product": product.id,
                    "amount": amount,
                    "currency": currency,
                    "interval": "month",
                }
            )
            products[plan_id] = product.id
        return products

    def customer_with_card(self, *, exp_year: int = 2030, **customer: Any) -> str:
        created = self.sdk.v1.customers.create(params=customer)
        method = self.sdk.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": exp_year, "cvc": "123"},
            }
        )
        self.sdk.v1.payment_methods.attach(method.id, params={"customer": created.id})
        self.sdk.v1.customers.update(created.id, params={"invoice_settings": {"default_payment_method": method.id}})
        return str(created.id)

    def subscribe(self, customer_id: str, plan_id: str = "standard_monthly") -> str:
        subscription = self.sdk.v1.subscriptions.create(params={"customer": customer_id, "items": [{"plan": plan_id}]})
        return str(subscription.id)


@pytest.fixture
def localstripe(localstripe_url: str) -> Iterator[Emulator]:
    emulator = Emulator(localstripe_url)
    emulator.reset()
    yield emulator
    emulator.disable_webhooks()
