"""The drift worker, `backoffice drift check`: Detect mode over every
subscription whose drift check is stale, against the local Stripe emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.clock import utcnow
from core.settings import Settings
from db.models import BillingEvent, StripeEvent, Subscription
from stripe_sync.catalog import PriceCatalog
from stripe_sync.drift_worker import check_stale
from stripe_sync.errors import CurrencyMismatch
from stripe_sync.snapshots import CustomerSnapshot, SubscriptionSnapshot
from tests import factories
from tests.cli_run import run_cli_captured
from tests.stripe_emulator import Emulator

LONG_AGO = datetime(2026, 1, 1, tzinfo=utcnow().tzinfo)


def stripe_env(localstripe: Emulator) -> dict[str, str]:
    return {"STRIPE_API_KEY": localstripe.api_key, "STRIPE_API_BASE": localstripe.url}


def settings_of(localstripe: Emulator) -> Settings:
    return Settings(stripe_api_key=localstripe.api_key, stripe_api_base=localstripe.url, operator="ops")


def subscribed_tenant(engine: Engine, localstripe: Emulator, **local: Any) -> factories.TenantRef:
    """A Standard customer in Stripe; locally Standard unless `local` says otherwise."""
    customer = localstripe.customer_with_card(name="Acme ApS")
    subscription_id = localstripe.subscribe(customer)
    values: dict[str, Any] = dict(
        plan="Standard", stripe_customer_id=customer, stripe_subscription_id=subscription_id, modified_at=LONG_AGO
    )
    values.update(local)
    with engine.begin() as conn:
        return factories.tenant(conn, **values)


def subscription(engine: Engine, tenant: factories.TenantRef) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Subscription.__table__).where(Subscription.id == tenant.subscription_id)).one()


def count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_pass_checks_the_stale_and_writes_only_the_drift_status(localstripe: Emulator, engine: Engine) -> None:
    localstripe.standard_catalog()
    drifted = subscribed_tenant(engine, localstripe, plan="Premium")  # Stripe bills Standard
    matching = subscribed_tenant(engine, localstripe, drift_checked_at=LONG_AGO)
    now = utcnow()
    recent = subscribed_tenant(engine, localstripe, plan="Premium", drift_checked_at=now - timedelta(hours=1))
    missing = subscribed_tenant(engine, localstripe, stripe_customer_id="cus_not_in_stripe", drift_checked_at=LONG_AGO)
    with engine.begin() as conn:
        factories.tenant(conn, plan="Basis")  # no Stripe customer: never checked

    seen: list[tuple[int, int, int, str]] = []

    result = check_stale(engine, settings_of(localstripe), now=now, progress=lambda *step: seen.append(step))

    assert (result.checked, result.drift_detected, result.skipped_stripe_unavailable, result.failures) == (3, 2, 0, [])
    assert sorted(done for done, _, _, _ in seen) == [1, 2, 3] and {total for _, total, _, _ in seen} == {3}
    assert sorted((tenant, outcome) for _, _, tenant, outcome in seen) == [
        (drifted.id, "drift detected"),
        (matching.id, "no drift"),
        (missing.id, "drift detected"),
    ]
    row = subscription(engine, drifted)
    assert (row.has_drift_detected, row.drift_checked_at, row.modified_at) == (True, now, LONG_AGO)
    assert "SubscriptionStateMismatch" in [d["Kind"] for d in row.drift_discrepancies]
    assert (row.plan, row.current_price_amount, row.last_synced_stripe_event_created_at) == (
        "Premium",
        Decimal("299.00"),
        None,
    )
    assert (subscription(engine, matching).has_drift_detected, subscription(engine, matching).drift_checked_at) == (
        False,
        now,
    )
    assert subscription(engine, recent).drift_checked_at == now - timedelta(hours=1)
    # Stripe's 404 for the customer is a finding, not an outage; the subscription is left as it is.
    gone = subscription(engine, missing)
    assert (gone.has_drift_detected, gone.drift_checked_at, gone.plan) == (True, now, "Standard")
    assert [(d["Kind"], d["Severity"], d["ExpectedValue"]) for d in gone.drift_discrepancies] == [
        ("CustomerMissingInStripe", "Critical", "cus_not_in_stripe")
    ]
    assert count(engine, BillingEvent) == 0 and count(engine, StripeEvent) == 0  # nothing replayed or archived

    again = check_stale(engine, settings_of(localstripe), now=now + timedelta(minutes=5))
    assert (again.checked, again.skipped_stripe_unavailable) == (0, 0)


class CurrencyRefusing:
    """The emulator's client, but one customer's subscription is priced in EUR."""

    def __init__(self, localstripe: Emulator, refused_customer: str) -> None:
        self._client = localstripe.client()
        self._refused = refused_customer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def subscription(
        self, customer_id: str, catalog: PriceCatalog, *, customer: CustomerSnapshot | None = None
    ) -> SubscriptionSnapshot | None:
        if customer_id == self._refused:
            raise CurrencyMismatch(customer_id, "EUR", "DKK")
        return self._client.subscription(customer_id, catalog, customer=customer)


def test_a_failing_tenant_is_reported_and_the_others_are_checked(localstripe: Emulator, engine: Engine) -> None:
    localstripe.standard_catalog()
    failing = subscribed_tenant(engine, localstripe)
    other = subscribed_tenant(engine, localstripe)
    gateway = CurrencyRefusing(localstripe, subscription(engine, failing).stripe_customer_id)
    now = utcnow()
    result = check_stale(engine, settings_of(localstripe), now=now, client=gateway)  # type: ignore[arg-type]
    assert (result.checked, result.skipped_stripe_unavailable) == (1, 0)
    assert [(f.tenant_id, "priced in EUR" in f.error) for f in result.failures] == [(failing.id, True)]
    assert subscription(engine, failing).drift_checked_at is None
    assert subscription(engine, other).drift_checked_at == now


def test_json_result_and_exit_1_when_a_tenant_failed(
    localstripe: Emulator, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    localstripe.standard_catalog()
    drifted = subscribed_tenant(engine, localstripe, plan="Premium")
    database = ["--database-url", engine.url.render_as_string(hide_password=False)]
    code, out, err = run_cli_captured(
        [*database, "drift", "check", "--json"], monkeypatch, capsys, **stripe_env(localstripe)
    )
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {
        "checked",
        "drift_detected",
        "skipped_stripe_unavailable",
        "failures",
        "checked_at",
        "not_tried",
        "stopped",
        "interrupted",
    }
    assert (result["not_tried"], result["stopped"], result["interrupted"]) == (0, None, False)
    assert (result["checked"], result["drift_detected"], result["skipped_stripe_unavailable"], result["failures"]) == (
        1,
        1,
        0,
        [],
    )
    assert datetime.fromisoformat(result["checked_at"]) == subscription(engine, drifted).drift_checked_at

    # Checked a moment ago: only --staleness 0 checks it again.
    code, out, _ = run_cli_captured(
        [*database, "drift", "check", "--json"], monkeypatch, capsys, **stripe_env(localstripe)
    )
    assert (code, json.loads(out)["checked"]) == (0, 0)
    code, out, _ = run_cli_captured(
        [*database, "drift", "check", "--staleness", "0"], monkeypatch, capsys, **stripe_env(localstripe)
    )
    assert code == 0 and "Drift check at" in out
    cells = [cell.strip() for cell in out.splitlines()[-2].strip("│").split("│")]
    assert cells == ["1", "1", "0", "0"]  # checked, drift detected, skipped, failed

    failing = subscribed_tenant(engine, localstripe)
    monkeypatch.setattr("stripe_sync.drift_worker.run_customer", _failing_process)
    code, out, err = run_cli_captured(
        [*database, "drift", "check", "--json"], monkeypatch, capsys, **stripe_env(localstripe)
    )
    assert code == 1
    assert json.loads(out)["failures"] == [{"tenant_id": str(failing.id), "error": "RuntimeError: replay failed"}]
    assert err.strip().splitlines()[-1] == "error: 1 tenant(s) failed the drift check"


def test_a_pass_that_skipped_a_tenant_exits_1(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import create_engine

    from tests.stripe_sync.fake_stripe import CUSTOMER, FakeStripe

    engine = create_engine(database_url)
    with engine.begin() as conn:
        reachable = factories.tenant(conn, plan="Standard", stripe_customer_id=CUSTOMER)
        skipped = factories.tenant(conn, plan="Standard", stripe_customer_id="cus_unreachable")
    engine.dispose()
    stripe = FakeStripe(unreachable_customers=frozenset({"cus_unreachable"}))
    monkeypatch.setattr("stripe_sync.drift_worker.stripe_client_for", lambda settings: stripe)
    code, out, err = run_cli_captured(
        ["--database-url", database_url, "drift", "check", "--json"], monkeypatch, capsys, STRIPE_API_KEY="sk_test_x"
    )
    assert code == 1
    assert (json.loads(out)["checked"], json.loads(out)["skipped_stripe_unavailable"]) == (1, 1)
    *progress, last = err.splitlines()
    assert {line.split("] ", 1)[1] for line in progress} == {
        f"tenant {reachable.id}: no drift",
        f"tenant {skipped.id}: skipped (Stripe unavailable)",
    }
    assert last == "error: 1 tenant(s) skipped, Stripe unavailable (retried next pass)"


def _failing_process(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("replay failed")


def test_a_reader_gets_exit_3_before_configuration_is_checked(
    reader_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli_captured(["--database-url", reader_url, "drift", "check"], monkeypatch, capsys)
    assert code == 3 and out == ""
    assert "checking drift needs an admin" in err and "backoffice_admin" in err


def test_without_a_stripe_key_exit_4(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli_captured(["--database-url", database_url, "drift", "check", "--json"], monkeypatch, capsys)
    assert (code, out) == (4, "")
    assert err.strip() == "error: Stripe is not configured: set STRIPE_API_KEY to sync with Stripe"


@pytest.mark.parametrize(
    ("option", "message"),
    [(["--staleness", "-1"], "staleness must be 0 or more hours"), (["--watch", "0"], "more than 0 seconds")],
)
def test_bad_values_are_usage_errors(
    option: list[str],
    message: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli_captured(
        ["--database-url", database_url, "drift", "check", *option], monkeypatch, capsys, STRIPE_API_KEY="sk_test_x"
    )
    assert (code, out) == (2, "")
    assert message in err


def test_watch_runs_passes_until_stopped(
    localstripe: Emulator, engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    localstripe.standard_catalog()
    tenant = subscribed_tenant(engine, localstripe, plan="Premium")
    database = ["--database-url", engine.url.render_as_string(hide_password=False)]
    args = [*database, "drift", "check", "--watch", "0.01", "--passes", "2", "--json"]
    code, out, err = run_cli_captured(args, monkeypatch, capsys, **stripe_env(localstripe))
    assert code == 0, err
    first, second = (json.loads(line) for line in out.splitlines())
    assert (first["checked"], first["drift_detected"], second["checked"]) == (1, 1, 0)
    assert second["checked_at"] > first["checked_at"]
    # Not a terminal: a line per tenant as it finishes, then the watch's summary.
    assert err.strip().splitlines() == [
        f"[1/1] tenant {tenant.id}: drift detected",
        "drift check stopped after 2 pass(es): 1 checked, 1 with drift, 0 skipped (Stripe unavailable), 0 failed",
    ]


def test_ctrl_c_stops_the_watch_cleanly(localstripe: Emulator, database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, **stripe_env(localstripe)}
    env.pop("BACKOFFICE_DATABASE_URL", None)
    stderr_path = tmp_path / "stderr.txt"
    command = [
        str(Path(sys.executable).parent / "backoffice"),
        "--database-url",
        database_url,
        "drift",
        "check",
        "--watch",
        "0.05",
        "--json",
    ]
    with stderr_path.open("wb") as stderr_file:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr_file, env=env)
        try:
            assert process.stdout is not None
            passes = [json.loads(process.stdout.readline()) for _ in range(2)]
            process.send_signal(signal.SIGINT)
            rest, _ = process.communicate(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0
    assert [p["checked"] for p in passes] == [0, 0]
    summary = stderr_path.read_text().strip()
    assert summary.startswith("drift check stopped after ") and len(summary.splitlines()) == 1, summary
    assert "Traceback" not in summary and all(json.loads(line) for line in rest.decode().splitlines())
