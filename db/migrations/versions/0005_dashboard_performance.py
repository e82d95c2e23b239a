"""Daily summaries behind the dashboard's trends, KPIs and banners, kept exact
by triggers, and the indexes that let the remaining counts skip the tables.

At 100,000 tenants the plain queries read millions of rows per card: login
activity sorted 3.6 million login rows by (day, e-mail), new users counted
half a million index entries, and the daily MRR probed every subscription's
ledger at the window's first day. The summaries below hold the same figures
per UTC day; a trigger updates them in the statement that writes the source
rows (insert, update, delete and truncate alike), so a report never reads a
stale figure:

- login_user_days: per UTC day and e-mail, how many successful logins there
  are (the reference count that makes "distinct users" exact under updates
  and deletes; rows at zero are removed);
- login_day_counts: per UTC day, successful and failed login attempts and
  distinct users with a success (docs/rules.md R88, R89; the rule is written once,
  in LOGIN_OUTCOMES below);
- live_user_days: per UTC day, live users created that day and live users
  last seen that day;
- ledger_subscriptions: every subscription with a billing event;
- mrr_day_changes: per subscription and UTC day, how much that day moved the
  subscription's MRR: the closing amount of the day (the new_amount, null
  counting 0, of its last MRR-moving row in replay order: occurred_at, then
  Stripe event id ordinally) less the closing amount of the day before;
- mrr_days: the same changes summed per UTC day, so MRR at the end of day D
  (docs/rules.md R33) is the sum of the changes of the days up to D, and the
  newest MRR (docs/rules.md R34) the sum of them all;
- subscription_revenue: each subscription's net revenue (the LTV rule,
  payment_transaction_rows.counts_as_revenue) and whether the Total revenue
  KPI counts it (docs/rules.md R46: its plan is paid, or its tenant is live and
  on Basis), refreshed when its payment rows, its plan or its tenant's plan
  or deletion change;
- revenue_days: per UTC day, the revenue the revenue trend adds that day less
  what it takes back (payment_transaction_rows.added_on / reversed_on,
  docs/rules.md R47), so each point is the sum of the days up to it.

The per-day totals are spread over 16 rows per day (shard = backend pid
mod 16): concurrent writers land on different rows, so no row is a counter
that every transaction waits for. Writers of one subscription take turns on
its ledger_subscriptions (or subscription_revenue) row before reading its
source rows, so each sees what the one before it committed (under
REPEATABLE READ the turn ends in a serialisation failure instead, which the
writer retries). A subscription belongs to one tenant for good; moving it to
another tenant is refreshed, but not ordered against a concurrent change of
that tenant. Only the trigger functions (SECURITY DEFINER) write the
summaries.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SUMMARY_TABLES = (
    "login_user_days",
    "login_day_counts",
    "live_user_days",
    "ledger_subscriptions",
    "mrr_day_changes",
    "mrr_days",
    "subscription_revenue",
    "revenue_days",
)

TABLES_SQL = [
    """
    CREATE TABLE login_user_days (
        day date NOT NULL,
        email text NOT NULL,
        successes integer NOT NULL,
        CONSTRAINT pk_login_user_days PRIMARY KEY (day, email)
    )
    """,
    """
    CREATE TABLE login_day_counts (
        day date NOT NULL,
        shard smallint NOT NULL,
        succeeded integer NOT NULL,
        failed integer NOT NULL,
        distinct_users integer NOT NULL,
        CONSTRAINT pk_login_day_counts PRIMARY KEY (day, shard)
    )
    """,
    """
    CREATE TABLE live_user_days (
        day date NOT NULL,
        shard smallint NOT NULL,
        created integer NOT NULL,
        last_seen integer NOT NULL,
        CONSTRAINT pk_live_user_days PRIMARY KEY (day, shard)
    )
    """,
    """
    CREATE TABLE ledger_subscriptions (
        subscription_id text NOT NULL,
        CONSTRAINT pk_ledger_subscriptions PRIMARY KEY (subscription_id)
    )
    """,
    """
    CREATE TABLE mrr_day_changes (
        subscription_id text NOT NULL,
        day date NOT NULL,
        change numeric(18, 2) NOT NULL,
        CONSTRAINT pk_mrr_day_changes PRIMARY KEY (subscription_id, day)
    )
    """,
    """
    CREATE TABLE mrr_days (
        day date NOT NULL,
        shard smallint NOT NULL,
        change numeric(18, 2) NOT NULL,
        CONSTRAINT pk_mrr_days PRIMARY KEY (day, shard)
    )
    """,
    """
    CREATE TABLE subscription_revenue (
        subscription_id text NOT NULL,
        revenue numeric(18, 2) NOT NULL,
        in_total_revenue boolean NOT NULL,
        CONSTRAINT pk_subscription_revenue PRIMARY KEY (subscription_id)
    )
    """,
    """
    CREATE TABLE revenue_days (
        day date NOT NULL,
        shard smallint NOT NULL,
        amount numeric(18, 2) NOT NULL,
        CONSTRAINT pk_revenue_days PRIMARY KEY (day, shard)
    )
    """,
]

INDEXES = {
    # KPI tenant counts, plan distribution and the new tenants trend, without
    # visiting the table.
    "ix_tenants_live_created_at": "tenants (created_at) INCLUDE (id, state, plan) WHERE deleted_at IS NULL",
    # Blended MRR: the paid subscriptions' forward MRR, without the wide rows.
    "ix_subscriptions_paid_forward_mrr": (
        "subscriptions (tenant_id) INCLUDE (current_price_amount, cancel_at_period_end, scheduled_price_amount)"
        " WHERE plan <> 'Basis'"
    ),
    # Unsynced banner: the priced subscriptions, in id order.
    "ix_subscriptions_priced": "subscriptions (id) WHERE current_price_amount IS NOT NULL",
}

# Spreads concurrent writers of one day over 16 rows.
SHARD = "(pg_backend_pid() % 16)::smallint"


def utc_day(column: str) -> str:
    return f"(({column}) AT TIME ZONE 'UTC')::date"


# --- logins ------------------------------------------------------------------

# docs/rules.md R88: a completed one-time-password login or a `Success` external
# login succeeded; an e-mail login out of retries or an external login with any
# other result failed; the rest are pending and count in neither.
LOGIN_OUTCOMES = {
    "email_logins": {
        "succeeded": "{r}.completed",
        "failed": "(NOT {r}.completed AND {r}.retry_count >= 3)",
        "columns": "created_at, email, completed, retry_count",
    },
    "external_logins": {
        "succeeded": "COALESCE({r}.login_result = 'Success', false)",
        "failed": "COALESCE({r}.login_result <> 'Success', false)",
        "columns": "created_at, email, login_result",
    },
}

LOGIN_CHANGE_TYPE_SQL = "CREATE TYPE login_count_change AS (day date, email text, succeeded integer, failed integer)"

# Adds signed attempts to the summaries. A day's distinct users move when an
# e-mail's count of successes that day leaves or reaches zero.
LOGIN_COUNTS_ADD_SQL = f"""
CREATE FUNCTION login_counts_add(changes login_count_change[]) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    WITH change AS (
        SELECT day, email, SUM(succeeded)::integer AS succeeded, SUM(failed)::integer AS failed
        FROM unnest(changes)
        GROUP BY day, email
    ),
    counted AS (
        INSERT INTO login_user_days AS u (day, email, successes)
        SELECT day, email, succeeded FROM change
        WHERE email IS NOT NULL AND succeeded <> 0
        ORDER BY day, email
        ON CONFLICT (day, email) DO UPDATE SET successes = u.successes + excluded.successes
        RETURNING u.day, u.email, u.successes
    ),
    users AS (
        SELECT counted.day,
               SUM(CASE WHEN counted.successes > 0 AND counted.successes - change.succeeded <= 0 THEN 1
                        WHEN counted.successes <= 0 AND counted.successes - change.succeeded > 0 THEN -1
                        ELSE 0 END) AS change
        FROM counted JOIN change USING (day, email)
        GROUP BY counted.day
    ),
    attempts AS (
        SELECT day, SUM(succeeded) AS succeeded, SUM(failed) AS failed FROM change GROUP BY day
    )
    INSERT INTO login_day_counts AS c (day, shard, succeeded, failed, distinct_users)
    SELECT a.day, {SHARD}, a.succeeded, a.failed, COALESCE(users.change, 0)
    FROM attempts AS a LEFT JOIN users USING (day)
    WHERE (a.succeeded, a.failed, COALESCE(users.change, 0)) <> (0, 0, 0)
    ORDER BY a.day
    ON CONFLICT (day, shard) DO UPDATE
    SET succeeded = c.succeeded + excluded.succeeded,
        failed = c.failed + excluded.failed,
        distinct_users = c.distinct_users + excluded.distinct_users;

    DELETE FROM login_user_days AS u
    USING (SELECT day, email FROM unnest(changes) WHERE email IS NOT NULL GROUP BY day, email
           HAVING SUM(succeeded) < 0) AS fewer
    WHERE u.day = fewer.day AND u.email = fewer.email AND u.successes = 0;
