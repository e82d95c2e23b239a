"""Summaries that let the dashboard's time windows cost what they show
(docs/rules.md R170, R210-R214): a period is a sum over its whole UTC days (or
hours), and only a partial hour at its start is counted row by row.

- mrr_movement_days: per UTC day, the MRR movements (new, expansion,
  reactivation, contraction, churn; docs/rules.md R150) of the MRR-moving
  billing events that occurred that day. A step's movement depends on the
  subscription's earlier rows, so a write anywhere in a subscription's
  history recomputes its steps from the earliest row it touched: the steps of
  the history before the statement (the table less the statement's new rows
  plus its old rows) leave the days, those of the history after it come in.
- live_tenant_days: per UTC day, the live tenants created that day (the
  account growth chart and the new accounts KPI).
- session_hours: per UTC hour, the sessions started in it and not revoked
  (the sessions KPI).
- counted_user_days and counted_user_hours: the users who count (live, of a
  tenant that is not soft-deleted; core/users.py `_VISIBLE`) per UTC day and
  per UTC hour they were last seen, never-seen users at -infinity (the total
  and active users KPIs).

Each per-day (per-hour) total is spread over 16 rows (shard = backend pid
mod 16, as in 0005 and 0006) and written by statement-level triggers where the
source is written in bulk, one upsert per key in key order. The billing
events trigger runs after 0005's ledger trigger (names fire in alphabetical
order), which has already made writers of one subscription take turns, so
each reads the history the one before it committed. A user's write and its
tenant's soft delete take turns on the tenant row (FOR SHARE against the
update), so each reads what the other committed. Only the trigger functions
(SECURITY DEFINER, pinned search_path as in 0009) write the summaries.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

HEADER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
SHARD = "(pg_backend_pid() % 16)::smallint"
MOVEMENTS = ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr")

TABLES_SQL = {
    "mrr_movement_days": f"""
    CREATE TABLE mrr_movement_days (
        day date NOT NULL,
        shard smallint NOT NULL,
        {", ".join(f"{movement} numeric(18, 2) NOT NULL" for movement in MOVEMENTS)},
        CONSTRAINT pk_mrr_movement_days PRIMARY KEY (day, shard)
    )
    """,
    "live_tenant_days": """
    CREATE TABLE live_tenant_days (
        day date NOT NULL,
        shard smallint NOT NULL,
        created integer NOT NULL,
        CONSTRAINT pk_live_tenant_days PRIMARY KEY (day, shard)
    )
    """,
    "session_hours": """
    CREATE TABLE session_hours (
        hour timestamp with time zone NOT NULL,
        shard smallint NOT NULL,
        started integer NOT NULL,
        CONSTRAINT pk_session_hours PRIMARY KEY (hour, shard)
    )
    """,
    "counted_user_days": """
    CREATE TABLE counted_user_days (
        day date NOT NULL,
        shard smallint NOT NULL,
        users integer NOT NULL,
        CONSTRAINT pk_counted_user_days PRIMARY KEY (day, shard)
    )
    """,
    "counted_user_hours": """
    CREATE TABLE counted_user_hours (
        hour timestamp with time zone NOT NULL,
        shard smallint NOT NULL,
        users integer NOT NULL,
        CONSTRAINT pk_counted_user_hours PRIMARY KEY (hour, shard)
    )
    """,
}


def utc_day(column: str) -> str:
    return f"(({column}) AT TIME ZONE 'UTC')::date"


def utc_hour(column: str) -> str:
    """The start of the UTC hour of an instant, whatever the session's time zone."""
    return f"(date_trunc('hour', ({column}) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"


def _upsert(table: str, key: str, columns: tuple[str, ...], moves: str) -> str:
    """Adds the signed rows of `moves` (key, then one delta per column) to a
    sharded summary, one row per key in key order; keys moving nothing are skipped."""
    sums = ", ".join(f"SUM({column})" for column in columns)
    zeros = ", ".join("0" for _ in columns)
    changed = f"({sums}) <> ({zeros})" if len(columns) > 1 else f"{sums} <> 0"
    return (
        f"INSERT INTO public.{table} AS d ({key}, shard, {', '.join(columns)})"
        f" SELECT {key}, {SHARD}, {sums} FROM ({moves}) AS moves"
        f" WHERE {key} IS NOT NULL GROUP BY {key} HAVING {changed} ORDER BY {key}"
        f" ON CONFLICT ({key}, shard) DO UPDATE SET "
        + ", ".join(f"{column} = d.{column} + excluded.{column}" for column in columns)
    )


