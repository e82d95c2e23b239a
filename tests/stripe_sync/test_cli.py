"""`backoffice stripe webhook` and `backoffice stripe poll`: refusals in the
docs/rules.md R101 (rights, then configuration), output, shutdown."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from db.models import StripeEvent
from tests.cli_run import run_cli_captured
from tests.stripe_emulator import Emulator
from tests.stripe_sync.webhook_support import SECRET, event_body, post, sign


@pytest.mark.parametrize("command", ["poll", "webhook"])
def test_not_configured_exits_4(
    command: str, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli_captured(["--database-url", database_url, "stripe", command], monkeypatch, capsys)
    assert code == 4
    assert "Stripe is not configured" in err and out == ""


@pytest.mark.parametrize("command", ["poll", "webhook"])
def test_a_reader_is_refused_before_configuration_is_checked(
    command: str, reader_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli_captured(["--database-url", reader_url, "stripe", command], monkeypatch, capsys)
    assert code == 3
    assert "backoffice_admin" in err


def test_poll_json_against_the_emulator(
    localstripe: Emulator, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    localstripe.customer_with_card(name="Acme")
    env = {"STRIPE_API_KEY": localstripe.api_key, "STRIPE_API_BASE": localstripe.url}
    code, out, err = run_cli_captured(
        ["--database-url", database_url, "stripe", "poll", "--json"], monkeypatch, capsys, **env
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["listed"] == result["stored"] == 2 and result["skipped"] == 0 and result["complete"] is True
    assert result["cursor"]["last_event_id"].startswith("evt_")
    # No tenant carries that customer: its events wait for one.
    assert result["processing"] == {"processed": 0, "waiting": 1, "failed": []}

    code, out, _ = run_cli_captured(["--database-url", database_url, "stripe", "poll"], monkeypatch, capsys, **env)
    assert code == 0
    # The cursor's second is read again (1 or 2 events, by timing); nothing is stored twice.
    again = re.fullmatch(
        r"(\d) listed: 0 stored, 0 ignored \(no customer\), 0 malformed, (\d) already stored", out.strip()
    )
    assert again and again.group(1) == again.group(2) and again.group(1) in "12"


def test_poll_with_stripe_down_exits_1_with_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.stripe_emulator import free_port

    env = {"STRIPE_API_KEY": "sk_test_secret_value", "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}"}
    started = time.monotonic()
    code, out, err = run_cli_captured(["--database-url", database_url, "stripe", "poll"], monkeypatch, capsys, **env)
    assert code == 1 and out == ""
    assert err.startswith("error: cannot reach Stripe at http://127.0.0.1:") and len(err.strip().splitlines()) == 1
    assert "sk_test_secret_value" not in err
    assert time.monotonic() - started < 15  # two retries with backoff, no hang


def test_webhook_server_stores_and_stops_cleanly_on_sigterm(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "STRIPE_WEBHOOK_SECRET": SECRET}
    for name in ("STRIPE_API_KEY", "STRIPE_API_BASE"):
        env.pop(name, None)
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("wb") as stderr_file:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "backoffice"),
                "--database-url",
                database_url,
                "stripe",
                "webhook",
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            env=env,
        )
        try:
            url = None
            deadline = time.monotonic() + 20
            while url is None and time.monotonic() < deadline:
                found = re.search(r"listening on (http://127\.0\.0\.1:\d+/stripe/webhook)", stderr_path.read_text())
                url = found.group(1) if found else None
                time.sleep(0.05)
            assert url, stderr_path.read_text()
            body = event_body("evt_cli")
            assert post(url, body, [sign(body)]) == (200, "")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    log = stderr_path.read_text()
    assert "evt_cli customer.subscription.updated stored" in log
    assert "stopped" in log and SECRET not in log
    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(select(StripeEvent.status).where(StripeEvent.id == "evt_cli")).scalar_one() == "Pending"
    engine.dispose()


def test_webhook_on_a_busy_port_exits_1(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = run_cli_captured(
            ["--database-url", database_url, "stripe", "webhook", "--port", str(port)],
            monkeypatch,
            capsys,
            STRIPE_WEBHOOK_SECRET=SECRET,
        )
    assert code == 1 and f"cannot listen on 127.0.0.1:{port}" in err


def test_poll_processes_the_customers_it_stored_events_for(
    localstripe: Emulator, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from db.models import Subscription
    from tests import factories

    localstripe.standard_catalog()
    customer_id = localstripe.customer_with_card(name="Acme")
    subscription_id = localstripe.subscribe(customer_id)
    engine = create_engine(database_url)
    with engine.begin() as conn:
        tenant = factories.tenant(conn, plan="Basis", stripe_customer_id=customer_id)
    env = {"STRIPE_API_KEY": localstripe.api_key, "STRIPE_API_BASE": localstripe.url}
    code, out, err = run_cli_captured(["--database-url", database_url, "stripe", "poll"], monkeypatch, capsys, **env)
    assert code == 0, err
    assert "1 customers with new events: 1 processed, 0 without a subscription yet, 0 failed" in out
    with engine.connect() as conn:
        row = conn.execute(select(Subscription).where(Subscription.tenant_id == tenant.id)).one()
        statuses = set(
            conn.execute(select(StripeEvent.status).where(StripeEvent.stripe_customer_id == customer_id)).scalars()
        )
    engine.dispose()
    assert (row.plan, row.stripe_subscription_id) == ("Standard", subscription_id)
    assert statuses == {"Processed"}
