"""Figures that say what they count, in core and on the command line: a
canceled account's lifetime value and renewal, the plan an event moves,
which events move MRR, drift findings in words, counts in the right number."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from typer.testing import CliRunner

from console.cli import app, output
from console.findings import english_findings
from core.account_detail import DriftSubject, account_detail, account_summary, drift
from core.account_status import Renewal
from core.billing_events import BillingEventPreset, plan_change, selected_types
from core.clock import utcnow
from core.dashboard.mrr import MRR_MOVING_TYPES
from core.invoices import InvoiceLineKind, InvoiceRowKind, invoice_detail, list_invoices
from db.enums import BillingEventType as T
from db.enums import SubscriptionPlan
from demo import seed as demo_seed
from stripe_sync.drift import StateSnapshot, detect
from tests import factories as f
from tests.factories import NOW

D = Decimal


@pytest.fixture(autouse=True)
def wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as their rows, so a cell reads on one line."""
    monkeypatch.setattr(output.stdout, "width", 200)


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--database-url", url, *args])
    return result.exit_code, result.output


def _canceled(conn: Connection, renewal_days: int) -> Any:
    """On Basis after paying, its last period ended `renewal_days` from NOW."""
    return f.tenant(
        conn,
        name="Gone Quiet",
        plan="Basis",
        current_price_amount=None,
        current_price_currency=None,
        current_period_end=NOW + timedelta(days=renewal_days),
        payment_transactions=[f.payment_transaction(amount_excluding_tax="299.00", currency="DKK")],
    )


def test_a_canceled_account_keeps_its_currency_and_its_renewal_expired(conn: Connection) -> None:
    gone = _canceled(conn, renewal_days=-12)

    detail = account_detail(conn, gone.id, NOW)
    summary = account_summary(conn, gone.id, NOW)

    assert (detail.lifetime_value, detail.currency, detail.monthly_recurring_revenue) == (D("299.00"), "DKK", None)
    assert detail.renewal is Renewal.Expired and summary.renewal is Renewal.Expired
    assert summary.currency == "DKK"


def test_the_command_line_gives_a_canceled_accounts_value_with_its_currency(database_url: str, engine: Engine) -> None:
    with engine.begin() as conn:
        gone = _canceled(conn, renewal_days=-12)

    document = json.loads(run(database_url, "accounts", "show", str(gone.id), "--json")[1])
    code, shown = run(database_url, "accounts", "show", str(gone.id))

    assert (document["lifetime_value"], document["currency"], document["renewal"]) == (299.0, "DKK", "Expired")
    assert code == 0 and "DKK 299.00" in shown and "Expired" in shown


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"cancel_at_period_end": True}, Renewal.Expires),
        ({}, Renewal.Renews),
        ({"current_period_end": NOW - timedelta(days=1)}, Renewal.Expired),
    ],
)
def test_the_renewal_says_what_the_date_means(conn: Connection, values: dict[str, Any], expected: Renewal) -> None:
    paying = f.tenant(conn, plan="Premium", current_period_end=NOW + timedelta(days=20))
    if values:
        f.update_subscription(conn, paying.id, **values)

    assert account_detail(conn, paying.id, NOW).renewal is expected


@pytest.mark.parametrize(
    ("event", "from_plan", "to_plan", "shown"),
    [
        (T.SubscriptionCancelled, None, "Premium", ("Premium", "Basis")),
        (T.SubscriptionCancelled, "Basis", "Premium", ("Premium", "Basis")),
        (T.SubscriptionCreated, None, "Standard", ("Basis", "Standard")),
        (T.SubscriptionUpgraded, "Standard", "Premium", ("Standard", "Premium")),
        (T.SubscriptionRenewed, None, "Premium", ("Premium",)),
        (T.SubscriptionRenewed, "Premium", "Premium", ("Premium",)),
        (T.SubscriptionExpired, "Premium", "Basis", ("Premium", "Basis")),
        (T.BillingInfoUpdated, None, "Premium", ()),
        (T.PaymentFailed, "Premium", "Premium", ()),
    ],
)
def test_the_plans_an_event_shows(event: T, from_plan: str | None, to_plan: str, shown: tuple[str, ...]) -> None:
    assert plan_change(event, from_plan, to_plan) == shown


def test_the_command_line_shows_a_cancellation_as_the_console_does(database_url: str, engine: Engine) -> None:
    now = utcnow()
    with engine.begin() as conn:
        birk = f.tenant(
            conn, name="Birk", plan="Premium", cancel_at_period_end=True, current_period_end=now + timedelta(days=20)
        )
        f.billing_event(
            conn,
            birk,
            "SubscriptionCancelled",
            occurred_at=now - timedelta(hours=2),
            to_plan="Premium",
            previous_amount="299",
            new_amount="0",
        )
        f.billing_event(conn, birk, "BillingInfoUpdated", occurred_at=now - timedelta(hours=3), to_plan="Premium")

    code, output = run(database_url, "billing-events")

    assert code == 0, output
    assert "Premium → Basis" in output and "Basis → Premium" not in output
    assert output.count("→") == 1  # the billing info update moves no plan
    code, shown = run(database_url, "accounts", "show", str(birk.id))
    assert code == 0 and "Premium → Basis" in shown and "Expires" in shown


def test_the_mrr_impact_view_is_what_moves_mrr_and_both_views_hold_every_end(engine: Engine) -> None:
    demo_seed.seed(engine, tenants=120, seed=3, now=NOW)
    with engine.connect() as conn:
        moving = {
            T(row[0])
            for row in conn.execute(
                text("SELECT DISTINCT event_type FROM billing_events WHERE amount_delta IS NOT NULL")
            )
        }

    assert moving <= set(MRR_MOVING_TYPES)
    assert {T.SubscriptionSuspended, T.SubscriptionCancelled} <= moving
    assert selected_types(preset=BillingEventPreset.mrr_impact) == MRR_MOVING_TYPES
    state = set(selected_types(preset=BillingEventPreset.subscription_state))
    assert {T.SubscriptionCancelled, T.SubscriptionSuspended, T.SubscriptionExpired} <= state


