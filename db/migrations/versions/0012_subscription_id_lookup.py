"""The command palette finds an account by its `sub_…` id (docs/rules.md
R121) with one index probe; without this index the lookup read every
subscription. (`cus_…` ids have had their unique index since 0001.)

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_subscriptions_stripe_subscription_id": (
        "subscriptions (stripe_subscription_id) WHERE stripe_subscription_id IS NOT NULL"
    ),
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
