"""Initial schema: every table the back office reads or writes, and its roles.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLES_SQL = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'backoffice_admin') THEN
        CREATE ROLE backoffice_admin NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'backoffice_reader') THEN
        CREATE ROLE backoffice_reader NOLOGIN;
    END IF;
END
$$;
"""

GRANTS_SQL = """
GRANT USAGE ON SCHEMA public TO backoffice_admin, backoffice_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO backoffice_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO backoffice_admin;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO backoffice_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO backoffice_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO backoffice_admin;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO backoffice_admin;
"""


def upgrade() -> None:
    # Roles are cluster-wide: create them only when another database has not already.
    op.execute(ROLES_SQL)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "billing_events",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("subscription_id", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("stripe_event_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("from_plan", sa.Text(), nullable=True),
        sa.Column("to_plan", sa.Text(), nullable=True),
        sa.Column("previous_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("new_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("amount_delta", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("committed_mrr", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("occurred_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("suspension_reason", sa.Text(), nullable=True),
        sa.Column("days_on_previous_plan", sa.Integer(), nullable=True),
        sa.Column("days_until_effective", sa.Integer(), nullable=True),
        sa.Column("days_since_cancelled", sa.Integer(), nullable=True),
        sa.Column("scheduled_for", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("effective_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("stripe_reference", sa.Text(), nullable=True),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="chk_billing_events_currency_format"),
        sa.CheckConstraint("committed_mrr >= 0", name="chk_billing_events_committed_mrr_non_negative"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_events")),
    )
    op.create_index(
        "ix_billing_events_occurred_at", "billing_events", [sa.literal_column("occurred_at DESC")], unique=False
    )
    op.create_index("ix_billing_events_stripe_event_id", "billing_events", ["stripe_event_id"], unique=True)
    op.create_index("ix_billing_events_subscription_id", "billing_events", ["subscription_id"], unique=False)
    op.create_index(
        "ix_billing_events_tenant_id_occurred_at",
        "billing_events",
        ["tenant_id", sa.literal_column("occurred_at DESC")],
        unique=False,
    )
    op.create_table(
        "email_logins",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("one_time_password_hash", sa.Text(), nullable=False),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("resend_count", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_logins")),
    )
    op.create_index("ix_email_logins_email", "email_logins", ["email"], unique=False)
    op.create_table(
        "external_logins",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("provider_type", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("code_verifier", sa.Text(), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.Column("browser_fingerprint", sa.Text(), nullable=False),
        sa.Column("login_result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_logins")),
    )
    op.create_index("ix_external_logins_email", "external_logins", ["email"], unique=False)
    op.create_table(
        "stripe_events",
        sa.Column("tenant_id", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("processed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("stripe_customer_id", sa.Text(), nullable=True),
        sa.Column("stripe_subscription_id", sa.Text(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("api_version", sa.Text(), nullable=True),
        sa.Column("recovered_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("recovery_source", sa.Text(), nullable=True),
        sa.Column("payload_hash", sa.Text(), nullable=True),
        sa.Column("stripe_created_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )
    op.create_index(
        "ix_stripe_events_recovered_at",
        "stripe_events",
        ["recovered_at"],
        unique=False,
        postgresql_where=sa.text("recovered_at IS NOT NULL"),
    )
    op.create_index(
        "ix_stripe_events_stripe_customer_id_status", "stripe_events", ["stripe_customer_id", "status"], unique=False
    )
    op.create_index("ix_stripe_events_tenant_id", "stripe_events", ["tenant_id"], unique=False)
    op.create_table(
        "stripe_sync_cursors",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("last_event_id", sa.Text(), nullable=True),
        sa.Column("last_event_created_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stripe_sync_cursors")),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("deleted_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("suspension_reason", sa.Text(), nullable=True),
        sa.Column("suspended_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "logo", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "subscriptions",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("scheduled_plan", sa.Text(), nullable=True),
        sa.Column("stripe_customer_id", sa.Text(), nullable=True),
        sa.Column("stripe_subscription_id", sa.Text(), nullable=True),
        sa.Column("current_price_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("current_price_currency", sa.Text(), nullable=True),
        sa.Column("current_period_end", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("first_payment_failed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("cancellation_feedback", sa.Text(), nullable=True),
        sa.Column(
            "payment_transactions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("payment_method", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("billing_info", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("subscribed_since", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("last_synced_stripe_event_created_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("scheduled_price_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("has_drift_detected", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("drift_checked_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "drift_discrepancies",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "current_price_currency IS NULL OR current_price_currency ~ '^[A-Z]{3}$'",
            name="chk_subscriptions_current_price_currency_format",
        ),
        sa.CheckConstraint(
            'NOT jsonb_path_exists(payment_transactions, \'$[*] ? (!(@.AmountExcludingTax.type() == "number") || @.AmountExcludingTax < 0 || !(@.TaxAmount.type() == "number") || @.TaxAmount < 0 || !(@.InvoiceTotal.type() == "number") || @.InvoiceTotal < 0 || !(@.AmountFromCredit.type() == "number") || @.AmountFromCredit < 0)\')',
            name="chk_subscriptions_payment_transactions_amounts_non_negative",
        ),
        sa.CheckConstraint(
            'NOT jsonb_path_exists(payment_transactions, \'$[*] ? (!(@.Currency.type() == "string") || !(@.Currency like_regex "^[A-Z]{3}$"))\')',
            name="chk_subscriptions_payment_transactions_currency_format",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_subscriptions_tenants_tenant_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(
        "ix_subscriptions_has_drift_detected",
        "subscriptions",
        ["has_drift_detected"],
        unique=False,
        postgresql_where=sa.text("has_drift_detected = true"),
    )
    op.create_index(
        "ix_subscriptions_stripe_customer_id",
        "subscriptions",
        ["stripe_customer_id"],
        unique=True,
        postgresql_where=sa.text("stripe_customer_id IS NOT NULL"),
    )
    op.create_index("ix_subscriptions_tenant_id", "subscriptions", ["tenant_id"], unique=True)
    op.create_table(
        "users",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("deleted_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("last_seen_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column(
            "external_identities",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("email_confirmed", sa.Boolean(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "avatar", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_users_tenants_tenant_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index("ix_users_tenant_id", "users", ["tenant_id"], unique=False)
    op.create_index(
        "ix_users_tenant_id_email",
        "users",
        ["tenant_id", "email"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "sessions",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("modified_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("refresh_token_jti", sa.Text(), nullable=False),
        sa.Column("previous_refresh_token_jti", sa.Text(), nullable=True),
        sa.Column("refresh_token_version", sa.Integer(), nullable=False),
        sa.Column("login_method", sa.Text(), nullable=False),
        sa.Column("device_type", sa.Text(), nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=False),
        sa.Column("ip_address", sa.Text(), nullable=False),
        sa.Column("revoked_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_sessions_tenants_tenant_id"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sessions_users_user_id", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index("ix_sessions_tenant_id", "sessions", ["tenant_id"], unique=False)
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"], unique=False)
    op.execute(GRANTS_SQL)


def downgrade() -> None:
    op.drop_index("ix_sessions_user_id", table_name="sessions")
    op.drop_index("ix_sessions_tenant_id", table_name="sessions")
    op.drop_table("sessions")
    op.drop_index("ix_users_tenant_id_email", table_name="users", postgresql_where=sa.text("deleted_at IS NULL"))
    op.drop_index("ix_users_tenant_id", table_name="users")
    op.drop_table("users")
    op.drop_index("ix_subscriptions_tenant_id", table_name="subscriptions")
    op.drop_index(
        "ix_subscriptions_stripe_customer_id",
        table_name="subscriptions",
        postgresql_where=sa.text("stripe_customer_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_subscriptions_has_drift_detected",
        table_name="subscriptions",
        postgresql_where=sa.text("has_drift_detected = true"),
    )
    op.drop_table("subscriptions")
    op.drop_table("tenants")
    op.drop_table("stripe_sync_cursors")
    op.drop_index("ix_stripe_events_tenant_id", table_name="stripe_events")
    op.drop_index("ix_stripe_events_stripe_customer_id_status", table_name="stripe_events")
    op.drop_index(
        "ix_stripe_events_recovered_at",
        table_name="stripe_events",
        postgresql_where=sa.text("recovered_at IS NOT NULL"),
    )
    op.drop_table("stripe_events")
    op.drop_index("ix_external_logins_email", table_name="external_logins")
    op.drop_table("external_logins")
    op.drop_index("ix_email_logins_email", table_name="email_logins")
    op.drop_table("email_logins")
    op.drop_index("ix_billing_events_tenant_id_occurred_at", table_name="billing_events")
    op.drop_index("ix_billing_events_subscription_id", table_name="billing_events")
    op.drop_index("ix_billing_events_stripe_event_id", table_name="billing_events")
    op.drop_index("ix_billing_events_occurred_at", table_name="billing_events")
    op.drop_table("billing_events")