# --- MRR movements ---------------------------------------------------------------

# docs/rules.md R150 as core/dashboard/movements.py states it: every
# MRR-moving row is a step from the amount before it (its predecessor's in
# replay order, 0 for the first) to its own new_amount (null counts 0).
STEP_MOVEMENTS = {
    "new_mrr": "CASE WHEN before = 0 AND after > 0 AND NOT paid_before THEN after ELSE 0 END",
    "expansion_mrr": "CASE WHEN before > 0 AND after > before THEN after - before ELSE 0 END",
    "reactivation_mrr": "CASE WHEN before = 0 AND after > 0 AND paid_before THEN after ELSE 0 END",
    "contraction_mrr": "CASE WHEN after > 0 AND after < before THEN before - after ELSE 0 END",
    "churned_mrr": "CASE WHEN before > 0 AND after = 0 THEN before ELSE 0 END",
}


def _steps(rows: str) -> str:
    """The steps of the MRR-moving rows `rows` (subscription_id, occurred_at,
    stripe_event_id, new_amount: whole histories), with whether any earlier row
    of the subscription had an amount above 0."""
    return f"""
        SELECT r.subscription_id, r.occurred_at,
               COALESCE(r.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(r.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(r.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM ({rows}) AS r
        WINDOW replay AS (
            PARTITION BY r.subscription_id ORDER BY r.occurred_at, r.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )"""


def _step_moves(steps: str, sign: str) -> str:
    parts = ", ".join(f"{sign}({rule}) AS {movement}" for movement, rule in STEP_MOVEMENTS.items())
    return f"SELECT {utc_day('occurred_at')} AS day, {parts} FROM ({steps}) AS steps"


MOVE_COLUMNS = "subscription_id, occurred_at, stripe_event_id, new_amount"


def _movements_refresh(changed: str, new_rows: str | None, old_rows: str | None) -> str:
    """The statement's affected subscriptions leave the day totals as they
    were before it and come back as they are after it, from the first
    occurred_at the statement touched (earlier steps are the same on both sides)."""
    current = (
        f"SELECT {', '.join(f'b.{c}' for c in MOVE_COLUMNS.split(', '))}"
        " FROM affected AS a JOIN public.billing_events AS b"
        " ON b.subscription_id = a.subscription_id AND b.amount_delta IS NOT NULL"
    )
    before = current
    if new_rows is not None:
        before += f" WHERE NOT EXISTS (SELECT 1 FROM {new_rows} AS n WHERE n.id = b.id)"
    if old_rows is not None:
        before += f" UNION ALL SELECT {MOVE_COLUMNS} FROM {old_rows} WHERE amount_delta IS NOT NULL"

    def since_touched(rows: str) -> str:
        return (
            f"SELECT s.* FROM ({_steps(rows)}) AS s JOIN affected AS a USING (subscription_id)"
            " WHERE s.occurred_at >= a.from_time"
        )

    moves = f"{_step_moves(since_touched(before), '-')} UNION ALL {_step_moves(since_touched(current), '')}"
    return (
        "WITH affected AS ("
        f" SELECT subscription_id, MIN(occurred_at) AS from_time FROM ({changed}) AS changed"
        " WHERE amount_delta IS NOT NULL GROUP BY subscription_id)"
        f" {_upsert('mrr_movement_days', 'day', MOVEMENTS, moves)}"
    )


BILLING_EVENTS_COUNT_MRR_MOVEMENTS_SQL = f"""
CREATE FUNCTION public.billing_events_count_mrr_movements() RETURNS trigger
{HEADER}
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.mrr_movement_days;
    ELSIF TG_OP = 'INSERT' THEN
        {_movements_refresh("SELECT * FROM new_rows", "new_rows", None)};
    ELSIF TG_OP = 'DELETE' THEN
        {_movements_refresh("SELECT * FROM old_rows", None, "old_rows")};
    ELSE
        {_movements_refresh("SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows", "new_rows", "old_rows")};
    END IF;
    RETURN NULL;
END
$$
"""

