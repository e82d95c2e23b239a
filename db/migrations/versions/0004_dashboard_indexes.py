"""Indexes behind the dashboard, the reports and the data-quality banners.

Each one serves a query of core/dashboard or core/banners (named below);
plans were checked against 100,000 tenants, 3,000,000 billing events and
5,000,000 logins. Account growth (tenants.created_at) and recent logins
(users.email) use the list indexes of 0002.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    # Daily MRR reconstruction: each subscription's last MRR-moving row before
    # a day, in replay order (occurred_at, then Stripe event id ordinally).
    "ix_billing_events_mrr_moves_by_subscription": (
        "billing_events (subscription_id, occurred_at, stripe_event_id COLLATE \"C\")"
        " INCLUDE (new_amount) WHERE amount_delta IS NOT NULL"
    ),
    # Daily MRR reconstruction: the MRR-moving rows inside a trend window.
    "ix_billing_events_mrr_moves_by_time": (
        "billing_events (occurred_at) INCLUDE (subscription_id, stripe_event_id, new_amount)"
        " WHERE amount_delta IS NOT NULL"
    ),
    # New users trend.
    "ix_users_created_at_live": "users (created_at) WHERE deleted_at IS NULL",
    # Active sessions in the last 24 hours.
    "ix_sessions_created_at": "sessions (created_at)",
    # Login activity trend and recent logins (index-only over a window).
    "ix_email_logins_created_at": "email_logins (created_at) INCLUDE (email, completed, retry_count)",
    "ix_external_logins_created_at": "external_logins (created_at) INCLUDE (email, login_result, provider_type)",
    # Recent paid signups, newest subscription first.
    "ix_subscriptions_subscribed_since": "subscriptions (subscribed_since DESC NULLS LAST, tenant_id DESC)",
    # Platform currency: min and max of the priced subscriptions' currency.
    "ix_subscriptions_current_price_currency": (
        "subscriptions (current_price_currency) WHERE current_price_currency IS NOT NULL"
    ),
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    for name in reversed(list(INDEXES)):
        op.execute(f"DROP INDEX IF EXISTS {name}")