END
$$
"""


def _login_change(table: str, row: str, sign: str = "") -> str:
    outcome = LOGIN_OUTCOMES[table]
    succeeded = outcome["succeeded"].format(r=row)
    failed = outcome["failed"].format(r=row)
    return (
        f"ROW({utc_day(f'{row}.created_at')}, {row}.email,"
        f" {sign}({succeeded})::integer, {sign}({failed})::integer)::login_count_change"
    )


def _login_outcome(table: str, row: str) -> str:
    outcome = LOGIN_OUTCOMES[table]
    return f"({outcome['succeeded'].format(r=row)} OR {outcome['failed'].format(r=row)})"


def _login_outcome_parts(table: str, row: str) -> str:
    outcome = LOGIN_OUTCOMES[table]
    return f"{outcome['succeeded'].format(r=row)}, {outcome['failed'].format(r=row)}"


def login_trigger_function_sql(table: str) -> str:
    """Inserts and deletes per statement (transition tables), updates per row."""
    return f"""
CREATE FUNCTION {table}_count_logins() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM login_counts_add(ARRAY(
            SELECT {_login_change(table, "n")} FROM new_rows AS n WHERE {_login_outcome(table, "n")}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM login_counts_add(ARRAY(
            SELECT {_login_change(table, "o", "-")} FROM old_rows AS o WHERE {_login_outcome(table, "o")}));
    ELSE
        PERFORM login_counts_add(ARRAY[{_login_change(table, "OLD", "-")}, {_login_change(table, "NEW")}]);
    END IF;
    RETURN NULL;
END
$$
"""


def login_triggers_sql(table: str) -> list[str]:
    columns = LOGIN_OUTCOMES[table]["columns"]
    old = ", ".join([f"OLD.{c}" for c in ("created_at", "email")] + [_login_outcome_parts(table, "OLD")])
    new = ", ".join([f"NEW.{c}" for c in ("created_at", "email")] + [_login_outcome_parts(table, "NEW")])
    function = f"{table}_count_logins()"
    return [
        f"CREATE TRIGGER trg_{table}_count_logins_insert AFTER INSERT ON {table}"
        f" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER trg_{table}_count_logins_delete AFTER DELETE ON {table}"
        f" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER trg_{table}_count_logins_update AFTER UPDATE OF {columns} ON {table} FOR EACH ROW"
        f" WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION {function}",
        f"CREATE TRIGGER trg_{table}_count_logins_truncate AFTER TRUNCATE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION login_counts_rebuild()",
    ]


def _login_attempts_sql() -> str:
    parts = []
    for table in LOGIN_OUTCOMES:
        succeeded = LOGIN_OUTCOMES[table]["succeeded"].format(r="l")
        failed = LOGIN_OUTCOMES[table]["failed"].format(r="l")
        parts.append(
            f"SELECT {utc_day('l.created_at')} AS day, l.email, {succeeded} AS succeeded, {failed} AS failed"
            f" FROM {table} AS l WHERE {succeeded} OR {failed}"
        )
    return "\n        UNION ALL\n        ".join(parts)


# Recounts both login tables (after a TRUNCATE of either, and as the backfill).
LOGIN_COUNTS_REBUILD_SQL = """
CREATE FUNCTION login_counts_rebuild() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    PERFORM login_counts_recount();
    RETURN NULL;
END
$$
"""

LOGIN_COUNTS_RECOUNT_SQL = f"""
CREATE FUNCTION login_counts_recount() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    TRUNCATE login_user_days, login_day_counts;
    INSERT INTO login_user_days (day, email, successes)
    SELECT day, email, count(*)
    FROM (
        {_login_attempts_sql()}
    ) AS attempts
    WHERE succeeded AND email IS NOT NULL
    GROUP BY day, email;
    INSERT INTO login_day_counts (day, shard, succeeded, failed, distinct_users)
    SELECT per_day.day, 0, per_day.succeeded, per_day.failed, COALESCE(users.count, 0)
    FROM (
        SELECT day, count(*) FILTER (WHERE succeeded) AS succeeded, count(*) FILTER (WHERE failed) AS failed
        FROM (
            {_login_attempts_sql()}
        ) AS attempts
        GROUP BY day
    ) AS per_day
    LEFT JOIN (SELECT day, count(*) FROM login_user_days GROUP BY day) AS users USING (day);
END
$$
"""

# --- users -------------------------------------------------------------------

USER_CHANGE_TYPE_SQL = "CREATE TYPE live_user_change AS (day date, created integer, last_seen integer)"

LIVE_USER_DAYS_ADD_SQL = f"""
CREATE FUNCTION live_user_days_add(changes live_user_change[]) RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO live_user_days AS d (day, shard, created, last_seen)
    SELECT day, {SHARD}, SUM(created), SUM(last_seen)
    FROM unnest(changes)
    WHERE day IS NOT NULL
    GROUP BY day
    HAVING (SUM(created), SUM(last_seen)) <> (0, 0)
    ORDER BY day
    ON CONFLICT (day, shard) DO UPDATE
    SET created = d.created + excluded.created, last_seen = d.last_seen + excluded.last_seen
$$
"""


def _user_changes(row: str, sign: str = "") -> str:
    """A live user's two days: the one it was created on, the one it was last seen on."""
    return (
        f"ROW({utc_day(f'{row}.created_at')}, {sign}1, 0)::live_user_change,"
        f" ROW({utc_day(f'{row}.last_seen_at')}, 0, {sign}1)::live_user_change"
    )


USERS_TRIGGER_FUNCTION_SQL = f"""
CREATE FUNCTION users_count_live_days() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM live_user_days_add(ARRAY(
            SELECT c FROM new_rows AS n, unnest(ARRAY[{_user_changes("n")}]) AS c WHERE n.deleted_at IS NULL));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM live_user_days_add(ARRAY(
            SELECT c FROM old_rows AS o, unnest(ARRAY[{_user_changes("o", "-")}]) AS c WHERE o.deleted_at IS NULL));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM live_user_days_add(
            CASE WHEN OLD.deleted_at IS NULL THEN ARRAY[{_user_changes("OLD", "-")}] ELSE '{{}}' END
            || CASE WHEN NEW.deleted_at IS NULL THEN ARRAY[{_user_changes("NEW")}] ELSE '{{}}' END);
    ELSE
        TRUNCATE live_user_days;
    END IF;
    RETURN NULL;
END
$$
"""

# last_seen_at moves on every request: the row trigger fires only when a
# user's last-seen day, created day or liveness changes.
USERS_TRIGGERS_SQL = [
    "CREATE TRIGGER trg_users_count_live_days_insert AFTER INSERT ON users"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_live_days()",
    "CREATE TRIGGER trg_users_count_live_days_delete AFTER DELETE ON users"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_live_days()",
    "CREATE TRIGGER trg_users_count_live_days_update AFTER UPDATE OF created_at, last_seen_at, deleted_at ON users"
    f" FOR EACH ROW WHEN (({utc_day('OLD.created_at')}, {utc_day('OLD.last_seen_at')}, OLD.deleted_at IS NULL)"
    f" IS DISTINCT FROM ({utc_day('NEW.created_at')}, {utc_day('NEW.last_seen_at')}, NEW.deleted_at IS NULL))"
    " EXECUTE FUNCTION users_count_live_days()",
    "CREATE TRIGGER trg_users_count_live_days_truncate AFTER TRUNCATE ON users"
    " FOR EACH STATEMENT EXECUTE FUNCTION users_count_live_days()",
]

LIVE_USER_DAYS_BACKFILL_SQL = f"""
INSERT INTO live_user_days (day, shard, created, last_seen)
SELECT day, 0, SUM(created), SUM(last_seen)
FROM (
    SELECT {utc_day("created_at")} AS day, 1 AS created, 0 AS last_seen FROM users WHERE deleted_at IS NULL
    UNION ALL
    SELECT {utc_day("last_seen_at")}, 0, 1 FROM users WHERE deleted_at IS NULL AND last_seen_at IS NOT NULL
) AS live
GROUP BY day
"""

# --- billing events ------------------------------------------------------------

# The affected subscriptions, each from the first UTC day whose MRR may have
# moved (null: no MRR-moving row changed, only whether it has a ledger).
LEDGER_REFRESH_SQL = f"""
CREATE FUNCTION ledger_summaries_refresh(subscription_ids text[], from_days date[]) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    -- One writer per subscription at a time, from here to its commit.
    INSERT INTO ledger_subscriptions AS l (subscription_id)
    SELECT id FROM unnest(subscription_ids) AS id ORDER BY id
    ON CONFLICT (subscription_id) DO UPDATE SET subscription_id = excluded.subscription_id;

    -- The subscriptions' changes from their from_day on leave the daily totals...
    WITH removed AS (
        DELETE FROM mrr_day_changes AS c
        USING unnest(subscription_ids, from_days) AS a(subscription_id, from_day)
        WHERE c.subscription_id = a.subscription_id AND c.day >= a.from_day
        RETURNING c.day, c.change
    )
    INSERT INTO mrr_days AS d (day, shard, change)
    SELECT day, {SHARD}, -SUM(change) FROM removed GROUP BY day ORDER BY day
    ON CONFLICT (day, shard) DO UPDATE SET change = d.change + excluded.change;

    -- ...and come back recomputed from the ledger. A day's change: its closing
    -- amount (the day's last row in replay order) less the closing amount of
    -- the day before, or of the day before from_day.
    WITH added AS (
        INSERT INTO mrr_day_changes (subscription_id, day, change)
        SELECT subscription_id, day, change
        FROM (
            SELECT closing.subscription_id, closing.day,
                   closing.amount - COALESCE(
                       LAG(closing.amount) OVER (PARTITION BY closing.subscription_id ORDER BY closing.day),
                       closing.opening
                   ) AS change
            FROM (
                SELECT DISTINCT ON (b.subscription_id, (b.occurred_at AT TIME ZONE 'UTC')::date)
                       b.subscription_id, (b.occurred_at AT TIME ZONE 'UTC')::date AS day,
                       COALESCE(b.new_amount, 0) AS amount, COALESCE(opening.amount, 0) AS opening
                FROM unnest(subscription_ids, from_days) AS a(subscription_id, from_day)
                LEFT JOIN LATERAL (
                    SELECT COALESCE(b.new_amount, 0) AS amount
                    FROM billing_events AS b
                    WHERE b.subscription_id = a.subscription_id
                      AND b.amount_delta IS NOT NULL
                      AND b.occurred_at < a.from_day::timestamp AT TIME ZONE 'UTC'
                    ORDER BY b.occurred_at DESC, b.stripe_event_id COLLATE "C" DESC
                    LIMIT 1
                ) AS opening ON true
                JOIN billing_events AS b
                  ON b.subscription_id = a.subscription_id
                 AND b.amount_delta IS NOT NULL
                 AND b.occurred_at >= a.from_day::timestamp AT TIME ZONE 'UTC'
                ORDER BY b.subscription_id, (b.occurred_at AT TIME ZONE 'UTC')::date,
                         b.occurred_at DESC, b.stripe_event_id COLLATE "C" DESC
            ) AS closing
        ) AS changes
        WHERE change <> 0
        RETURNING day, change
    )
    INSERT INTO mrr_days AS d (day, shard, change)
    SELECT day, {SHARD}, SUM(change) FROM added GROUP BY day ORDER BY day
    ON CONFLICT (day, shard) DO UPDATE SET change = d.change + excluded.change;

    DELETE FROM ledger_subscriptions AS l
    WHERE l.subscription_id = ANY (subscription_ids)
      AND NOT EXISTS (SELECT 1 FROM billing_events AS b WHERE b.subscription_id = l.subscription_id);
END
$$
"""


def _ledger_rows(rows: str) -> str:
    return (
        f"SELECT subscription_id, MIN({utc_day('occurred_at')}) FILTER (WHERE amount_delta IS NOT NULL) AS from_day"
        f" FROM {rows} GROUP BY subscription_id"
    )


BILLING_EVENTS_TRIGGER_FUNCTION_SQL = f"""
CREATE FUNCTION billing_events_refresh_ledger_summaries() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
DECLARE
    subscription_ids text[];
    from_days date[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE ledger_subscriptions, mrr_day_changes, mrr_days;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM ({_ledger_rows("new_rows")}) AS affected;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM ({_ledger_rows("old_rows")}) AS affected;
    ELSE
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM (
            SELECT subscription_id, MIN(from_day) AS from_day
            FROM ({_ledger_rows("old_rows")} UNION ALL {_ledger_rows("new_rows")}) AS both_sides
            GROUP BY subscription_id
        ) AS affected;
    END IF;
    IF subscription_ids IS NOT NULL THEN
        PERFORM ledger_summaries_refresh(subscription_ids, from_days);
    END IF;
    RETURN NULL;
END
$$
"""

BILLING_EVENTS_TRIGGERS_SQL = [
    "CREATE TRIGGER trg_billing_events_ledger_summaries_insert AFTER INSERT ON billing_events"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_events_refresh_ledger_summaries()",
    "CREATE TRIGGER trg_billing_events_ledger_summaries_update AFTER UPDATE ON billing_events"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION billing_events_refresh_ledger_summaries()",
    "CREATE TRIGGER trg_billing_events_ledger_summaries_delete AFTER DELETE ON billing_events"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_events_refresh_ledger_summaries()",
    "CREATE TRIGGER trg_billing_events_ledger_summaries_truncate AFTER TRUNCATE ON billing_events"
    " FOR EACH STATEMENT EXECUTE FUNCTION billing_events_refresh_ledger_summaries()",
]

LEDGER_BACKFILL_SQL = f"""
SELECT ledger_summaries_refresh(array_agg(subscription_id), array_agg(from_day))
FROM ({_ledger_rows("billing_events")}) AS every_subscription
"""

# --- revenue -------------------------------------------------------------------

# Rows adding nothing are dropped, so the table holds the paying subscriptions.
REVENUE_REFRESH_SQL = """
CREATE FUNCTION subscription_revenue_refresh(subscription_ids text[]) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    -- One writer per subscription at a time, from here to its commit.
    INSERT INTO subscription_revenue AS r (subscription_id, revenue, in_total_revenue)
    SELECT DISTINCT id, 0, false FROM unnest(subscription_ids) AS id WHERE id IS NOT NULL ORDER BY id
    ON CONFLICT (subscription_id) DO UPDATE SET revenue = r.revenue;

    UPDATE subscription_revenue AS r
    SET revenue = COALESCE(earned.revenue, 0),
        in_total_revenue = COALESCE(s.plan <> 'Basis' OR (t.deleted_at IS NULL AND t.plan = 'Basis'), false)
    FROM (SELECT DISTINCT id FROM unnest(subscription_ids) AS id) AS a
    LEFT JOIN subscriptions AS s ON s.id = a.id
    LEFT JOIN tenants AS t ON t.id = s.tenant_id
    LEFT JOIN LATERAL (
        SELECT SUM(p.amount_excluding_tax) AS revenue
        FROM payment_transaction_rows AS p
        WHERE p.subscription_id = a.id AND p.counts_as_revenue
    ) AS earned ON true
    WHERE r.subscription_id = a.id;

    DELETE FROM subscription_revenue WHERE subscription_id = ANY (subscription_ids) AND revenue = 0;
END
$$
"""


def _revenue_days_add(*sources: tuple[str, int]) -> str:
    """Adds the revenue trend's movements of some payment rows to revenue_days:
    each charge added on its added_on day and taken back on its reversed_on
    day, signed 1 for rows that arrived and -1 for rows that left."""
    moves = "\n            UNION ALL\n            ".join(
        f"SELECT added_on AS day, {sign} * amount_excluding_tax AS amount FROM {rows} WHERE added_on IS NOT NULL"
        "\n            UNION ALL\n            "
        f"SELECT reversed_on, {-sign} * amount_excluding_tax FROM {rows} WHERE reversed_on IS NOT NULL"
        for rows, sign in sources
    )
    return f"""INSERT INTO revenue_days AS d (day, shard, amount)
        SELECT day, {SHARD}, SUM(amount)
        FROM (
            {moves}
        ) AS moves
        GROUP BY day HAVING SUM(amount) <> 0 ORDER BY day
        ON CONFLICT (day, shard) DO UPDATE SET amount = d.amount + excluded.amount"""


REVENUE_TRIGGER_FUNCTION_SQL = f"""
CREATE FUNCTION revenue_summaries_follow() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE subscription_revenue, revenue_days;
    ELSIF TG_TABLE_NAME = 'tenants' THEN
        PERFORM subscription_revenue_refresh(ARRAY(SELECT id FROM subscriptions WHERE tenant_id = NEW.id));
    ELSIF TG_TABLE_NAME = 'subscriptions' THEN
        PERFORM subscription_revenue_refresh(ARRAY[OLD.id, NEW.id]);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM subscription_revenue_refresh(ARRAY(SELECT subscription_id FROM new_rows));
        {_revenue_days_add(("new_rows", 1))};
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM subscription_revenue_refresh(ARRAY(SELECT subscription_id FROM old_rows));
        {_revenue_days_add(("old_rows", -1))};
    ELSE
        PERFORM subscription_revenue_refresh(
            ARRAY(SELECT subscription_id FROM old_rows UNION SELECT subscription_id FROM new_rows));
        {_revenue_days_add(("new_rows", 1), ("old_rows", -1))};
    END IF;
    RETURN NULL;
END
$$
"""

REVENUE_TRIGGERS_SQL = [
    "CREATE TRIGGER trg_payment_transaction_rows_revenue_insert AFTER INSERT ON payment_transaction_rows"
    " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION revenue_summaries_follow()",
    "CREATE TRIGGER trg_payment_transaction_rows_revenue_update AFTER UPDATE ON payment_transaction_rows"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT"
    " EXECUTE FUNCTION revenue_summaries_follow()",
    "CREATE TRIGGER trg_payment_transaction_rows_revenue_delete AFTER DELETE ON payment_transaction_rows"
    " REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION revenue_summaries_follow()",
    "CREATE TRIGGER trg_payment_transaction_rows_revenue_truncate AFTER TRUNCATE ON payment_transaction_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION revenue_summaries_follow()",
    "CREATE TRIGGER trg_subscriptions_revenue_update AFTER UPDATE OF id, plan, tenant_id ON subscriptions FOR EACH ROW"
    " WHEN ((OLD.id, OLD.plan, OLD.tenant_id) IS DISTINCT FROM (NEW.id, NEW.plan, NEW.tenant_id))"
    " EXECUTE FUNCTION revenue_summaries_follow()",
    "CREATE TRIGGER trg_tenants_revenue_update AFTER UPDATE OF plan, deleted_at ON tenants FOR EACH ROW"
    " WHEN ((OLD.plan, OLD.deleted_at IS NULL) IS DISTINCT FROM (NEW.plan, NEW.deleted_at IS NULL))"
    " EXECUTE FUNCTION revenue_summaries_follow()",
]

REVENUE_BACKFILL_SQL = [
    "SELECT subscription_revenue_refresh(array_agg(DISTINCT subscription_id))"
    " FROM payment_transaction_rows WHERE counts_as_revenue",
    _revenue_days_add(("payment_transaction_rows", 1)),
]

FUNCTIONS = [
    "revenue_summaries_follow()",
    "subscription_revenue_refresh(text[])",
    "billing_events_refresh_ledger_summaries()",
    "ledger_summaries_refresh(text[], date[])",
    "users_count_live_days()",
    "live_user_days_add(live_user_change[])",
    "external_logins_count_logins()",
    "email_logins_count_logins()",
    "login_counts_rebuild()",
    "login_counts_recount()",
    "login_counts_add(login_count_change[])",
]

TRIGGERS = (
    [
        (f"trg_payment_transaction_rows_revenue_{op_name}", "payment_transaction_rows")
        for op_name in ("insert", "update", "delete", "truncate")
    ]
    + [("trg_subscriptions_revenue_update", "subscriptions"), ("trg_tenants_revenue_update", "tenants")]
    + [
        (f"trg_billing_events_ledger_summaries_{op_name}", "billing_events")
        for op_name in ("insert", "update", "delete", "truncate")
    ]
    + [(f"trg_users_count_live_days_{op_name}", "users") for op_name in ("insert", "delete", "update", "truncate")]
    + [
        (f"trg_{table}_count_logins_{op_name}", table)
        for table in LOGIN_OUTCOMES
        for op_name in ("insert", "delete", "update", "truncate")
    ]
)


def upgrade() -> None:
    for statement in TABLES_SQL:
        op.execute(statement)
    op.execute(LOGIN_CHANGE_TYPE_SQL)
    op.execute(USER_CHANGE_TYPE_SQL)
    for statement in (
        LOGIN_COUNTS_ADD_SQL,
        LOGIN_COUNTS_RECOUNT_SQL,
        LOGIN_COUNTS_REBUILD_SQL,
        login_trigger_function_sql("email_logins"),
        login_trigger_function_sql("external_logins"),
        LIVE_USER_DAYS_ADD_SQL,
        USERS_TRIGGER_FUNCTION_SQL,
        LEDGER_REFRESH_SQL,
        BILLING_EVENTS_TRIGGER_FUNCTION_SQL,
        REVENUE_REFRESH_SQL,
        REVENUE_TRIGGER_FUNCTION_SQL,
    ):
        op.execute(statement)
    # Backfill before the triggers exist: the migration holds the tables' locks.
    op.execute(
        "LOCK TABLE email_logins, external_logins, users, billing_events, payment_transaction_rows, subscriptions,"
        " tenants IN SHARE MODE"
    )
    op.execute("SELECT login_counts_recount()")
    op.execute(LIVE_USER_DAYS_BACKFILL_SQL)
    op.execute(LEDGER_BACKFILL_SQL)
    for statement in REVENUE_BACKFILL_SQL:
        op.execute(statement)
    for table in LOGIN_OUTCOMES:
        for statement in login_triggers_sql(table):
            op.execute(statement)
    for statement in USERS_TRIGGERS_SQL + BILLING_EVENTS_TRIGGERS_SQL + REVENUE_TRIGGERS_SQL:
        op.execute(statement)
    for table in SUMMARY_TABLES:
        # Readable by both roles; written only by the trigger functions.
        op.execute(f"REVOKE ALL ON {table} FROM backoffice_admin, backoffice_reader")
        op.execute(f"GRANT SELECT ON {table} TO backoffice_reader, backoffice_admin")
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def downgrade() -> None:
    for name in reversed(list(INDEXES)):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for function in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TYPE IF EXISTS live_user_change")
    op.execute("DROP TYPE IF EXISTS login_count_change")
    for table in reversed(SUMMARY_TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table}")
