"""Indexes behind the back-office read model (search, sort, filters).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Case-insensitive name sort, ties by id (decisions.md: no ICU collations).
    op.execute("CREATE INDEX IF NOT EXISTS ix_tenants_lower_name_id ON tenants (lower(name), id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_tenants_lower_name_id")
