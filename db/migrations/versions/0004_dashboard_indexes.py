"""Indexes behind the dashboard, the reports and the data-quality banners, and
payment_transaction_rows: the payment_transactions JSON, one row per element.

Each index serves a query of core/dashboard or core/banners (named below);
plans were checked against 100,000 tenants, 3,000,000 billing events and
5,000,000 logins. Account growth (tenants.created_at) and recent logins
(users.email) use the list indexes of 0002.

payment_transaction_rows exists because revenue figures would otherwise unpack
every subscription's JSON array on every read (about a second at 100,000
tenants). A trigger rewrites a subscription's rows in the same statement that
changes its array, so the rows are never stale; nothing else writes them.
Each row also carries what the revenue rules say about it:
- counts_as_revenue: core.money.REVENUE_TRANSACTION_SQL (LTV, Total revenue);
- added_on / reversed_on: the UTC days on which the revenue trend adds the
  charge (Succeeded or Refunded) and takes it back (a credit note dated
  CreditNotedAt, else RefundedAt, else Date; otherwise a refund at RefundedAt),
  docs/rules.md R47.
A change to either rule needs a migration that replaces payment_transaction_rows_of.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The revenue rule (core.money.REVENUE_TRANSACTION_SQL) as it stood when this
# revision was written: a migration must not change when the live code does.
REVENUE_TRANSACTION_SQL = (
    "(t->>'Status' = 'Succeeded'"
    " AND (t->'CreditNoteUrl' IS NULL OR jsonb_typeof(t->'CreditNoteUrl') = 'null')"
    " AND (t->'RefundedAt' IS NULL OR jsonb_typeof(t->'RefundedAt') = 'null'))"
)

INDEXES = {
    # Daily MRR reconstruction: each subscription's last MRR-moving row before
    # a day, in replay order (occurred_at, then Stripe event id ordinally).
    "ix_billing_events_mrr_moves_by_subscription": (
        'billing_events (subscription_id, occurred_at, stripe_event_id COLLATE "C")'
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
    # Recent payments, newest first.
    "ix_payment_transaction_rows_date": "payment_transaction_rows (date DESC, transaction_id DESC)",
    # Revenue trend: charges added and taken back, per day.
    "ix_payment_transaction_rows_added_on": (
        "payment_transaction_rows (added_on) INCLUDE (amount_excluding_tax) WHERE added_on IS NOT NULL"
    ),
    "ix_payment_transaction_rows_reversed_on": (
        "payment_transaction_rows (reversed_on) INCLUDE (amount_excluding_tax) WHERE reversed_on IS NOT NULL"
    ),
    # Total revenue: each subscription's net revenue without visiting the table.
    "ix_payment_transaction_rows_revenue": (
        "payment_transaction_rows (subscription_id) INCLUDE (amount_excluding_tax) WHERE counts_as_revenue"
    ),
}

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS payment_transaction_rows (
    subscription_id text NOT NULL,
    position integer NOT NULL,
    tenant_id bigint NOT NULL,
    transaction_id text,
    date timestamptz,
    status text,
    amount numeric(18, 2),
    amount_excluding_tax numeric(18, 2),
    currency text,
    plan text,
    counts_as_revenue boolean NOT NULL,
    added_on date,
    reversed_on date,
    CONSTRAINT pk_payment_transaction_rows PRIMARY KEY (subscription_id, position),
    CONSTRAINT fk_payment_transaction_rows_subscriptions_subscription_id
        FOREIGN KEY (subscription_id) REFERENCES subscriptions (id) ON DELETE CASCADE
)
"""

# A malformed timestamp in the JSON becomes NULL here rather than failing the
# sync that writes the subscription.
TIMESTAMP_SQL = """
CREATE OR REPLACE FUNCTION payment_transaction_timestamp(value text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN pg_input_is_valid(value, 'timestamptz') THEN value::timestamptz END $$
"""