MRR_MOVEMENTS_BACKFILL_SQL = (
    f"INSERT INTO mrr_movement_days (day, shard, {', '.join(MOVEMENTS)})"
    f" SELECT day, 0, {', '.join(f'SUM({m})' for m in MOVEMENTS)}"
    f" FROM ({_step_moves(_steps(f'SELECT {MOVE_COLUMNS} FROM public.billing_events WHERE amount_delta IS NOT NULL'), '')})"
    " AS moves GROUP BY day"
    f" HAVING ({', '.join(f'SUM({m})' for m in MOVEMENTS)}) <> ({', '.join('0' for _ in MOVEMENTS)})"
)

# --- tenants created ---------------------------------------------------------------


def _tenant_moves(rows: str, sign: str) -> str:
    return f"SELECT {utc_day('created_at')} AS day, {sign}1 AS created FROM {rows} WHERE deleted_at IS NULL"


TENANTS_COUNT_LIVE_DAYS_SQL = f"""
CREATE FUNCTION public.tenants_count_live_days() RETURNS trigger
{HEADER}
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.live_tenant_days;
    ELSIF TG_OP = 'INSERT' THEN
        {_upsert("live_tenant_days", "day", ("created",), _tenant_moves("new_rows", ""))};
    ELSIF TG_OP = 'DELETE' THEN
        {_upsert("live_tenant_days", "day", ("created",), _tenant_moves("old_rows", "-"))};
    ELSE
        {
    _upsert(
        "live_tenant_days",
        "day",
        ("created",),
        f"{_tenant_moves('new_rows', '')} UNION ALL {_tenant_moves('old_rows', '-')}",
    )
};
    END IF;
    RETURN NULL;
END
$$
"""

# --- sessions started ---------------------------------------------------------------


def _session_moves(rows: str, sign: str) -> str:
    return f"SELECT {utc_hour('created_at')} AS hour, {sign}1 AS started FROM {rows} WHERE revoked_at IS NULL"


SESSIONS_COUNT_HOURS_SQL = f"""
CREATE FUNCTION public.sessions_count_hours() RETURNS trigger
{HEADER}
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.session_hours;
    ELSIF TG_OP = 'INSERT' THEN
        {_upsert("session_hours", "hour", ("started",), _session_moves("new_rows", ""))};
    ELSIF TG_OP = 'DELETE' THEN
        {_upsert("session_hours", "hour", ("started",), _session_moves("old_rows", "-"))};
    ELSE
        {
    _upsert(
        "session_hours",
        "hour",
        ("started",),
        f"{_session_moves('new_rows', '')} UNION ALL {_session_moves('old_rows', '-')}",
    )
};
    END IF;
    RETURN NULL;
END
$$
"""

# --- users who count ------------------------------------------------------------------

# Adds signed users by the instant they were last seen (null: never) to both
# summaries; never-seen users are kept at -infinity.
COUNTED_USERS_ADD_SQL = f"""
CREATE FUNCTION public.counted_users_add(seen timestamp with time zone[], deltas integer[]) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, public, pg_temp
AS $$
    {
    _upsert(
        "counted_user_days",
        "day",
        ("users",),
        f"SELECT COALESCE({utc_day('c.seen_at')}, '-infinity'::date) AS day, delta AS users"
        " FROM unnest(seen, deltas) AS c(seen_at, delta)",
    )
};
    {
    _upsert(
        "counted_user_hours",
        "hour",
        ("users",),
        f"SELECT COALESCE({utc_hour('c.seen_at')}, '-infinity'::timestamptz) AS hour, delta AS users"
        " FROM unnest(seen, deltas) AS c(seen_at, delta)",
    )
};
$$
"""


