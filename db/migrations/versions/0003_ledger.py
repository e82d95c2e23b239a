"""Billing ledger and Stripe reconciliation additions.

- billing_drift_checks: every drift check that found something, or that
  cleared earlier findings, with who acknowledged it (docs/rules.md R53: drift
  findings are kept with their history; the subscription row holds the latest).
- ix_billing_events_subscription_id_occurred_at: the replay seed (the latest
  event of a subscription) without a sort.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS billing_drift_checks (
            id bigint GENERATED ALWAYS AS IDENTITY,
            tenant_id bigint NOT NULL,
            subscription_id text NOT NULL,
            checked_at timestamptz NOT NULL,
            has_drift_detected boolean NOT NULL,
            discrepancies jsonb NOT NULL DEFAULT '[]'::jsonb,
            acknowledged_at timestamptz,
            acknowledged_by text,
            CONSTRAINT pk_billing_drift_checks PRIMARY KEY (id)
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_billing_drift_checks_subscription_id_checked_at"
        " ON billing_drift_checks (subscription_id, checked_at DESC)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_billing_events_subscription_id_occurred_at"
        ' ON billing_events (subscription_id, occurred_at DESC, stripe_event_id COLLATE "C" DESC)'
    )
    # Default privileges cover this table only when the migrating role set them;
    # grant explicitly so the reader/admin split holds for any migrating role.
    op.execute("GRANT SELECT ON billing_drift_checks TO backoffice_reader")
    op.execute("GRANT SELECT, INSERT, UPDATE ON billing_drift_checks TO backoffice_admin")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_billing_events_subscription_id_occurred_at")
    op.execute("DROP TABLE IF EXISTS billing_drift_checks")
