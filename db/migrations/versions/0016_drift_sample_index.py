"""The drift banner names the most recently checked accounts with drift
(docs/rules.md R56) by walking an index of the drifted subscriptions in that
order and stopping at the few it shows; before, it sorted every drifted
subscription (500 at 100,000 tenants) for five names.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_subscriptions_drifted_by_check": (
        "subscriptions (drift_checked_at DESC NULLS LAST, tenant_id) WHERE has_drift_detected"
    ),
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