ROWS_OF_SQL = f"""
CREATE OR REPLACE FUNCTION payment_transaction_rows_of(
    of_subscription_id text, of_tenant_id bigint, transactions jsonb
) RETURNS SETOF payment_transaction_rows
LANGUAGE sql STABLE
AS $$
    SELECT of_subscription_id, e.position::integer, of_tenant_id, t->>'Id', charged.at, t->>'Status',
           CASE WHEN jsonb_typeof(t->'Amount') = 'number' THEN (t->>'Amount')::numeric END,
           (t->>'AmountExcludingTax')::numeric, t->>'Currency', t->>'Plan',
           COALESCE({REVENUE_TRANSACTION_SQL}, false),
           CASE WHEN t->>'Status' IN ('Succeeded', 'Refunded') THEN (charged.at AT TIME ZONE 'UTC')::date END,
           (payment_transaction_timestamp(
                CASE WHEN t->>'CreditNoteUrl' IS NOT NULL
                     THEN COALESCE(t->>'CreditNotedAt', t->>'RefundedAt', t->>'Date')
                     ELSE t->>'RefundedAt' END
            ) AT TIME ZONE 'UTC')::date
    FROM jsonb_array_elements(transactions) WITH ORDINALITY AS e(t, position)
    CROSS JOIN LATERAL (SELECT payment_transaction_timestamp(e.t->>'Date') AS at) AS charged
$$
"""

# SECURITY DEFINER: any role allowed to write subscriptions keeps the rows in step.
TRIGGER_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION payment_transaction_rows_refresh() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    DELETE FROM payment_transaction_rows WHERE subscription_id = OLD.id AND TG_OP = 'UPDATE';
    INSERT INTO payment_transaction_rows
    SELECT * FROM payment_transaction_rows_of(NEW.id, NEW.tenant_id, NEW.payment_transactions);
    RETURN NULL;
END
$$
"""

TRIGGERS_SQL = [
    "DROP TRIGGER IF EXISTS trg_subscriptions_payment_transaction_rows_insert ON subscriptions",
    "CREATE TRIGGER trg_subscriptions_payment_transaction_rows_insert AFTER INSERT ON subscriptions"
    " FOR EACH ROW EXECUTE FUNCTION payment_transaction_rows_refresh()",
    "DROP TRIGGER IF EXISTS trg_subscriptions_payment_transaction_rows_update ON subscriptions",
    "CREATE TRIGGER trg_subscriptions_payment_transaction_rows_update"
    " AFTER UPDATE OF payment_transactions, id, tenant_id ON subscriptions FOR EACH ROW"
    " WHEN (OLD.payment_transactions IS DISTINCT FROM NEW.payment_transactions"
    " OR OLD.id IS DISTINCT FROM NEW.id OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id)"
    " EXECUTE FUNCTION payment_transaction_rows_refresh()",
]

BACKFILL_SQL = """
INSERT INTO payment_transaction_rows
SELECT r.* FROM subscriptions AS s
CROSS JOIN LATERAL payment_transaction_rows_of(s.id, s.tenant_id, s.payment_transactions) AS r
WHERE s.payment_transactions <> '[]'::jsonb
ON CONFLICT DO NOTHING
"""


def upgrade() -> None:
    op.execute(TABLE_SQL)
    op.execute(TIMESTAMP_SQL)
    op.execute(ROWS_OF_SQL)
    op.execute(TRIGGER_FUNCTION_SQL)
    for statement in TRIGGERS_SQL:
        op.execute(statement)
    op.execute(BACKFILL_SQL)
    # Default privileges cover the table only when the migrating role set them.
    op.execute("GRANT SELECT ON payment_transaction_rows TO backoffice_reader")
    op.execute("GRANT SELECT ON payment_transaction_rows TO backoffice_admin")
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    for name in reversed(list(INDEXES)):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP TRIGGER IF EXISTS trg_subscriptions_payment_transaction_rows_update ON subscriptions")
    op.execute("DROP TRIGGER IF EXISTS trg_subscriptions_payment_transaction_rows_insert ON subscriptions")
    op.execute("DROP FUNCTION IF EXISTS payment_transaction_rows_refresh()")
    op.execute("DROP FUNCTION IF EXISTS payment_transaction_rows_of(text, bigint, jsonb)")
    op.execute("DROP FUNCTION IF EXISTS payment_transaction_timestamp(text)")
    op.execute("DROP TABLE IF EXISTS payment_transaction_rows")
