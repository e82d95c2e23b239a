"""Indexes behind the back-office read model (search, sort, filters).

Every list sorts by an indexed key with the id as the tie-break, so a page is a
short index walk rather than a sort of the whole table. The SQL expressions here
must stay identical to the ones in core/ (accounts, users, billing_events), or
PostgreSQL will not use them; tests/core checks that each sort is index-backed.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HAS_EVER_SUBSCRIBED = (
    'jsonb_path_exists(payment_transactions, \'$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")\')'
)

INDEXES = {
    # Accounts: case-insensitive name sort, ties by id (docs/rules.md R95: no ICU collations).
    "ix_tenants_lower_name_id": "tenants (lower(name), id)",
    "ix_tenants_lower_name_trgm": "tenants USING gin (lower(name) gin_trgm_ops)",
    "ix_tenants_plan_tier_id": (
        "tenants ((CASE plan WHEN 'Basis' THEN 0 WHEN 'Standard' THEN 1 WHEN 'Premium' THEN 2 END), id)"
    ),
    "ix_tenants_created_at_id": "tenants (created_at, id)",
    "ix_tenants_modified_at_id": "tenants ((COALESCE(modified_at, created_at)), id)",
    "ix_tenants_deleted": "tenants (id) WHERE deleted_at IS NOT NULL",
    "ix_subscriptions_mrr_tenant_id": "subscriptions ((COALESCE(current_price_amount, 0)), tenant_id)",
    "ix_subscriptions_renewal_tenant_id": "subscriptions (current_period_end, tenant_id)",
    "ix_subscriptions_renewal_desc_tenant_id": ("subscriptions (current_period_end DESC NULLS LAST, tenant_id DESC)"),
    "ix_subscriptions_country_tenant_id": (
        "subscriptions ((COALESCE(billing_info->'Address'->>'Country', '')), tenant_id)"
    ),
    "ix_subscriptions_canceling": "subscriptions (tenant_id) WHERE cancel_at_period_end",
    "ix_subscriptions_downgrading": (
        "subscriptions (tenant_id) WHERE scheduled_plan IS NOT NULL AND NOT cancel_at_period_end"
    ),
    "ix_subscriptions_ever_subscribed": f"subscriptions (tenant_id) WHERE {HAS_EVER_SUBSCRIBED}",
    # Users: one person across tenants (memberships, sessions), owners, search, recency.
    "ix_users_email": "users (email)",
    "ix_users_live_tenant_id": "users (tenant_id) WHERE deleted_at IS NULL",
    "ix_users_owner": "users (tenant_id, created_at, id) WHERE role = 'Owner' AND deleted_at IS NULL",
    "ix_users_last_seen": "users (last_seen_at DESC NULLS LAST, email, id) WHERE deleted_at IS NULL",
    "ix_users_email_trgm": "users USING gin (email gin_trgm_ops)",
    "ix_users_full_name_trgm": (
        "users USING gin ((lower(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))) gin_trgm_ops)"
    ),
    # Billing events: newest first, counted and paged without visiting the table.
    "ix_billing_events_occurred_at_id": "billing_events (occurred_at DESC, id DESC) INCLUDE (event_type, tenant_id)",
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")