def _counted(rows: str, sign: str) -> str:
    """The users of `rows` who count, each locking its tenant row against a
    concurrent soft delete (tenants in id order)."""
    return (
        f"SELECT array_agg(u.last_seen_at), array_agg({sign}1) FROM {rows} AS u"
        " WHERE u.deleted_at IS NULL AND u.tenant_id NOT IN ("
        "  SELECT t.id FROM public.tenants AS t"
        f"  WHERE t.id IN (SELECT tenant_id FROM {rows}) AND t.deleted_at IS NOT NULL)"
    )


USERS_COUNT_SEEN_SQL = f"""
CREATE FUNCTION public.users_count_seen() RETURNS trigger
{HEADER}
AS $$
DECLARE
    seen timestamp with time zone[];
    deltas integer[];
    hidden boolean;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.counted_user_days, public.counted_user_hours;
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.deleted_at IS NULL THEN
            PERFORM 1 FROM public.tenants WHERE id = OLD.tenant_id ORDER BY id FOR SHARE;
            hidden := EXISTS (SELECT 1 FROM public.tenants WHERE id = OLD.tenant_id AND deleted_at IS NOT NULL);
            IF NOT hidden THEN
                PERFORM public.counted_users_add(ARRAY[OLD.last_seen_at], ARRAY[-1]);
            END IF;
        END IF;
        IF NEW.deleted_at IS NULL THEN
            PERFORM 1 FROM public.tenants WHERE id = NEW.tenant_id ORDER BY id FOR SHARE;
            hidden := EXISTS (SELECT 1 FROM public.tenants WHERE id = NEW.tenant_id AND deleted_at IS NOT NULL);
            IF NOT hidden THEN
                PERFORM public.counted_users_add(ARRAY[NEW.last_seen_at], ARRAY[1]);
            END IF;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT tenant_id FROM new_rows) ORDER BY id FOR SHARE;
        {_counted("new_rows", "")} INTO seen, deltas;
    ELSE
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT tenant_id FROM old_rows) ORDER BY id FOR SHARE;
        {_counted("old_rows", "-")} INTO seen, deltas;
    END IF;
    IF seen IS NOT NULL THEN
        PERFORM public.counted_users_add(seen, deltas);
    END IF;
    RETURN NULL;
END
$$
"""

# A tenant's soft delete (or its undoing) takes its live users out (or back).
TENANTS_COUNT_USERS_SQL = f"""
CREATE FUNCTION public.tenants_count_users() RETURNS trigger
{HEADER}
AS $$
BEGIN
    PERFORM public.counted_users_add(
        ARRAY(SELECT u.last_seen_at FROM public.users AS u WHERE u.tenant_id = NEW.id AND u.deleted_at IS NULL),
        array_fill(CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END,
                   ARRAY[(SELECT count(*) FROM public.users AS u
                          WHERE u.tenant_id = NEW.id AND u.deleted_at IS NULL)::integer]));
    RETURN NULL;
END
$$
"""

COUNTED_USERS_BACKFILL_SQL = """
SELECT public.counted_users_add(array_agg(u.last_seen_at), array_agg(1))
FROM public.users AS u
WHERE u.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = u.tenant_id AND d.deleted_at IS NOT NULL)
"""

# --- triggers ---------------------------------------------------------------------------------


def _statement_triggers(table: str, name: str, function: str) -> list[str]:
    each = f"FOR EACH STATEMENT EXECUTE FUNCTION public.{function}()"
    return [
        f"CREATE TRIGGER trg_{table}_{name}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER trg_{table}_{name}_update AFTER UPDATE ON {table}"
        f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {each}",
        f"CREATE TRIGGER trg_{table}_{name}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows {each}",
        f"CREATE TRIGGER trg_{table}_{name}_truncate AFTER TRUNCATE ON {table} {each}",
    ]


