"""The audit trail of admin actions: operator_actions, append-only.

One row per admin action (a sync, a drift acknowledgement, an archive
replay, a poll, a drift check pass, a demo seed, an operators apply), written
in the action's own transaction by core/audit.py, or, when the action failed,
as failed in a transaction of its own.

- `operator` is the operator's name (the SSH operator, or the --operator
  setting); `db_role` is PostgreSQL's `current_user` at insert time, which
  the application cannot choose: after the SSH server's SET ROLE it is the
  operator's own role.
- Append-only: backoffice_admin may INSERT and SELECT, backoffice_reader
  SELECT; nobody is granted UPDATE, DELETE or TRUNCATE, and a statement
  trigger refuses them even to the owner or a superuser. The trigger
  function is SECURITY INVOKER: it only raises, so it needs no privileges of
  its own (and no pinned search_path).
- Newest first, paged in the database: (at DESC, id DESC) for the whole
  trail, (tenant_id, at DESC, id DESC) for an account's Activity tab and
  (operator, at DESC, id DESC) for `backoffice audit --operator`.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

REFUSE = """
CREATE OR REPLACE FUNCTION public.operator_actions_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'operator_actions is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS operator_actions (
            id bigserial,
            at timestamptz NOT NULL DEFAULT now(),
            operator text NOT NULL,
            db_role text NOT NULL DEFAULT current_user,
            path text NOT NULL,
            action text NOT NULL,
            tenant_id bigint,
            outcome text NOT NULL,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            CONSTRAINT pk_operator_actions PRIMARY KEY (id),
            CONSTRAINT ck_operator_actions_path CHECK (path IN ('console', 'cli', 'ssh')),
            CONSTRAINT ck_operator_actions_outcome CHECK (outcome IN ('succeeded', 'failed'))
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS ix_operator_actions_at ON operator_actions (at DESC, id DESC)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_operator_actions_tenant_id_at ON operator_actions (tenant_id, at DESC, id DESC)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_operator_actions_operator_at ON operator_actions (operator, at DESC, id DESC)"
    )
    # The default privileges of 0001 give the admin UPDATE and DELETE on every
    # new table: taken back here, whichever role migrates.
    op.execute("REVOKE ALL ON operator_actions FROM PUBLIC, backoffice_admin, backoffice_reader")
    op.execute("GRANT SELECT, INSERT ON operator_actions TO backoffice_admin")
    op.execute("GRANT SELECT ON operator_actions TO backoffice_reader")
    op.execute("REVOKE ALL ON SEQUENCE operator_actions_id_seq FROM PUBLIC, backoffice_admin, backoffice_reader")
    op.execute("GRANT USAGE ON SEQUENCE operator_actions_id_seq TO backoffice_admin")
    op.execute(REFUSE)
    op.execute("DROP TRIGGER IF EXISTS operator_actions_append_only ON operator_actions")
    op.execute(
        "CREATE TRIGGER operator_actions_append_only BEFORE UPDATE OR DELETE ON operator_actions"
        " FOR EACH STATEMENT EXECUTE FUNCTION public.operator_actions_append_only()"
    )
    op.execute("DROP TRIGGER IF EXISTS operator_actions_no_truncate ON operator_actions")
    op.execute(
        "CREATE TRIGGER operator_actions_no_truncate BEFORE TRUNCATE ON operator_actions"
        " FOR EACH STATEMENT EXECUTE FUNCTION public.operator_actions_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS operator_actions")
    op.execute("DROP FUNCTION IF EXISTS public.operator_actions_append_only()")
