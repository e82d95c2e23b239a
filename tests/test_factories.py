"""The test builders produce rows the schema accepts."""

from datetime import timedelta

from sqlalchemy import Connection, text

from tests import factories as f


def test_builders_insert_a_consistent_tenant(conn: Connection) -> None:
    acme = f.tenant(conn, name="Acme", plan="Standard", payment_transactions=[f.payment_transaction()])
    owner = f.user(conn, acme.id, role="Owner", email="Owner@Acme.test")
    f.session(conn, acme.id, owner)
    f.email_login(conn, "owner@acme.test")
    f.external_login(conn, "owner@acme.test", result="CodeExchangeFailed")
    f.billing_event(
        conn, acme, "SubscriptionCreated", occurred_at=f.NOW - timedelta(days=5), previous_amount="0", new_amount="149"
    )
    row = conn.execute(
        text(
            "SELECT t.plan, s.current_price_amount, u.email, b.amount_delta FROM tenants t"
            " JOIN subscriptions s ON s.tenant_id = t.id JOIN users u ON u.tenant_id = t.id"
            " JOIN billing_events b ON b.tenant_id = t.id WHERE t.id = :id"
        ),
        {"id": acme.id},
    ).one()
    assert tuple(row) == ("Standard", 149, "owner@acme.test", 149)
