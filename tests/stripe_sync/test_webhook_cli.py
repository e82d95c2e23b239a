"""`backoffice stripe webhook` as a process, with STRIPE_API_KEY set and
Stripe hanging: deliveries are still answered at once and stored once, the
log has one escaped line per delivery and no traceback, and SIGTERM stops it
within 10 s although processing is stuck on Stripe."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from db.models import StripeEvent
from tests import factories
from tests.stripe_sync.webhook_support import SECRET, event_body, hanging_stripe, post, post_concurrently, sign

pytestmark = pytest.mark.slow


@dataclass
class Receiver:
    process: subprocess.Popen[bytes]
    url: str
    stderr_path: Path

    def stop(self) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        return code, time.monotonic() - started

    def log_lines(self) -> list[str]:
        return self.stderr_path.read_text().splitlines()


@pytest.fixture
def stripe_api() -> Iterator[str]:
    with hanging_stripe() as url:
        yield url


@pytest.fixture
def receiver(database_url: str, stripe_api: str, tmp_path: Path) -> Iterator[Receiver]:
    env = {
        **os.environ,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_KEY": "sk_test_hanging",
        "STRIPE_API_BASE": stripe_api,
    }
    env.pop("BACKOFFICE_DEBUG", None)
    stderr_path = tmp_path / "stderr.txt"
    command = [
        str(Path(sys.executable).parent / "backoffice"),
        "--database-url",
        database_url,
        "stripe",
        "webhook",
        "--port",
        "0",
    ]
    with stderr_path.open("wb") as stderr_file:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr_file, env=env)
    try:
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline and process.poll() is None:
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+/stripe/webhook)", stderr_path.read_text())
            url = found.group(1) if found else None
            time.sleep(0.05)
        assert url, stderr_path.read_text()
        yield Receiver(process, url, stderr_path)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _subscribed_customers(engine: Engine, count: int) -> list[str]:
    """Customers with a subscription, so processing their events calls Stripe."""
    customers = [f"cus_hang{index:03d}" for index in range(count)]
    with engine.begin() as conn:
        for customer in customers:
            factories.tenant(conn, plan="Standard", stripe_customer_id=customer)
    return customers


def test_deliveries_are_answered_at_once_and_stored_once_while_stripe_hangs(receiver: Receiver, engine: Engine) -> None:
    customers = _subscribed_customers(engine, 40)
    bodies = [event_body(f"evt_hang_{index:04d}", customer=customers[index % len(customers)]) for index in range(200)]
    results = post_concurrently(receiver.url, [(body, sign(body)) for body in bodies], concurrency=20)

    assert [status for status, _ in results] == [200] * 200
    assert max(seconds for _, seconds in results) < 2
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(StripeEvent.status, func.count())
                .where(StripeEvent.id.like("evt_hang_%"))
                .group_by(StripeEvent.status)
            ).all()
        )
    assert stored == {"Pending": 200}  # Stripe never answered: nothing processed, nothing lost

    code, seconds = receiver.stop()
    assert code == 0 and seconds < 10
    lines = receiver.log_lines()
    assert sum(" customer.subscription.updated stored" in line for line in lines) == 200
    assert "stopped" in lines and not any("Traceback" in line for line in lines)


def test_a_forged_event_id_is_one_escaped_log_line(receiver: Receiver, engine: Engine) -> None:
    forged = event_body("evt_x\n2026-01-01 forged line\x1b[31m")
    assert post(receiver.url, forged, [sign(forged)])[0] == 200
    unsigned = event_body("evt_unsigned")
    assert post(receiver.url, unsigned, ["t=1,v1=00"])[0] == 400
    assert post(receiver.url, unsigned, ["t=1,v1=00\x1b[2J"])[0] == 400  # refused by the HTTP parser itself
    assert receiver.stop()[0] == 0

    lines = receiver.log_lines()
    [delivery] = [line for line in lines if "forged line" in line]
    assert "\\n2026-01-01 forged line\\x1b[31m" in delivery and "malformed" in delivery
    assert not any(line.startswith("2026-01-01 forged") for line in lines)
    assert not any("\x1b" in line or "\r" in line for line in lines)
    assert sum("rejected delivery: Invalid webhook signature." in line for line in lines) == 1
    assert sum("Error handling request" in line for line in lines) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(StripeEvent)).scalar_one() == 1


def test_hostile_deliveries_leave_no_traceback(receiver: Receiver, engine: Engine) -> None:
    bodies = [
        json.dumps({**json.loads(event_body("evt_base")), "id": "evt_" + "x" * 5000}).encode(),
        b'{"id": "evt_deep", "data": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b"\xff\xfe not utf-8",
    ]
    for body in bodies:
        assert post(receiver.url, body, [sign(body)])[0] == 200
    assert receiver.stop()[0] == 0
    lines = receiver.log_lines()
    assert sum(" malformed: " in line for line in lines) == 3
    assert not any("Traceback" in line for line in lines)
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(StripeEvent).where(StripeEvent.status == "Failed")
            ).scalar_one()
            == 3
        )


def test_the_receivers_own_pools_are_made_like_every_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    # Built by db.engine.make_engine: same database and password, the asked pool, and the role listener.
    from console.cli.stripe_cli import _pooled_engine
    from db.engine import DB_ROLE_ENV, make_engine

    monkeypatch.delenv(DB_ROLE_ENV, raising=False)
    without_role = make_engine("postgresql://clerk:p%40ss@db.invalid/backoffice")
    monkeypatch.setenv(DB_ROLE_ENV, "operator_ann")
    base = make_engine("postgresql://clerk:p%40ss@db.invalid/backoffice")
    pooled = _pooled_engine(base, 3, overflow=2)
    assert pooled.url == base.url and pooled.url.password == "p@ss"
    assert (pooled.pool.size(), pooled.pool._max_overflow) == (3, 2)
    assert (
        len(pooled.pool.dispatch.connect)
        == len(base.pool.dispatch.connect)
        == len(without_role.pool.dispatch.connect) + 1
    )