USERS_TRIGGERS_SQL = [
    "CREATE TRIGGER trg_users_count_seen_insert AFTER INSERT ON users"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.users_count_seen()",
    "CREATE TRIGGER trg_users_count_seen_delete AFTER DELETE ON users"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.users_count_seen()",
    "CREATE TRIGGER trg_users_count_seen_update AFTER UPDATE OF last_seen_at, deleted_at, tenant_id ON users"
    " FOR EACH ROW WHEN ((OLD.last_seen_at, OLD.deleted_at IS NULL, OLD.tenant_id)"
    " IS DISTINCT FROM (NEW.last_seen_at, NEW.deleted_at IS NULL, NEW.tenant_id))"
    " EXECUTE FUNCTION public.users_count_seen()",
    "CREATE TRIGGER trg_users_count_seen_truncate AFTER TRUNCATE ON users"
    " FOR EACH STATEMENT EXECUTE FUNCTION public.users_count_seen()",
    "CREATE TRIGGER trg_tenants_count_users_update AFTER UPDATE OF deleted_at ON tenants FOR EACH ROW"
    " WHEN ((OLD.deleted_at IS NULL) IS DISTINCT FROM (NEW.deleted_at IS NULL))"
    " EXECUTE FUNCTION public.tenants_count_users()",
]

TRIGGERS_SQL = (
    _statement_triggers("billing_events", "mrr_movements", "billing_events_count_mrr_movements")
    + _statement_triggers("tenants", "live_days", "tenants_count_live_days")
    + _statement_triggers("sessions", "hours", "sessions_count_hours")
    + USERS_TRIGGERS_SQL
)

TRIGGERS = (
    [(f"trg_billing_events_mrr_movements_{o}", "billing_events") for o in ("insert", "update", "delete", "truncate")]
    + [(f"trg_tenants_live_days_{o}", "tenants") for o in ("insert", "update", "delete", "truncate")]
    + [(f"trg_sessions_hours_{o}", "sessions") for o in ("insert", "update", "delete", "truncate")]
    + [(f"trg_users_count_seen_{o}", "users") for o in ("insert", "delete", "update", "truncate")]
    + [("trg_tenants_count_users_update", "tenants")]
)

TRIGGER_FUNCTIONS = {
    "billing_events_count_mrr_movements": BILLING_EVENTS_COUNT_MRR_MOVEMENTS_SQL,
    "tenants_count_live_days": TENANTS_COUNT_LIVE_DAYS_SQL,
    "sessions_count_hours": SESSIONS_COUNT_HOURS_SQL,
    "users_count_seen": USERS_COUNT_SEEN_SQL,
    "tenants_count_users": TENANTS_COUNT_USERS_SQL,
}

BACKFILL_SQL = [
    MRR_MOVEMENTS_BACKFILL_SQL,
    f"INSERT INTO live_tenant_days (day, shard, created)"
    f" SELECT {utc_day('created_at')}, 0, count(*) FROM tenants WHERE deleted_at IS NULL GROUP BY 1",
    f"INSERT INTO session_hours (hour, shard, started)"
    f" SELECT {utc_hour('created_at')}, 0, count(*) FROM sessions WHERE revoked_at IS NULL GROUP BY 1",
    COUNTED_USERS_BACKFILL_SQL,
]


def upgrade() -> None:
    for statement in TABLES_SQL.values():
        op.execute(statement)
    op.execute(COUNTED_USERS_ADD_SQL)
    op.execute("REVOKE EXECUTE ON FUNCTION public.counted_users_add(timestamp with time zone[], integer[]) FROM PUBLIC")
    for name, statement in TRIGGER_FUNCTIONS.items():
        op.execute(statement)
        op.execute(f"REVOKE EXECUTE ON FUNCTION public.{name}() FROM PUBLIC")
    # Backfill before the triggers exist: the migration holds the tables' locks.
    op.execute("LOCK TABLE billing_events, tenants, sessions, users IN SHARE MODE")
    for statement in BACKFILL_SQL:
        op.execute(statement)
    for statement in TRIGGERS_SQL:
        op.execute(statement)
    for table in TABLES_SQL:
        # Readable by both roles; written only by the trigger functions.
        op.execute(f"REVOKE ALL ON {table} FROM backoffice_admin, backoffice_reader")
        op.execute(f"GRANT SELECT ON {table} TO backoffice_reader, backoffice_admin")


def downgrade() -> None:
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for name in TRIGGER_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS public.{name}()")
    op.execute("DROP FUNCTION IF EXISTS public.counted_users_add(timestamp with time zone[], integer[])")
    for table in reversed(list(TABLES_SQL)):
        op.execute(f"DROP TABLE IF EXISTS {table}")
