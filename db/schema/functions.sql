-- Every function and trigger of the schema at the newest migration, as
-- PostgreSQL prints them back (pg_get_functiondef, pg_get_triggerdef).
-- Generated: tests/db/test_schema_snapshot.py checks it against a migrated
-- database and says how to write it again. Read it; change the migrations.

-- function account_classes_rebuild()
CREATE OR REPLACE FUNCTION public.account_classes_rebuild()
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    -- Waits for every writer holding a class row, and keeps new ones out.
    LOCK TABLE public.account_classes IN EXCLUSIVE MODE;
    DELETE FROM public.account_class_counts;
    DELETE FROM public.account_classes;
    INSERT INTO public.account_classes (tenant_id, live, plan, active, status, ever_paid, unsynced, drift, forward_mrr)
    
SELECT t.id AS tenant_id,
       t.deleted_at IS NULL AS live,
       t.plan,
       t.state = 'Active' AS active,
       CASE WHEN s.cancel_at_period_end THEN 'Canceling' WHEN s.scheduled_plan IS NOT NULL THEN 'Downgrading' WHEN t.plan <> 'Basis' THEN 'Active' WHEN jsonb_path_exists(s.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")') THEN 'Canceled' ELSE 'Free' END AS status,
       COALESCE(jsonb_path_exists(s.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")'), false) AS ever_paid,
       COALESCE(s.current_price_amount IS NOT NULL AND l.subscription_id IS NULL, false) AS unsynced,
       COALESCE(s.has_drift_detected, false) AS drift,
       CASE WHEN s.plan <> 'Basis' THEN CASE WHEN s.current_price_amount IS NULL OR s.cancel_at_period_end THEN 0 ELSE COALESCE(s.scheduled_price_amount, s.current_price_amount) END ELSE 0 END AS forward_mrr
FROM public.tenants AS t
LEFT JOIN public.subscriptions AS s ON s.tenant_id = t.id
LEFT JOIN public.ledger_subscriptions AS l ON l.subscription_id = s.id
WHERE true
;
    INSERT INTO public.account_class_counts (live, plan, active, status, ever_paid, unsynced, drift, shard, tenants, forward_mrr)
    SELECT live, plan, active, status, ever_paid, unsynced, drift, 0, count(*), sum(forward_mrr) FROM public.account_classes
    GROUP BY live, plan, active, status, ever_paid, unsynced, drift ORDER BY live, plan, active, status, ever_paid, unsynced, drift;
END
$function$;

-- function account_classes_refresh(tenant_ids bigint[])
CREATE OR REPLACE FUNCTION public.account_classes_refresh(tenant_ids bigint[])
 RETURNS void
 LANGUAGE plpgsql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    -- One writer per tenant at a time, from here to its commit, and before
    -- any source row is read (docs/rules.md R192).
    INSERT INTO public.account_classes AS c (tenant_id)
    SELECT DISTINCT id FROM unnest(tenant_ids) AS id WHERE id IS NOT NULL ORDER BY id
    ON CONFLICT (tenant_id) DO UPDATE SET tenant_id = excluded.tenant_id;

    -- The tenants whose class moved (or that are gone) leave their old count
    -- and join their new one; the stored class follows.
    WITH fresh AS (
SELECT t.id AS tenant_id,
       t.deleted_at IS NULL AS live,
       t.plan,
       t.state = 'Active' AS active,
       CASE WHEN s.cancel_at_period_end THEN 'Canceling' WHEN s.scheduled_plan IS NOT NULL THEN 'Downgrading' WHEN t.plan <> 'Basis' THEN 'Active' WHEN jsonb_path_exists(s.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")') THEN 'Canceled' ELSE 'Free' END AS status,
       COALESCE(jsonb_path_exists(s.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")'), false) AS ever_paid,
       COALESCE(s.current_price_amount IS NOT NULL AND l.subscription_id IS NULL, false) AS unsynced,
       COALESCE(s.has_drift_detected, false) AS drift,
       CASE WHEN s.plan <> 'Basis' THEN CASE WHEN s.current_price_amount IS NULL OR s.cancel_at_period_end THEN 0 ELSE COALESCE(s.scheduled_price_amount, s.current_price_amount) END ELSE 0 END AS forward_mrr
FROM public.tenants AS t
LEFT JOIN public.subscriptions AS s ON s.tenant_id = t.id
LEFT JOIN public.ledger_subscriptions AS l ON l.subscription_id = s.id
WHERE t.id = ANY (tenant_ids)
),
    moved AS (
        SELECT c.tenant_id, f.tenant_id IS NULL AS gone,
               c.live AS old_live, c.plan AS old_plan, c.active AS old_active, c.status AS old_status, c.ever_paid AS old_ever_paid, c.unsynced AS old_unsynced, c.drift AS old_drift, c.forward_mrr AS old_forward_mrr,
               f.live AS new_live, f.plan AS new_plan, f.active AS new_active, f.status AS new_status, f.ever_paid AS new_ever_paid, f.unsynced AS new_unsynced, f.drift AS new_drift, f.forward_mrr AS new_forward_mrr
        FROM public.account_classes AS c
        LEFT JOIN fresh AS f ON f.tenant_id = c.tenant_id
        WHERE c.tenant_id = ANY (tenant_ids)
          AND (f.tenant_id IS NULL
               OR (c.live, c.plan, c.active, c.status, c.ever_paid, c.unsynced, c.drift, c.forward_mrr)
                  IS DISTINCT FROM (f.live, f.plan, f.active, f.status, f.ever_paid, f.unsynced, f.drift, f.forward_mrr))
    ),
    stored AS (
        UPDATE public.account_classes AS c
        SET (live, plan, active, status, ever_paid, unsynced, drift, forward_mrr) = (m.new_live, m.new_plan, m.new_active, m.new_status, m.new_ever_paid, m.new_unsynced, m.new_drift, m.new_forward_mrr)
        FROM moved AS m
        WHERE c.tenant_id = m.tenant_id AND NOT m.gone
    ),
    removed AS (
        DELETE FROM public.account_classes AS c USING moved AS m WHERE c.tenant_id = m.tenant_id AND m.gone
    )
    INSERT INTO public.account_class_counts AS n (live, plan, active, status, ever_paid, unsynced, drift, shard, tenants, forward_mrr)
    SELECT live, plan, active, status, ever_paid, unsynced, drift, (pg_backend_pid() % 16)::smallint, sum(delta), sum(mrr)
    FROM (SELECT old_live AS live, old_plan AS plan, old_active AS active, old_status AS status, old_ever_paid AS ever_paid, old_unsynced AS unsynced, old_drift AS drift, -1 AS delta, -old_forward_mrr AS mrr FROM moved WHERE old_live IS NOT NULL UNION ALL SELECT new_live AS live, new_plan AS plan, new_active AS active, new_status AS status, new_ever_paid AS ever_paid, new_unsynced AS unsynced, new_drift AS drift, 1 AS delta, new_forward_mrr AS mrr FROM moved WHERE new_live IS NOT NULL) AS moves
    GROUP BY live, plan, active, status, ever_paid, unsynced, drift
    HAVING sum(delta) <> 0 OR sum(mrr) <> 0
    ORDER BY live, plan, active, status, ever_paid, unsynced, drift
    ON CONFLICT (live, plan, active, status, ever_paid, unsynced, drift, shard)
    DO UPDATE SET tenants = n.tenants + excluded.tenants, forward_mrr = n.forward_mrr + excluded.forward_mrr;
END
$function$;

-- function billing_event_day_counts_apply()
CREATE OR REPLACE FUNCTION public.billing_event_day_counts_apply()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.billing_event_day_counts;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO public.billing_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, 1 AS delta FROM new_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO public.billing_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, -1 AS delta FROM old_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
    ELSE
        INSERT INTO public.billing_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, 1 AS delta FROM new_rows UNION ALL SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, -1 AS delta FROM old_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
    END IF;
    RETURN NULL;
END
$function$;

-- function billing_events_count_mrr_movements()
CREATE OR REPLACE FUNCTION public.billing_events_count_mrr_movements()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.mrr_movement_days;
    ELSIF TG_OP = 'INSERT' THEN
        WITH affected AS ( SELECT subscription_id, MIN(occurred_at) AS from_time FROM (SELECT * FROM new_rows) AS changed WHERE amount_delta IS NOT NULL GROUP BY subscription_id) INSERT INTO public.mrr_movement_days AS d (day, shard, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr) SELECT day, (pg_backend_pid() % 16)::smallint, SUM(new_mrr), SUM(expansion_mrr), SUM(reactivation_mrr), SUM(contraction_mrr), SUM(churned_mrr) FROM (SELECT ((occurred_at) AT TIME ZONE 'UTC')::date AS day, -(CASE WHEN before = 0 AND after > 0 AND NOT paid_before THEN after ELSE 0 END) AS new_mrr, -(CASE WHEN before > 0 AND after > before THEN after - before ELSE 0 END) AS expansion_mrr, -(CASE WHEN before = 0 AND after > 0 AND paid_before THEN after ELSE 0 END) AS reactivation_mrr, -(CASE WHEN after > 0 AND after < before THEN before - after ELSE 0 END) AS contraction_mrr, -(CASE WHEN before > 0 AND after = 0 THEN before ELSE 0 END) AS churned_mrr FROM (SELECT s.* FROM (
        SELECT r.subscription_id, r.occurred_at,
               COALESCE(r.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(r.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(r.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM (SELECT b.subscription_id, b.occurred_at, b.stripe_event_id, b.new_amount FROM affected AS a JOIN public.billing_events AS b ON b.subscription_id = a.subscription_id AND b.amount_delta IS NOT NULL WHERE NOT EXISTS (SELECT 1 FROM new_rows AS n WHERE n.id = b.id)) AS r
        WINDOW replay AS (
            PARTITION BY r.subscription_id ORDER BY r.occurred_at, r.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )) AS s JOIN affected AS a USING (subscription_id) WHERE s.occurred_at >= a.from_time) AS steps UNION ALL SELECT ((occurred_at) AT TIME ZONE 'UTC')::date AS day, (CASE WHEN before = 0 AND after > 0 AND NOT paid_before THEN after ELSE 0 END) AS new_mrr, (CASE WHEN before > 0 AND after > before THEN after - before ELSE 0 END) AS expansion_mrr, (CASE WHEN before = 0 AND after > 0 AND paid_before THEN after ELSE 0 END) AS reactivation_mrr, (CASE WHEN after > 0 AND after < before THEN before - after ELSE 0 END) AS contraction_mrr, (CASE WHEN before > 0 AND after = 0 THEN before ELSE 0 END) AS churned_mrr FROM (SELECT s.* FROM (
        SELECT r.subscription_id, r.occurred_at,
               COALESCE(r.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(r.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(r.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM (SELECT b.subscription_id, b.occurred_at, b.stripe_event_id, b.new_amount FROM affected AS a JOIN public.billing_events AS b ON b.subscription_id = a.subscription_id AND b.amount_delta IS NOT NULL) AS r
        WINDOW replay AS (
            PARTITION BY r.subscription_id ORDER BY r.occurred_at, r.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )) AS s JOIN affected AS a USING (subscription_id) WHERE s.occurred_at >= a.from_time) AS steps) AS moves WHERE day IS NOT NULL GROUP BY day HAVING (SUM(new_mrr), SUM(expansion_mrr), SUM(reactivation_mrr), SUM(contraction_mrr), SUM(churned_mrr)) <> (0, 0, 0, 0, 0) ORDER BY day ON CONFLICT (day, shard) DO UPDATE SET new_mrr = d.new_mrr + excluded.new_mrr, expansion_mrr = d.expansion_mrr + excluded.expansion_mrr, reactivation_mrr = d.reactivation_mrr + excluded.reactivation_mrr, contraction_mrr = d.contraction_mrr + excluded.contraction_mrr, churned_mrr = d.churned_mrr + excluded.churned_mrr;
    ELSIF TG_OP = 'DELETE' THEN
        WITH affected AS ( SELECT subscription_id, MIN(occurred_at) AS from_time FROM (SELECT * FROM old_rows) AS changed WHERE amount_delta IS NOT NULL GROUP BY subscription_id) INSERT INTO public.mrr_movement_days AS d (day, shard, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr) SELECT day, (pg_backend_pid() % 16)::smallint, SUM(new_mrr), SUM(expansion_mrr), SUM(reactivation_mrr), SUM(contraction_mrr), SUM(churned_mrr) FROM (SELECT ((occurred_at) AT TIME ZONE 'UTC')::date AS day, -(CASE WHEN before = 0 AND after > 0 AND NOT paid_before THEN after ELSE 0 END) AS new_mrr, -(CASE WHEN before > 0 AND after > before THEN after - before ELSE 0 END) AS expansion_mrr, -(CASE WHEN before = 0 AND after > 0 AND paid_before THEN after ELSE 0 END) AS reactivation_mrr, -(CASE WHEN after > 0 AND after < before THEN before - after ELSE 0 END) AS contraction_mrr, -(CASE WHEN before > 0 AND after = 0 THEN before ELSE 0 END) AS churned_mrr FROM (SELECT s.* FROM (
        SELECT r.subscription_id, r.occurred_at,
               COALESCE(r.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(r.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(r.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM (SELECT b.subscription_id, b.occurred_at, b.stripe_event_id, b.new_amount FROM affected AS a JOIN public.billing_events AS b ON b.subscription_id = a.subscription_id AND b.amount_delta IS NOT NULL UNION ALL SELECT subscription_id, occurred_at, stripe_event_id, new_amount FROM old_rows WHERE amount_delta IS NOT NULL) AS r
        WINDOW replay AS (
            PARTITION BY r.subscription_id ORDER BY r.occurred_at, r.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )) AS s JOIN affected AS a USING (subscription_id) WHERE s.occurred_at >= a.from_time) AS steps UNION ALL SELECT ((occurred_at) AT TIME ZONE 'UTC')::date AS day, (CASE WHEN before = 0 AND after > 0 AND NOT paid_before THEN after ELSE 0 END) AS new_mrr, (CASE WHEN before > 0 AND after > before THEN after - before ELSE 0 END) AS expansion_mrr, (CASE WHEN before = 0 AND after > 0 AND paid_before THEN after ELSE 0 END) AS reactivation_mrr, (CASE WHEN after > 0 AND after < before THEN before - after ELSE 0 END) AS contraction_mrr, (CASE WHEN before > 0 AND after = 0 THEN before ELSE 0 END) AS churned_mrr FROM (SELECT s.* FROM (
        SELECT r.subscription_id, r.occurred_at,
               COALESCE(r.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(r.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(r.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM (SELECT b.subscription_id, b.occurred_at, b.stripe_event_id, b.new_amount FROM affected AS a JOIN public.billing_events AS b ON b.subscription_id = a.subscription_id AND b.amount_delta IS NOT NULL) AS r
        WINDOW replay AS (
            PARTITION BY r.subscription_id ORDER BY r.occurred_at, r.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )) AS s JOIN affected AS a USING (subscription_id) WHERE s.occurred_at >= a.from_time) AS steps) AS moves WHERE day IS NOT NULL GROUP BY day HAVING (SUM(new_mrr), SUM(expansion_mrr), SUM(reactivation_mrr), SUM(contraction_mrr), SUM(churned_mrr)) <> (0, 0, 0, 0, 0) ORDER BY day ON CONFLICT (day, shard) DO UPDATE SET new_mrr = d.new_mrr + excluded.new_mrr, expansion_mrr = d.expansion_mrr + excluded.expansion_mrr, reactivation_mrr = d.reactivation_mrr + excluded.reactivation_mrr, contraction_mrr = d.contraction_mrr + excluded.contraction_mrr, churned_mrr = d.churned_mrr + excluded.churned_mrr;
    ELSE
        WITH affected AS ( SELECT subscription_id, MIN(occurred_at) AS from_time FROM (SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) AS changed WHERE amount_delta IS NOT NULL GROUP BY subscription_id) INSERT INTO public.mrr_movement_days AS d (day, shard, new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr) SELECT day, (pg_backend_pid() % 16)::smallint, SUM(new_mrr), SUM(expansion_mrr), SUM(reactivation_mrr), SUM(contraction_mrr), SUM(churned_mrr) FROM (SELECT ((occurred_at) AT TIME ZONE 'UTC')::date AS day, -(CASE WHEN before = 0 AND after > 0 AND NOT paid_before THEN after ELSE 0 END) AS new_mrr, -(CASE WHEN before > 0 AND after > before THEN after - before ELSE 0 END) AS expansion_mrr, -(CASE WHEN before = 0 AND after > 0 AND paid_before THEN after ELSE 0 END) AS reactivation_mrr, -(CASE WHEN after > 0 AND after < before THEN before - after ELSE 0 END) AS contraction_mrr, -(CASE WHEN before > 0 AND after = 0 THEN before ELSE 0 END) AS churned_mrr FROM (SELECT s.* FROM (
        SELECT r.subscription_id, r.occurred_at,
               COALESCE(r.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(r.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(r.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM (SELECT b.subscription_id, b.occurred_at, b.stripe_event_id, b.new_amount FROM affected AS a JOIN public.billing_events AS b ON b.subscription_id = a.subscription_id AND b.amount_delta IS NOT NULL WHERE NOT EXISTS (SELECT 1 FROM new_rows AS n WHERE n.id = b.id) UNION ALL SELECT subscription_id, occurred_at, stripe_event_id, new_amount FROM old_rows WHERE amount_delta IS NOT NULL) AS r
        WINDOW replay AS (
            PARTITION BY r.subscription_id ORDER BY r.occurred_at, r.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )) AS s JOIN affected AS a USING (subscription_id) WHERE s.occurred_at >= a.from_time) AS steps UNION ALL SELECT ((occurred_at) AT TIME ZONE 'UTC')::date AS day, (CASE WHEN before = 0 AND after > 0 AND NOT paid_before THEN after ELSE 0 END) AS new_mrr, (CASE WHEN before > 0 AND after > before THEN after - before ELSE 0 END) AS expansion_mrr, (CASE WHEN before = 0 AND after > 0 AND paid_before THEN after ELSE 0 END) AS reactivation_mrr, (CASE WHEN after > 0 AND after < before THEN before - after ELSE 0 END) AS contraction_mrr, (CASE WHEN before > 0 AND after = 0 THEN before ELSE 0 END) AS churned_mrr FROM (SELECT s.* FROM (
        SELECT r.subscription_id, r.occurred_at,
               COALESCE(r.new_amount, 0) AS after,
               COALESCE(LAG(COALESCE(r.new_amount, 0)) OVER replay, 0) AS before,
               COALESCE(MAX(COALESCE(r.new_amount, 0)) OVER replay, 0) > 0 AS paid_before
        FROM (SELECT b.subscription_id, b.occurred_at, b.stripe_event_id, b.new_amount FROM affected AS a JOIN public.billing_events AS b ON b.subscription_id = a.subscription_id AND b.amount_delta IS NOT NULL) AS r
        WINDOW replay AS (
            PARTITION BY r.subscription_id ORDER BY r.occurred_at, r.stripe_event_id COLLATE "C"
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        )) AS s JOIN affected AS a USING (subscription_id) WHERE s.occurred_at >= a.from_time) AS steps) AS moves WHERE day IS NOT NULL GROUP BY day HAVING (SUM(new_mrr), SUM(expansion_mrr), SUM(reactivation_mrr), SUM(contraction_mrr), SUM(churned_mrr)) <> (0, 0, 0, 0, 0) ORDER BY day ON CONFLICT (day, shard) DO UPDATE SET new_mrr = d.new_mrr + excluded.new_mrr, expansion_mrr = d.expansion_mrr + excluded.expansion_mrr, reactivation_mrr = d.reactivation_mrr + excluded.reactivation_mrr, contraction_mrr = d.contraction_mrr + excluded.contraction_mrr, churned_mrr = d.churned_mrr + excluded.churned_mrr;
    END IF;
    RETURN NULL;
END
$function$;

-- function billing_events_refresh_ledger_summaries()
CREATE OR REPLACE FUNCTION public.billing_events_refresh_ledger_summaries()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

DECLARE
    subscription_ids text[];
    from_days date[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.ledger_subscriptions, public.mrr_day_changes, public.mrr_days;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM (SELECT subscription_id, MIN(((occurred_at) AT TIME ZONE 'UTC')::date) FILTER (WHERE amount_delta IS NOT NULL) AS from_day FROM new_rows GROUP BY subscription_id) AS affected;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM (SELECT subscription_id, MIN(((occurred_at) AT TIME ZONE 'UTC')::date) FILTER (WHERE amount_delta IS NOT NULL) AS from_day FROM old_rows GROUP BY subscription_id) AS affected;
    ELSE
        SELECT array_agg(subscription_id), array_agg(from_day) INTO subscription_ids, from_days
        FROM (
            SELECT subscription_id, MIN(from_day) AS from_day
            FROM (SELECT subscription_id, MIN(((occurred_at) AT TIME ZONE 'UTC')::date) FILTER (WHERE amount_delta IS NOT NULL) AS from_day FROM old_rows GROUP BY subscription_id UNION ALL SELECT subscription_id, MIN(((occurred_at) AT TIME ZONE 'UTC')::date) FILTER (WHERE amount_delta IS NOT NULL) AS from_day FROM new_rows GROUP BY subscription_id) AS both_sides
            GROUP BY subscription_id
        ) AS affected;
    END IF;
    IF subscription_ids IS NOT NULL THEN
        PERFORM public.ledger_summaries_refresh(subscription_ids, from_days);
    END IF;
    RETURN NULL;
END
$function$;

-- function counted_users_add(seen timestamp with time zone[], deltas integer[])
CREATE OR REPLACE FUNCTION public.counted_users_add(seen timestamp with time zone[], deltas integer[])
 RETURNS void
 LANGUAGE sql
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
    INSERT INTO public.counted_user_days AS d (day, shard, users) SELECT day, (pg_backend_pid() % 16)::smallint, SUM(users) FROM (SELECT COALESCE(((c.seen_at) AT TIME ZONE 'UTC')::date, '-infinity'::date) AS day, delta AS users FROM unnest(seen, deltas) AS c(seen_at, delta)) AS moves WHERE day IS NOT NULL GROUP BY day HAVING SUM(users) <> 0 ORDER BY day ON CONFLICT (day, shard) DO UPDATE SET users = d.users + excluded.users;
    INSERT INTO public.counted_user_hours AS d (hour, shard, users) SELECT hour, (pg_backend_pid() % 16)::smallint, SUM(users) FROM (SELECT COALESCE((date_trunc('hour', (c.seen_at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), '-infinity'::timestamptz) AS hour, delta AS users FROM unnest(seen, deltas) AS c(seen_at, delta)) AS moves WHERE hour IS NOT NULL GROUP BY hour HAVING SUM(users) <> 0 ORDER BY hour ON CONFLICT (hour, shard) DO UPDATE SET users = d.users + excluded.users;
$function$;

-- function deleted_account_counts_follow_tenants()
CREATE OR REPLACE FUNCTION public.deleted_account_counts_follow_tenants()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.deleted_account_event_day_counts;
        DELETE FROM public.deleted_account_invoice_row_counts;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO public.deleted_account_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, 1 AS delta FROM (SELECT r.occurred_at, r.event_type FROM public.billing_events AS r WHERE r.tenant_id IN (SELECT id FROM new_rows WHERE deleted_at IS NOT NULL)) AS their_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
        INSERT INTO public.deleted_account_invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, 1 AS delta FROM (SELECT r.invoice_status, r.reversal_kind FROM public.payment_transaction_rows AS r WHERE r.tenant_id IN (SELECT id FROM new_rows WHERE deleted_at IS NOT NULL)) AS their_rows UNION ALL SELECT reversal_kind, 'Refunded', 1 FROM (SELECT r.invoice_status, r.reversal_kind FROM public.payment_transaction_rows AS r WHERE r.tenant_id IN (SELECT id FROM new_rows WHERE deleted_at IS NOT NULL)) AS their_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO public.deleted_account_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, -1 AS delta FROM (SELECT r.occurred_at, r.event_type FROM public.billing_events AS r WHERE r.tenant_id IN (SELECT id FROM old_rows WHERE deleted_at IS NOT NULL)) AS their_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
        INSERT INTO public.deleted_account_invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, -1 AS delta FROM (SELECT r.invoice_status, r.reversal_kind FROM public.payment_transaction_rows AS r WHERE r.tenant_id IN (SELECT id FROM old_rows WHERE deleted_at IS NOT NULL)) AS their_rows UNION ALL SELECT reversal_kind, 'Refunded', -1 FROM (SELECT r.invoice_status, r.reversal_kind FROM public.payment_transaction_rows AS r WHERE r.tenant_id IN (SELECT id FROM old_rows WHERE deleted_at IS NOT NULL)) AS their_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO public.deleted_account_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, 1 AS delta FROM (SELECT r.occurred_at, r.event_type FROM public.billing_events AS r WHERE r.tenant_id IN (SELECT id FROM new_rows WHERE deleted_at IS NOT NULL EXCEPT SELECT id FROM old_rows WHERE deleted_at IS NOT NULL)) AS their_rows UNION ALL SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, -1 AS delta FROM (SELECT r.occurred_at, r.event_type FROM public.billing_events AS r WHERE r.tenant_id IN (SELECT id FROM old_rows WHERE deleted_at IS NOT NULL EXCEPT SELECT id FROM new_rows WHERE deleted_at IS NOT NULL)) AS their_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
        INSERT INTO public.deleted_account_invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, 1 AS delta FROM (SELECT r.invoice_status, r.reversal_kind FROM public.payment_transaction_rows AS r WHERE r.tenant_id IN (SELECT id FROM new_rows WHERE deleted_at IS NOT NULL EXCEPT SELECT id FROM old_rows WHERE deleted_at IS NOT NULL)) AS their_rows UNION ALL SELECT reversal_kind, 'Refunded', 1 FROM (SELECT r.invoice_status, r.reversal_kind FROM public.payment_transaction_rows AS r WHERE r.tenant_id IN (SELECT id FROM new_rows WHERE deleted_at IS NOT NULL EXCEPT SELECT id FROM old_rows WHERE deleted_at IS NOT NULL)) AS their_rows WHERE reversal_kind IS NOT NULL UNION ALL SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, -1 AS delta FROM (SELECT r.invoice_status, r.reversal_kind FROM public.payment_transaction_rows AS r WHERE r.tenant_id IN (SELECT id FROM old_rows WHERE deleted_at IS NOT NULL EXCEPT SELECT id FROM new_rows WHERE deleted_at IS NOT NULL)) AS their_rows UNION ALL SELECT reversal_kind, 'Refunded', -1 FROM (SELECT r.invoice_status, r.reversal_kind FROM public.payment_transaction_rows AS r WHERE r.tenant_id IN (SELECT id FROM old_rows WHERE deleted_at IS NOT NULL EXCEPT SELECT id FROM new_rows WHERE deleted_at IS NOT NULL)) AS their_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    END IF;
    RETURN NULL;
END
$function$;

-- function deleted_account_event_day_counts_apply()
CREATE OR REPLACE FUNCTION public.deleted_account_event_day_counts_apply()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.deleted_account_event_day_counts;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT DISTINCT tenant_id FROM new_rows) ORDER BY id FOR SHARE;
        INSERT INTO public.deleted_account_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, 1 AS delta FROM (SELECT r.occurred_at, r.event_type FROM new_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT DISTINCT tenant_id FROM old_rows) ORDER BY id FOR SHARE;
        INSERT INTO public.deleted_account_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, -1 AS delta FROM (SELECT r.occurred_at, r.event_type FROM old_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
    ELSE
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT tenant_id FROM new_rows UNION SELECT tenant_id FROM old_rows) ORDER BY id FOR SHARE;
        INSERT INTO public.deleted_account_event_day_counts AS c (day, event_type, shard, events) SELECT day, event_type, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, 1 AS delta FROM (SELECT r.occurred_at, r.event_type FROM new_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows UNION ALL SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day, event_type, -1 AS delta FROM (SELECT r.occurred_at, r.event_type FROM old_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows) AS moves GROUP BY day, event_type HAVING sum(delta) <> 0 ORDER BY day, event_type ON CONFLICT (day, event_type, shard) DO UPDATE SET events = c.events + excluded.events;
    END IF;
    RETURN NULL;
END
$function$;

-- function deleted_account_invoice_row_counts_apply()
CREATE OR REPLACE FUNCTION public.deleted_account_invoice_row_counts_apply()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.deleted_account_invoice_row_counts;
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT DISTINCT tenant_id FROM new_rows) ORDER BY id FOR SHARE;
        INSERT INTO public.deleted_account_invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, 1 AS delta FROM (SELECT r.invoice_status, r.reversal_kind FROM new_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows UNION ALL SELECT reversal_kind, 'Refunded', 1 FROM (SELECT r.invoice_status, r.reversal_kind FROM new_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT DISTINCT tenant_id FROM old_rows) ORDER BY id FOR SHARE;
        INSERT INTO public.deleted_account_invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, -1 AS delta FROM (SELECT r.invoice_status, r.reversal_kind FROM old_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows UNION ALL SELECT reversal_kind, 'Refunded', -1 FROM (SELECT r.invoice_status, r.reversal_kind FROM old_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    ELSE
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT tenant_id FROM new_rows UNION SELECT tenant_id FROM old_rows) ORDER BY id FOR SHARE;
        INSERT INTO public.deleted_account_invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, 1 AS delta FROM (SELECT r.invoice_status, r.reversal_kind FROM new_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows UNION ALL SELECT reversal_kind, 'Refunded', 1 FROM (SELECT r.invoice_status, r.reversal_kind FROM new_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows WHERE reversal_kind IS NOT NULL UNION ALL SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, -1 AS delta FROM (SELECT r.invoice_status, r.reversal_kind FROM old_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows UNION ALL SELECT reversal_kind, 'Refunded', -1 FROM (SELECT r.invoice_status, r.reversal_kind FROM old_rows AS r WHERE EXISTS (SELECT 1 FROM public.tenants AS d WHERE d.id = r.tenant_id AND d.deleted_at IS NOT NULL)) AS deleted_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    END IF;
    RETURN NULL;
END
$function$;

-- function email_logins_count_logins()
CREATE OR REPLACE FUNCTION public.email_logins_count_logins()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.login_counts_add(ARRAY(
            SELECT ROW(((n.created_at) AT TIME ZONE 'UTC')::date, n.email, (n.completed)::integer, ((NOT n.completed AND n.retry_count >= 3))::integer)::public.login_count_change FROM new_rows AS n WHERE (n.completed OR (NOT n.completed AND n.retry_count >= 3))));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.login_counts_add(ARRAY(
            SELECT ROW(((o.created_at) AT TIME ZONE 'UTC')::date, o.email, -(o.completed)::integer, -((NOT o.completed AND o.retry_count >= 3))::integer)::public.login_count_change FROM old_rows AS o WHERE (o.completed OR (NOT o.completed AND o.retry_count >= 3))));
    ELSE
        PERFORM public.login_counts_add(ARRAY[ROW(((OLD.created_at) AT TIME ZONE 'UTC')::date, OLD.email, -(OLD.completed)::integer, -((NOT OLD.completed AND OLD.retry_count >= 3))::integer)::public.login_count_change, ROW(((NEW.created_at) AT TIME ZONE 'UTC')::date, NEW.email, (NEW.completed)::integer, ((NOT NEW.completed AND NEW.retry_count >= 3))::integer)::public.login_count_change]);
    END IF;
    RETURN NULL;
END
$function$;

-- function external_logins_count_logins()
CREATE OR REPLACE FUNCTION public.external_logins_count_logins()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.login_counts_add(ARRAY(
            SELECT ROW(((n.created_at) AT TIME ZONE 'UTC')::date, n.email, (COALESCE(n.login_result = 'Success', false))::integer, (COALESCE(n.login_result <> 'Success', false))::integer)::public.login_count_change FROM new_rows AS n WHERE (COALESCE(n.login_result = 'Success', false) OR COALESCE(n.login_result <> 'Success', false))));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.login_counts_add(ARRAY(
            SELECT ROW(((o.created_at) AT TIME ZONE 'UTC')::date, o.email, -(COALESCE(o.login_result = 'Success', false))::integer, -(COALESCE(o.login_result <> 'Success', false))::integer)::public.login_count_change FROM old_rows AS o WHERE (COALESCE(o.login_result = 'Success', false) OR COALESCE(o.login_result <> 'Success', false))));
    ELSE
        PERFORM public.login_counts_add(ARRAY[ROW(((OLD.created_at) AT TIME ZONE 'UTC')::date, OLD.email, -(COALESCE(OLD.login_result = 'Success', false))::integer, -(COALESCE(OLD.login_result <> 'Success', false))::integer)::public.login_count_change, ROW(((NEW.created_at) AT TIME ZONE 'UTC')::date, NEW.email, (COALESCE(NEW.login_result = 'Success', false))::integer, (COALESCE(NEW.login_result <> 'Success', false))::integer)::public.login_count_change]);
    END IF;
    RETURN NULL;
END
$function$;

-- function invoice_row_counts_apply()
CREATE OR REPLACE FUNCTION public.invoice_row_counts_apply()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM public.invoice_row_counts;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO public.invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, 1 AS delta FROM new_rows UNION ALL SELECT reversal_kind, 'Refunded', 1 FROM new_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO public.invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, -1 AS delta FROM old_rows UNION ALL SELECT reversal_kind, 'Refunded', -1 FROM old_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    ELSE
        INSERT INTO public.invoice_row_counts AS c (row_kind, row_status, shard, invoice_rows) SELECT row_kind, row_status, (pg_backend_pid() % 16)::smallint, sum(delta) FROM (SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, 1 AS delta FROM new_rows UNION ALL SELECT reversal_kind, 'Refunded', 1 FROM new_rows WHERE reversal_kind IS NOT NULL UNION ALL SELECT 'Invoice' AS row_kind, COALESCE(invoice_status, '') AS row_status, -1 AS delta FROM old_rows UNION ALL SELECT reversal_kind, 'Refunded', -1 FROM old_rows WHERE reversal_kind IS NOT NULL) AS moves GROUP BY row_kind, row_status HAVING sum(delta) <> 0 ORDER BY row_kind, row_status ON CONFLICT (row_kind, row_status, shard) DO UPDATE SET invoice_rows = c.invoice_rows + excluded.invoice_rows;
    END IF;
    RETURN NULL;
END
$function$;

-- function ledger_subscriptions_account_classes_follow()
CREATE OR REPLACE FUNCTION public.ledger_subscriptions_account_classes_follow()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
    tenant_ids bigint[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM public.account_classes_rebuild();
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        tenant_ids := (SELECT array_agg(DISTINCT s.tenant_id) FROM public.subscriptions AS s WHERE s.id IN (SELECT subscription_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        tenant_ids := (SELECT array_agg(DISTINCT s.tenant_id) FROM public.subscriptions AS s WHERE s.id IN (SELECT subscription_id FROM old_rows));
    ELSE
        tenant_ids := (SELECT array_agg(DISTINCT s.tenant_id) FROM public.subscriptions AS s WHERE s.id IN (SELECT o.subscription_id FROM old_rows AS o FULL JOIN new_rows AS n ON n.subscription_id = o.subscription_id WHERE o.subscription_id IS NULL OR n.subscription_id IS NULL UNION ALL SELECT n.subscription_id FROM old_rows AS o FULL JOIN new_rows AS n ON n.subscription_id = o.subscription_id WHERE o.subscription_id IS NULL OR n.subscription_id IS NULL));
    END IF;
    IF tenant_ids IS NOT NULL THEN
        PERFORM public.account_classes_refresh(tenant_ids);
    END IF;
    RETURN NULL;
END
$function$;

-- function ledger_summaries_refresh(subscription_ids text[], from_days date[])
CREATE OR REPLACE FUNCTION public.ledger_summaries_refresh(subscription_ids text[], from_days date[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
    SELECT day, (pg_backend_pid() % 16)::smallint, -SUM(change) FROM removed GROUP BY day ORDER BY day
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
    SELECT day, (pg_backend_pid() % 16)::smallint, SUM(change) FROM added GROUP BY day ORDER BY day
    ON CONFLICT (day, shard) DO UPDATE SET change = d.change + excluded.change;

    DELETE FROM ledger_subscriptions AS l
    WHERE l.subscription_id = ANY (subscription_ids)
      AND NOT EXISTS (SELECT 1 FROM billing_events AS b WHERE b.subscription_id = l.subscription_id);
END
$function$;

-- function live_user_days_add(changes live_user_change[])
CREATE OR REPLACE FUNCTION public.live_user_days_add(changes live_user_change[])
 RETURNS void
 LANGUAGE sql
AS $function$
    INSERT INTO live_user_days AS d (day, shard, created, last_seen)
    SELECT day, (pg_backend_pid() % 16)::smallint, SUM(created), SUM(last_seen)
    FROM unnest(changes)
    WHERE day IS NOT NULL
    GROUP BY day
    HAVING (SUM(created), SUM(last_seen)) <> (0, 0)
    ORDER BY day
    ON CONFLICT (day, shard) DO UPDATE
    SET created = d.created + excluded.created, last_seen = d.last_seen + excluded.last_seen
$function$;

-- function login_counts_add(changes login_count_change[])
CREATE OR REPLACE FUNCTION public.login_counts_add(changes login_count_change[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
    SELECT a.day, (pg_backend_pid() % 16)::smallint, a.succeeded, a.failed, COALESCE(users.change, 0)
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
$function$;

-- function login_counts_rebuild()
CREATE OR REPLACE FUNCTION public.login_counts_rebuild()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

BEGIN
    PERFORM public.login_counts_recount();
    RETURN NULL;
END
$function$;

-- function login_counts_recount()
CREATE OR REPLACE FUNCTION public.login_counts_recount()
 RETURNS void
 LANGUAGE plpgsql
AS $function$
BEGIN
    TRUNCATE login_user_days, login_day_counts;
    INSERT INTO login_user_days (day, email, successes)
    SELECT day, email, count(*)
    FROM (
        SELECT ((l.created_at) AT TIME ZONE 'UTC')::date AS day, l.email, l.completed AS succeeded, (NOT l.completed AND l.retry_count >= 3) AS failed FROM email_logins AS l WHERE l.completed OR (NOT l.completed AND l.retry_count >= 3)
        UNION ALL
        SELECT ((l.created_at) AT TIME ZONE 'UTC')::date AS day, l.email, COALESCE(l.login_result = 'Success', false) AS succeeded, COALESCE(l.login_result <> 'Success', false) AS failed FROM external_logins AS l WHERE COALESCE(l.login_result = 'Success', false) OR COALESCE(l.login_result <> 'Success', false)
    ) AS attempts
    WHERE succeeded AND email IS NOT NULL
    GROUP BY day, email;
    INSERT INTO login_day_counts (day, shard, succeeded, failed, distinct_users)
    SELECT per_day.day, 0, per_day.succeeded, per_day.failed, COALESCE(users.count, 0)
    FROM (
        SELECT day, count(*) FILTER (WHERE succeeded) AS succeeded, count(*) FILTER (WHERE failed) AS failed
        FROM (
            SELECT ((l.created_at) AT TIME ZONE 'UTC')::date AS day, l.email, l.completed AS succeeded, (NOT l.completed AND l.retry_count >= 3) AS failed FROM email_logins AS l WHERE l.completed OR (NOT l.completed AND l.retry_count >= 3)
        UNION ALL
        SELECT ((l.created_at) AT TIME ZONE 'UTC')::date AS day, l.email, COALESCE(l.login_result = 'Success', false) AS succeeded, COALESCE(l.login_result <> 'Success', false) AS failed FROM external_logins AS l WHERE COALESCE(l.login_result = 'Success', false) OR COALESCE(l.login_result <> 'Success', false)
        ) AS attempts
        GROUP BY day
    ) AS per_day
    LEFT JOIN (SELECT day, count(*) FROM login_user_days GROUP BY day) AS users USING (day);
END
$function$;

-- function operator_actions_append_only()
CREATE OR REPLACE FUNCTION public.operator_actions_append_only()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
BEGIN
    RAISE EXCEPTION 'operator_actions is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$function$;

-- function payment_transaction_rows_of(of_subscription_id text, of_tenant_id bigint, transactions jsonb)
CREATE OR REPLACE FUNCTION public.payment_transaction_rows_of(of_subscription_id text, of_tenant_id bigint, transactions jsonb)
 RETURNS SETOF payment_transaction_rows
 LANGUAGE sql
 STABLE
AS $function$
    SELECT of_subscription_id, e.position::integer, of_tenant_id, t->>'Id', charged.at, t->>'Status',
           CASE WHEN jsonb_typeof(t->'Amount') = 'number' THEN (t->>'Amount')::numeric END,
           (t->>'AmountExcludingTax')::numeric, t->>'Currency', t->>'Plan',
           COALESCE((t->>'Status' = 'Succeeded' AND (t->'CreditNoteUrl' IS NULL OR jsonb_typeof(t->'CreditNoteUrl') = 'null') AND (t->'RefundedAt' IS NULL OR jsonb_typeof(t->'RefundedAt') = 'null')), false),
           CASE WHEN t->>'Status' IN ('Succeeded', 'Refunded') THEN (charged.at AT TIME ZONE 'UTC')::date END,
           (payment_transaction_timestamp(
                CASE WHEN t->>'CreditNoteUrl' IS NOT NULL
                     THEN COALESCE(t->>'CreditNotedAt', t->>'RefundedAt', t->>'Date')
                     ELSE t->>'RefundedAt' END
            ) AT TIME ZONE 'UTC')::date,
           CASE WHEN jsonb_typeof(t->'TaxAmount') = 'number' THEN (t->>'TaxAmount')::numeric END,
           t->>'FailureReason', t->>'InvoiceUrl', t->>'CreditNoteUrl',
           credit_noted.at, refunded.at,
           CASE WHEN t->>'Status' = 'Refunded' THEN 'Succeeded' ELSE t->>'Status' END,
           reversal.kind,
           CASE reversal.kind
                WHEN 'CreditNote' THEN COALESCE(credit_noted.at, refunded.at, charged.at)
                WHEN 'Refund' THEN COALESCE(refunded.at, charged.at) END
    FROM jsonb_array_elements(transactions) WITH ORDINALITY AS e(t, position)
    CROSS JOIN LATERAL (SELECT payment_transaction_timestamp(e.t->>'Date') AS at) AS charged
    CROSS JOIN LATERAL (SELECT payment_transaction_timestamp(e.t->>'CreditNotedAt') AS at) AS credit_noted
    CROSS JOIN LATERAL (SELECT payment_transaction_timestamp(e.t->>'RefundedAt') AS at) AS refunded
    CROSS JOIN LATERAL (
        SELECT CASE WHEN e.t->>'CreditNoteUrl' IS NOT NULL THEN 'CreditNote'
                    WHEN e.t->>'Status' = 'Refunded' OR e.t->>'RefundedAt' IS NOT NULL THEN 'Refund' END AS kind
    ) AS reversal
$function$;

-- function payment_transaction_rows_refresh()
CREATE OR REPLACE FUNCTION public.payment_transaction_rows_refresh()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

BEGIN
    DELETE FROM public.payment_transaction_rows WHERE subscription_id = OLD.id AND TG_OP = 'UPDATE';
    INSERT INTO public.payment_transaction_rows
    SELECT * FROM public.payment_transaction_rows_of(NEW.id, NEW.tenant_id, NEW.payment_transactions);
    RETURN NULL;
END
$function$;

-- function payment_transaction_timestamp(value text)
CREATE OR REPLACE FUNCTION public.payment_transaction_timestamp(value text)
 RETURNS timestamp with time zone
 LANGUAGE sql
 STABLE PARALLEL SAFE
AS $function$ SELECT CASE WHEN pg_input_is_valid(value, 'timestamptz') THEN value::timestamptz END $function$;

-- function revenue_summaries_follow()
CREATE OR REPLACE FUNCTION public.revenue_summaries_follow()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.subscription_revenue, public.revenue_days;
    ELSIF TG_TABLE_NAME = 'tenants' THEN
        PERFORM public.subscription_revenue_refresh(
            ARRAY(SELECT id FROM public.subscriptions WHERE tenant_id = NEW.id));
    ELSIF TG_TABLE_NAME = 'subscriptions' THEN
        PERFORM public.subscription_revenue_refresh(ARRAY[OLD.id, NEW.id]);
    ELSIF TG_OP = 'INSERT' THEN
        PERFORM public.subscription_revenue_refresh(ARRAY(SELECT subscription_id FROM new_rows));
        INSERT INTO public.revenue_days AS d (day, shard, amount)
        SELECT day, (pg_backend_pid() % 16)::smallint, SUM(amount)
        FROM (
            SELECT added_on AS day, 1 * amount_excluding_tax AS amount FROM new_rows WHERE added_on IS NOT NULL
            UNION ALL
            SELECT reversed_on, -1 * amount_excluding_tax FROM new_rows WHERE reversed_on IS NOT NULL
        ) AS moves
        GROUP BY day HAVING SUM(amount) <> 0 ORDER BY day
        ON CONFLICT (day, shard) DO UPDATE SET amount = d.amount + excluded.amount;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.subscription_revenue_refresh(ARRAY(SELECT subscription_id FROM old_rows));
        INSERT INTO public.revenue_days AS d (day, shard, amount)
        SELECT day, (pg_backend_pid() % 16)::smallint, SUM(amount)
        FROM (
            SELECT added_on AS day, -1 * amount_excluding_tax AS amount FROM old_rows WHERE added_on IS NOT NULL
            UNION ALL
            SELECT reversed_on, 1 * amount_excluding_tax FROM old_rows WHERE reversed_on IS NOT NULL
        ) AS moves
        GROUP BY day HAVING SUM(amount) <> 0 ORDER BY day
        ON CONFLICT (day, shard) DO UPDATE SET amount = d.amount + excluded.amount;
    ELSE
        PERFORM public.subscription_revenue_refresh(
            ARRAY(SELECT subscription_id FROM old_rows UNION SELECT subscription_id FROM new_rows));
        INSERT INTO public.revenue_days AS d (day, shard, amount)
        SELECT day, (pg_backend_pid() % 16)::smallint, SUM(amount)
        FROM (
            SELECT added_on AS day, 1 * amount_excluding_tax AS amount FROM new_rows WHERE added_on IS NOT NULL
            UNION ALL
            SELECT reversed_on, -1 * amount_excluding_tax FROM new_rows WHERE reversed_on IS NOT NULL
            UNION ALL
            SELECT added_on AS day, -1 * amount_excluding_tax AS amount FROM old_rows WHERE added_on IS NOT NULL
            UNION ALL
            SELECT reversed_on, 1 * amount_excluding_tax FROM old_rows WHERE reversed_on IS NOT NULL
        ) AS moves
        GROUP BY day HAVING SUM(amount) <> 0 ORDER BY day
        ON CONFLICT (day, shard) DO UPDATE SET amount = d.amount + excluded.amount;
    END IF;
    RETURN NULL;
END
$function$;

-- function search_bigrams(value text)
CREATE OR REPLACE FUNCTION public.search_bigrams(value text)
 RETURNS text[]
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE STRICT
RETURN (string_to_array(regexp_replace(replace(value, ''::text, ''::text), '(..)'::text, '\1'::text, 'g'::text), ''::text) || string_to_array(regexp_replace(substr(replace(value, ''::text, ''::text), 2), '(..)'::text, '\1'::text, 'g'::text), ''::text));

-- function sessions_count_hours()
CREATE OR REPLACE FUNCTION public.sessions_count_hours()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.session_hours;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO public.session_hours AS d (hour, shard, started) SELECT hour, (pg_backend_pid() % 16)::smallint, SUM(started) FROM (SELECT (date_trunc('hour', (created_at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS hour, 1 AS started FROM new_rows WHERE revoked_at IS NULL) AS moves WHERE hour IS NOT NULL GROUP BY hour HAVING SUM(started) <> 0 ORDER BY hour ON CONFLICT (hour, shard) DO UPDATE SET started = d.started + excluded.started;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO public.session_hours AS d (hour, shard, started) SELECT hour, (pg_backend_pid() % 16)::smallint, SUM(started) FROM (SELECT (date_trunc('hour', (created_at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS hour, -1 AS started FROM old_rows WHERE revoked_at IS NULL) AS moves WHERE hour IS NOT NULL GROUP BY hour HAVING SUM(started) <> 0 ORDER BY hour ON CONFLICT (hour, shard) DO UPDATE SET started = d.started + excluded.started;
    ELSE
        INSERT INTO public.session_hours AS d (hour, shard, started) SELECT hour, (pg_backend_pid() % 16)::smallint, SUM(started) FROM (SELECT (date_trunc('hour', (created_at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS hour, 1 AS started FROM new_rows WHERE revoked_at IS NULL UNION ALL SELECT (date_trunc('hour', (created_at) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS hour, -1 AS started FROM old_rows WHERE revoked_at IS NULL) AS moves WHERE hour IS NOT NULL GROUP BY hour HAVING SUM(started) <> 0 ORDER BY hour ON CONFLICT (hour, shard) DO UPDATE SET started = d.started + excluded.started;
    END IF;
    RETURN NULL;
END
$function$;

-- function subscription_revenue_refresh(subscription_ids text[])
CREATE OR REPLACE FUNCTION public.subscription_revenue_refresh(subscription_ids text[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
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
$function$;

-- function subscriptions_account_classes_follow()
CREATE OR REPLACE FUNCTION public.subscriptions_account_classes_follow()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
    tenant_ids bigint[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM public.account_classes_rebuild();
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        tenant_ids := (SELECT array_agg(DISTINCT tenant_id) FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        tenant_ids := (SELECT array_agg(DISTINCT tenant_id) FROM old_rows);
    ELSE
        tenant_ids := (SELECT array_agg(DISTINCT tenant_id) FROM (SELECT o.tenant_id AS tenant_id FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.tenant_id, o.plan, o.current_price_amount, o.cancel_at_period_end, o.scheduled_plan, o.scheduled_price_amount, o.has_drift_detected, jsonb_path_exists(o.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")')) IS DISTINCT FROM (n.id, n.tenant_id, n.plan, n.current_price_amount, n.cancel_at_period_end, n.scheduled_plan, n.scheduled_price_amount, n.has_drift_detected, jsonb_path_exists(n.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")')) UNION ALL SELECT n.tenant_id FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.tenant_id, o.plan, o.current_price_amount, o.cancel_at_period_end, o.scheduled_plan, o.scheduled_price_amount, o.has_drift_detected, jsonb_path_exists(o.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")')) IS DISTINCT FROM (n.id, n.tenant_id, n.plan, n.current_price_amount, n.cancel_at_period_end, n.scheduled_plan, n.scheduled_price_amount, n.has_drift_detected, jsonb_path_exists(n.payment_transactions, '$[*] ? (@.Status == "Succeeded" || @.Status == "Refunded")'))) AS changed WHERE tenant_id IS NOT NULL);
    END IF;
    IF tenant_ids IS NOT NULL THEN
        PERFORM public.account_classes_refresh(tenant_ids);
    END IF;
    RETURN NULL;
END
$function$;

-- function tenants_account_classes_follow()
CREATE OR REPLACE FUNCTION public.tenants_account_classes_follow()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
DECLARE
    tenant_ids bigint[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM public.account_classes_rebuild();
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        tenant_ids := (SELECT array_agg(id) FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        tenant_ids := (SELECT array_agg(id) FROM old_rows);
    ELSE
        tenant_ids := (SELECT array_agg(DISTINCT tenant_id) FROM (SELECT o.id AS tenant_id FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.plan, o.state, o.deleted_at IS NULL) IS DISTINCT FROM (n.id, n.plan, n.state, n.deleted_at IS NULL) UNION ALL SELECT n.id FROM old_rows AS o FULL JOIN new_rows AS n ON n.id = o.id WHERE (o.id, o.plan, o.state, o.deleted_at IS NULL) IS DISTINCT FROM (n.id, n.plan, n.state, n.deleted_at IS NULL)) AS changed WHERE tenant_id IS NOT NULL);
    END IF;
    IF tenant_ids IS NOT NULL THEN
        PERFORM public.account_classes_refresh(tenant_ids);
    END IF;
    RETURN NULL;
END
$function$;

-- function tenants_count_live_days()
CREATE OR REPLACE FUNCTION public.tenants_count_live_days()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE public.live_tenant_days;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO public.live_tenant_days AS d (day, shard, created) SELECT day, (pg_backend_pid() % 16)::smallint, SUM(created) FROM (SELECT ((created_at) AT TIME ZONE 'UTC')::date AS day, 1 AS created FROM new_rows WHERE deleted_at IS NULL) AS moves WHERE day IS NOT NULL GROUP BY day HAVING SUM(created) <> 0 ORDER BY day ON CONFLICT (day, shard) DO UPDATE SET created = d.created + excluded.created;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO public.live_tenant_days AS d (day, shard, created) SELECT day, (pg_backend_pid() % 16)::smallint, SUM(created) FROM (SELECT ((created_at) AT TIME ZONE 'UTC')::date AS day, -1 AS created FROM old_rows WHERE deleted_at IS NULL) AS moves WHERE day IS NOT NULL GROUP BY day HAVING SUM(created) <> 0 ORDER BY day ON CONFLICT (day, shard) DO UPDATE SET created = d.created + excluded.created;
    ELSE
        INSERT INTO public.live_tenant_days AS d (day, shard, created) SELECT day, (pg_backend_pid() % 16)::smallint, SUM(created) FROM (SELECT ((created_at) AT TIME ZONE 'UTC')::date AS day, 1 AS created FROM new_rows WHERE deleted_at IS NULL UNION ALL SELECT ((created_at) AT TIME ZONE 'UTC')::date AS day, -1 AS created FROM old_rows WHERE deleted_at IS NULL) AS moves WHERE day IS NOT NULL GROUP BY day HAVING SUM(created) <> 0 ORDER BY day ON CONFLICT (day, shard) DO UPDATE SET created = d.created + excluded.created;
    END IF;
    RETURN NULL;
END
$function$;

-- function tenants_count_users()
CREATE OR REPLACE FUNCTION public.tenants_count_users()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
BEGIN
    PERFORM public.counted_users_add(
        ARRAY(SELECT u.last_seen_at FROM public.users AS u WHERE u.tenant_id = NEW.id AND u.deleted_at IS NULL),
        array_fill(CASE WHEN NEW.deleted_at IS NULL THEN 1 ELSE -1 END,
                   ARRAY[(SELECT count(*) FROM public.users AS u
                          WHERE u.tenant_id = NEW.id AND u.deleted_at IS NULL)::integer]));
    RETURN NULL;
END
$function$;

-- function users_count_live_days()
CREATE OR REPLACE FUNCTION public.users_count_live_days()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$

BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.live_user_days_add(ARRAY(
            SELECT c FROM new_rows AS n, unnest(ARRAY[ROW(((n.created_at) AT TIME ZONE 'UTC')::date, 1, 0)::public.live_user_change, ROW(((n.last_seen_at) AT TIME ZONE 'UTC')::date, 0, 1)::public.live_user_change]) AS c WHERE n.deleted_at IS NULL));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM public.live_user_days_add(ARRAY(
            SELECT c FROM old_rows AS o, unnest(ARRAY[ROW(((o.created_at) AT TIME ZONE 'UTC')::date, -1, 0)::public.live_user_change, ROW(((o.last_seen_at) AT TIME ZONE 'UTC')::date, 0, -1)::public.live_user_change]) AS c WHERE o.deleted_at IS NULL));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM public.live_user_days_add(
            CASE WHEN OLD.deleted_at IS NULL THEN ARRAY[ROW(((OLD.created_at) AT TIME ZONE 'UTC')::date, -1, 0)::public.live_user_change, ROW(((OLD.last_seen_at) AT TIME ZONE 'UTC')::date, 0, -1)::public.live_user_change] ELSE '{}' END
            || CASE WHEN NEW.deleted_at IS NULL THEN ARRAY[ROW(((NEW.created_at) AT TIME ZONE 'UTC')::date, 1, 0)::public.live_user_change, ROW(((NEW.last_seen_at) AT TIME ZONE 'UTC')::date, 0, 1)::public.live_user_change] ELSE '{}' END);
    ELSE
        TRUNCATE public.live_user_days;
    END IF;
    RETURN NULL;
END
$function$;

-- function users_count_seen()
CREATE OR REPLACE FUNCTION public.users_count_seen()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
        SELECT array_agg(u.last_seen_at), array_agg(1) FROM new_rows AS u WHERE u.deleted_at IS NULL AND u.tenant_id NOT IN (  SELECT t.id FROM public.tenants AS t  WHERE t.id IN (SELECT tenant_id FROM new_rows) AND t.deleted_at IS NOT NULL) INTO seen, deltas;
    ELSE
        PERFORM 1 FROM public.tenants WHERE id IN (SELECT tenant_id FROM old_rows) ORDER BY id FOR SHARE;
        SELECT array_agg(u.last_seen_at), array_agg(-1) FROM old_rows AS u WHERE u.deleted_at IS NULL AND u.tenant_id NOT IN (  SELECT t.id FROM public.tenants AS t  WHERE t.id IN (SELECT tenant_id FROM old_rows) AND t.deleted_at IS NOT NULL) INTO seen, deltas;
    END IF;
    IF seen IS NOT NULL THEN
        PERFORM public.counted_users_add(seen, deltas);
    END IF;
    RETURN NULL;
END
$function$;

-- triggers
CREATE TRIGGER trg_billing_events_billing_event_day_counts_delete AFTER DELETE ON public.billing_events REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_event_day_counts_apply();
CREATE TRIGGER trg_billing_events_billing_event_day_counts_insert AFTER INSERT ON public.billing_events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_event_day_counts_apply();
CREATE TRIGGER trg_billing_events_billing_event_day_counts_truncate AFTER TRUNCATE ON public.billing_events FOR EACH STATEMENT EXECUTE FUNCTION billing_event_day_counts_apply();
CREATE TRIGGER trg_billing_events_billing_event_day_counts_update AFTER UPDATE ON public.billing_events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_event_day_counts_apply();
CREATE TRIGGER trg_billing_events_deleted_counts_delete AFTER DELETE ON public.billing_events REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_event_day_counts_apply();
CREATE TRIGGER trg_billing_events_deleted_counts_insert AFTER INSERT ON public.billing_events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_event_day_counts_apply();
CREATE TRIGGER trg_billing_events_deleted_counts_truncate AFTER TRUNCATE ON public.billing_events FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_event_day_counts_apply();
CREATE TRIGGER trg_billing_events_deleted_counts_update AFTER UPDATE ON public.billing_events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_event_day_counts_apply();
CREATE TRIGGER trg_billing_events_ledger_summaries_delete AFTER DELETE ON public.billing_events REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_events_refresh_ledger_summaries();
CREATE TRIGGER trg_billing_events_ledger_summaries_insert AFTER INSERT ON public.billing_events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_events_refresh_ledger_summaries();
CREATE TRIGGER trg_billing_events_ledger_summaries_truncate AFTER TRUNCATE ON public.billing_events FOR EACH STATEMENT EXECUTE FUNCTION billing_events_refresh_ledger_summaries();
CREATE TRIGGER trg_billing_events_ledger_summaries_update AFTER UPDATE ON public.billing_events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_events_refresh_ledger_summaries();
CREATE TRIGGER trg_billing_events_mrr_movements_delete AFTER DELETE ON public.billing_events REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_events_count_mrr_movements();
CREATE TRIGGER trg_billing_events_mrr_movements_insert AFTER INSERT ON public.billing_events REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_events_count_mrr_movements();
CREATE TRIGGER trg_billing_events_mrr_movements_truncate AFTER TRUNCATE ON public.billing_events FOR EACH STATEMENT EXECUTE FUNCTION billing_events_count_mrr_movements();
CREATE TRIGGER trg_billing_events_mrr_movements_update AFTER UPDATE ON public.billing_events REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_events_count_mrr_movements();
CREATE TRIGGER trg_email_logins_count_logins_delete AFTER DELETE ON public.email_logins REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION email_logins_count_logins();
CREATE TRIGGER trg_email_logins_count_logins_insert AFTER INSERT ON public.email_logins REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION email_logins_count_logins();
CREATE TRIGGER trg_email_logins_count_logins_truncate AFTER TRUNCATE ON public.email_logins FOR EACH STATEMENT EXECUTE FUNCTION login_counts_rebuild();
CREATE TRIGGER trg_email_logins_count_logins_update AFTER UPDATE OF created_at, email, completed, retry_count ON public.email_logins FOR EACH ROW WHEN (((((old.created_at IS DISTINCT FROM new.created_at) OR (old.email IS DISTINCT FROM new.email)) OR (old.completed IS DISTINCT FROM new.completed)) OR (((NOT old.completed) AND (old.retry_count >= 3)) IS DISTINCT FROM ((NOT new.completed) AND (new.retry_count >= 3))))) EXECUTE FUNCTION email_logins_count_logins();
CREATE TRIGGER trg_external_logins_count_logins_delete AFTER DELETE ON public.external_logins REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION external_logins_count_logins();
CREATE TRIGGER trg_external_logins_count_logins_insert AFTER INSERT ON public.external_logins REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION external_logins_count_logins();
CREATE TRIGGER trg_external_logins_count_logins_truncate AFTER TRUNCATE ON public.external_logins FOR EACH STATEMENT EXECUTE FUNCTION login_counts_rebuild();
CREATE TRIGGER trg_external_logins_count_logins_update AFTER UPDATE OF created_at, email, login_result ON public.external_logins FOR EACH ROW WHEN (((((old.created_at IS DISTINCT FROM new.created_at) OR (old.email IS DISTINCT FROM new.email)) OR (COALESCE((old.login_result = 'Success'::text), false) IS DISTINCT FROM COALESCE((new.login_result = 'Success'::text), false))) OR (COALESCE((old.login_result <> 'Success'::text), false) IS DISTINCT FROM COALESCE((new.login_result <> 'Success'::text), false)))) EXECUTE FUNCTION external_logins_count_logins();
CREATE TRIGGER trg_ledger_subscriptions_account_classes_delete AFTER DELETE ON public.ledger_subscriptions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_subscriptions_account_classes_follow();
CREATE TRIGGER trg_ledger_subscriptions_account_classes_insert AFTER INSERT ON public.ledger_subscriptions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_subscriptions_account_classes_follow();
CREATE TRIGGER trg_ledger_subscriptions_account_classes_truncate AFTER TRUNCATE ON public.ledger_subscriptions FOR EACH STATEMENT EXECUTE FUNCTION ledger_subscriptions_account_classes_follow();
CREATE TRIGGER trg_ledger_subscriptions_account_classes_update AFTER UPDATE ON public.ledger_subscriptions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_subscriptions_account_classes_follow();
CREATE TRIGGER operator_actions_append_only BEFORE DELETE OR UPDATE ON public.operator_actions FOR EACH STATEMENT EXECUTE FUNCTION operator_actions_append_only();
CREATE TRIGGER operator_actions_no_truncate BEFORE TRUNCATE ON public.operator_actions FOR EACH STATEMENT EXECUTE FUNCTION operator_actions_append_only();
CREATE TRIGGER trg_payment_transaction_rows_deleted_counts_delete AFTER DELETE ON public.payment_transaction_rows REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_invoice_row_counts_apply();
CREATE TRIGGER trg_payment_transaction_rows_deleted_counts_insert AFTER INSERT ON public.payment_transaction_rows REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_invoice_row_counts_apply();
CREATE TRIGGER trg_payment_transaction_rows_deleted_counts_truncate AFTER TRUNCATE ON public.payment_transaction_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_invoice_row_counts_apply();
CREATE TRIGGER trg_payment_transaction_rows_deleted_counts_update AFTER UPDATE ON public.payment_transaction_rows REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_invoice_row_counts_apply();
CREATE TRIGGER trg_payment_transaction_rows_invoice_row_counts_delete AFTER DELETE ON public.payment_transaction_rows REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_row_counts_apply();
CREATE TRIGGER trg_payment_transaction_rows_invoice_row_counts_insert AFTER INSERT ON public.payment_transaction_rows REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_row_counts_apply();
CREATE TRIGGER trg_payment_transaction_rows_invoice_row_counts_truncate AFTER TRUNCATE ON public.payment_transaction_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_row_counts_apply();
CREATE TRIGGER trg_payment_transaction_rows_invoice_row_counts_update AFTER UPDATE ON public.payment_transaction_rows REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION invoice_row_counts_apply();
CREATE TRIGGER trg_payment_transaction_rows_revenue_delete AFTER DELETE ON public.payment_transaction_rows REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION revenue_summaries_follow();
CREATE TRIGGER trg_payment_transaction_rows_revenue_insert AFTER INSERT ON public.payment_transaction_rows REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION revenue_summaries_follow();
CREATE TRIGGER trg_payment_transaction_rows_revenue_truncate AFTER TRUNCATE ON public.payment_transaction_rows FOR EACH STATEMENT EXECUTE FUNCTION revenue_summaries_follow();
CREATE TRIGGER trg_payment_transaction_rows_revenue_update AFTER UPDATE ON public.payment_transaction_rows REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION revenue_summaries_follow();
CREATE TRIGGER trg_sessions_hours_delete AFTER DELETE ON public.sessions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION sessions_count_hours();
CREATE TRIGGER trg_sessions_hours_insert AFTER INSERT ON public.sessions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sessions_count_hours();
CREATE TRIGGER trg_sessions_hours_truncate AFTER TRUNCATE ON public.sessions FOR EACH STATEMENT EXECUTE FUNCTION sessions_count_hours();
CREATE TRIGGER trg_sessions_hours_update AFTER UPDATE ON public.sessions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION sessions_count_hours();
CREATE TRIGGER trg_subscriptions_account_classes_delete AFTER DELETE ON public.subscriptions REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_account_classes_follow();
CREATE TRIGGER trg_subscriptions_account_classes_insert AFTER INSERT ON public.subscriptions REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_account_classes_follow();
CREATE TRIGGER trg_subscriptions_account_classes_truncate AFTER TRUNCATE ON public.subscriptions FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_account_classes_follow();
CREATE TRIGGER trg_subscriptions_account_classes_update AFTER UPDATE ON public.subscriptions REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION subscriptions_account_classes_follow();
CREATE TRIGGER trg_subscriptions_payment_transaction_rows_insert AFTER INSERT ON public.subscriptions FOR EACH ROW EXECUTE FUNCTION payment_transaction_rows_refresh();
CREATE TRIGGER trg_subscriptions_payment_transaction_rows_update AFTER UPDATE OF payment_transactions, id, tenant_id ON public.subscriptions FOR EACH ROW WHEN (((old.payment_transactions IS DISTINCT FROM new.payment_transactions) OR (old.id IS DISTINCT FROM new.id) OR (old.tenant_id IS DISTINCT FROM new.tenant_id))) EXECUTE FUNCTION payment_transaction_rows_refresh();
CREATE TRIGGER trg_subscriptions_revenue_update AFTER UPDATE OF id, plan, tenant_id ON public.subscriptions FOR EACH ROW WHEN ((((old.id IS DISTINCT FROM new.id) OR (old.plan IS DISTINCT FROM new.plan)) OR (old.tenant_id IS DISTINCT FROM new.tenant_id))) EXECUTE FUNCTION revenue_summaries_follow();
CREATE TRIGGER trg_tenants_account_classes_delete AFTER DELETE ON public.tenants REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tenants_account_classes_follow();
CREATE TRIGGER trg_tenants_account_classes_insert AFTER INSERT ON public.tenants REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenants_account_classes_follow();
CREATE TRIGGER trg_tenants_account_classes_truncate AFTER TRUNCATE ON public.tenants FOR EACH STATEMENT EXECUTE FUNCTION tenants_account_classes_follow();
CREATE TRIGGER trg_tenants_account_classes_update AFTER UPDATE ON public.tenants REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenants_account_classes_follow();
CREATE TRIGGER trg_tenants_count_users_update AFTER UPDATE OF deleted_at ON public.tenants FOR EACH ROW WHEN (((old.deleted_at IS NULL) IS DISTINCT FROM (new.deleted_at IS NULL))) EXECUTE FUNCTION tenants_count_users();
CREATE TRIGGER trg_tenants_deleted_counts_delete AFTER DELETE ON public.tenants REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_counts_follow_tenants();
CREATE TRIGGER trg_tenants_deleted_counts_insert AFTER INSERT ON public.tenants REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_counts_follow_tenants();
CREATE TRIGGER trg_tenants_deleted_counts_truncate AFTER TRUNCATE ON public.tenants FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_counts_follow_tenants();
CREATE TRIGGER trg_tenants_deleted_counts_update AFTER UPDATE ON public.tenants REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deleted_account_counts_follow_tenants();
CREATE TRIGGER trg_tenants_live_days_delete AFTER DELETE ON public.tenants REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tenants_count_live_days();
CREATE TRIGGER trg_tenants_live_days_insert AFTER INSERT ON public.tenants REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenants_count_live_days();
CREATE TRIGGER trg_tenants_live_days_truncate AFTER TRUNCATE ON public.tenants FOR EACH STATEMENT EXECUTE FUNCTION tenants_count_live_days();
CREATE TRIGGER trg_tenants_live_days_update AFTER UPDATE ON public.tenants REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tenants_count_live_days();
CREATE TRIGGER trg_tenants_revenue_update AFTER UPDATE OF plan, deleted_at ON public.tenants FOR EACH ROW WHEN (((old.plan IS DISTINCT FROM new.plan) OR ((old.deleted_at IS NULL) IS DISTINCT FROM (new.deleted_at IS NULL)))) EXECUTE FUNCTION revenue_summaries_follow();
CREATE TRIGGER trg_users_count_live_days_delete AFTER DELETE ON public.users REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_live_days();
CREATE TRIGGER trg_users_count_live_days_insert AFTER INSERT ON public.users REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_live_days();
CREATE TRIGGER trg_users_count_live_days_truncate AFTER TRUNCATE ON public.users FOR EACH STATEMENT EXECUTE FUNCTION users_count_live_days();
CREATE TRIGGER trg_users_count_live_days_update AFTER UPDATE OF created_at, last_seen_at, deleted_at ON public.users FOR EACH ROW WHEN ((((((old.created_at AT TIME ZONE 'UTC'::text))::date IS DISTINCT FROM ((new.created_at AT TIME ZONE 'UTC'::text))::date) OR (((old.last_seen_at AT TIME ZONE 'UTC'::text))::date IS DISTINCT FROM ((new.last_seen_at AT TIME ZONE 'UTC'::text))::date)) OR ((old.deleted_at IS NULL) IS DISTINCT FROM (new.deleted_at IS NULL)))) EXECUTE FUNCTION users_count_live_days();
CREATE TRIGGER trg_users_count_seen_delete AFTER DELETE ON public.users REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_seen();
CREATE TRIGGER trg_users_count_seen_insert AFTER INSERT ON public.users REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION users_count_seen();
CREATE TRIGGER trg_users_count_seen_truncate AFTER TRUNCATE ON public.users FOR EACH STATEMENT EXECUTE FUNCTION users_count_seen();
CREATE TRIGGER trg_users_count_seen_update AFTER UPDATE OF last_seen_at, deleted_at, tenant_id ON public.users FOR EACH ROW WHEN ((((old.last_seen_at IS DISTINCT FROM new.last_seen_at) OR ((old.deleted_at IS NULL) IS DISTINCT FROM (new.deleted_at IS NULL))) OR (old.tenant_id IS DISTINCT FROM new.tenant_id))) EXECUTE FUNCTION users_count_seen();