def _state(plan: str, price: str | None, cancels: bool = False) -> StateSnapshot:
    return StateSnapshot(SubscriptionPlan(plan), cancels, D(price) if price else None, "DKK")


def test_drift_findings_read_in_words_with_both_values(conn: Connection) -> None:
    found = detect(
        _state("Premium", "299.00", cancels=False),
        _state("Standard", "149.00", cancels=True),
        transaction_count=2,
        billing_event_count=0,
    )
    paying = f.tenant(conn, plan="Premium", current_price_amount=D("299.00"))
    f.update_subscription(
        conn, paying.id, has_drift_detected=True, drift_checked_at=NOW, drift_discrepancies=[d.to_json() for d in found]
    )

    findings = drift(conn, paying.id)
    rows = english_findings(findings.discrepancies, findings.currency)

    assert [d.subject for d in findings.discrepancies] == [
        None,
        DriftSubject.Plan,
        DriftSubject.CancelAtPeriodEnd,
        DriftSubject.Price,
    ]
    assert rows == [
        ("warning", "2 payments recorded, but no billing events"),
        ("critical", "Plan differs: here Premium, in Stripe Standard"),
        ("warning", "Cancellation at period end differs: here renews, in Stripe cancels at period end"),
        ("critical", "Price differs: here DKK 299.00, in Stripe DKK 149.00"),
    ]
    assert not any("SubscriptionStateMismatch" in finding for _, finding in rows)


def test_a_finding_stored_before_now_reads_the_same(conn: Connection) -> None:
    old = {
        "Kind": "SubscriptionStateMismatch",
        "Description": "Currency differs between local subscription and Stripe.",
        "Severity": "Warning",
        "ExpectedValue": "EUR",
        "ActualValue": "DKK",
    }
    unknown = {"Kind": "FieldDisagree", "Description": "Something else.", "Severity": "Warning"}
    without_values = {
        "Kind": "MissingEvent",
        "Description": "Stripe invoice.paid has no billing event",
        "Severity": "Warning",
    }
    paying = f.tenant(conn, plan="Premium")
    f.update_subscription(conn, paying.id, has_drift_detected=True, drift_discrepancies=[old, unknown, without_values])

    findings = drift(conn, paying.id)

    assert [row[1] for row in english_findings(findings.discrepancies, findings.currency)] == [
        "Currency differs: here DKK, in Stripe EUR",
        "Something else.",
        "Stripe invoice.paid has no billing event",  # what its sentence needs is missing: as stored
    ]


def test_the_command_line_prints_the_findings_and_counts_in_the_right_number(database_url: str, engine: Engine) -> None:
    found = detect(_state("Premium", "299.00"), _state("Premium", "349.00"), transaction_count=0, billing_event_count=0)
    with engine.begin() as conn:
        paying = f.tenant(conn, name="Solo", plan="Premium", current_price_amount=D("299.00"))
        f.user(conn, paying.id, last_seen_at=utcnow())
        f.update_subscription(
            conn, paying.id, has_drift_detected=True, drift_discrepancies=[d.to_json() for d in found]
        )

    code, shown = run(database_url, "accounts", "show", str(paying.id))
    assert code == 0, shown
    assert "Price differs: here DKK 299.00, in Stripe DKK 349.00" in shown
    assert "Last seen" in shown and "Last sign-in" not in shown
    code, listed = run(database_url, "accounts", "list")
    assert code == 0 and "Page 1 of 1 (1 account)" in listed
    document = json.loads(run(database_url, "accounts", "show", str(paying.id), "--json")[1])
    assert document["drift_discrepancies"][0]["subject"] == "Price"


def test_an_invoice_has_its_lines_credit_applied_and_its_reversal_negative(conn: Connection) -> None:
    partly = f.payment_transaction(amount_excluding_tax="149.00", tax="37.25", Amount=161.25, AmountFromCredit=25.0)
    noted = f.payment_transaction(
        amount_excluding_tax="299.00",
        tax="74.75",
        date=NOW - timedelta(days=40),
        CreditNoteUrl="https://pay.stripe.test/cn/pdf",
        CreditNotedAt=(NOW - timedelta(days=38)).isoformat(),
    )
    acme = f.tenant(conn, name="Acme", plan="Premium", payment_transactions=[partly, noted])

    invoice = invoice_detail(conn, acme.id, partly["Id"])
    rows = {row.id: row for row in list_invoices(conn).items if row.row_kind is InvoiceRowKind.Invoice}
    reversal = next(row for row in list_invoices(conn).items if row.row_kind is InvoiceRowKind.CreditNote)
    credited = invoice_detail(conn, acme.id, noted["Id"])

    assert [(line.kind, line.amount) for line in invoice.lines] == [
        (InvoiceLineKind.Plan, D("149.00")),
        (InvoiceLineKind.Vat, D("37.25")),
        (InvoiceLineKind.Total, D("186.25")),
        (InvoiceLineKind.CreditApplied, D("-25.00")),
        (InvoiceLineKind.Paid, D("161.25")),
    ]
    assert rows[partly["Id"]].amount_from_credit == D("25.00") and rows[partly["Id"]].sign == 1
    assert reversal.sign == -1
    assert (credited.lines[-1].kind, credited.lines[-1].amount) == (InvoiceLineKind.CreditNote, D("-373.75"))
    assert credited.credit_note_url == "https://pay.stripe.test/cn/pdf"
