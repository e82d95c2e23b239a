"""The audit trail: which operator did which admin action, by which path,
and how it ended (table operator_actions, migration 0010; append-only).

An action writes its row in its own transaction (`record_action` on the
action's connection), so the row and the change commit or roll back
together; a failed action is recorded as failed in a transaction of its own
(`record_failure`). The caller says which path it came by: the console
("console", or "ssh" inside an SSH session) or the command line ("cli").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, text

from core.errors import Forbidden, OperatorError
from core.jsonable import to_jsonable
from core.listing import as_utc, parse_tenant_id
from core.paging import Page, PageRequest
from core.settings import Settings

log = logging.getLogger(__name__)

# An error kept in the trail is one line, never a whole driver message.
MAX_ERROR_LENGTH = 300


class ActionPath(StrEnum):
    console = "console"
    cli = "cli"
    ssh = "ssh"


class Action(StrEnum):
    sync = "sync"
    sync_all = "sync-all"
    drift_ack = "drift-ack"
    replay_archive = "replay-archive"
    poll = "poll"
    drift_check = "drift-check"
    demo_seed = "demo-seed"
    operators_apply = "operators-apply"


class Outcome(StrEnum):
    succeeded = "succeeded"
    failed = "failed"


INSERT_SQL = (
    "INSERT INTO operator_actions (operator, path, action, tenant_id, outcome, details)"
    " VALUES (%(operator)s, %(path)s, %(action)s, %(tenant_id)s, %(outcome)s, CAST(%(details)s AS jsonb))"
)


def _params(
    *,
    operator: str,
    path: ActionPath,
    action: Action,
    tenant_id: int | None,
    outcome: Outcome,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "operator": operator,
        "path": ActionPath(path).value,
        "action": Action(action).value,
        "tenant_id": tenant_id,
        "outcome": Outcome(outcome).value,
        "details": json.dumps(to_jsonable(details or {}), ensure_ascii=False),
    }


def record_action(
    conn: Connection,
    *,
    operator: str,
    path: ActionPath,
    action: Action,
    tenant_id: int | None = None,
    outcome: Outcome = Outcome.succeeded,
    details: dict[str, Any] | None = None,
) -> None:
    """One row, in the caller's transaction."""
    conn.exec_driver_sql(
        INSERT_SQL,
        _params(operator=operator, path=path, action=action, tenant_id=tenant_id, outcome=outcome, details=details),
    )


def record_action_raw(
    connection: Any,
    *,
    operator: str,
    path: ActionPath,
    action: Action,
    tenant_id: int | None = None,
    outcome: Outcome = Outcome.succeeded,
    details: dict[str, Any] | None = None,
) -> None:
    """`record_action` on a plain psycopg connection (the demo seed loads
    through one), in its open transaction."""
    connection.execute(
        INSERT_SQL,
        _params(operator=operator, path=path, action=action, tenant_id=tenant_id, outcome=outcome, details=details),
    )


def error_line(error: BaseException) -> str:
    """The failure as the operator was told it: an operator error's sentence,
    else the type and the first line (a driver's text can run to pages)."""
    message = str(getattr(error, "orig", None) or error).strip()
    first = message.splitlines()[0] if message else ""
    line = first if isinstance(error, OperatorError) and first else f"{type(error).__name__}: {first}".rstrip(": ")
    return line[:MAX_ERROR_LENGTH]


@dataclass(frozen=True)
class Actor:
    """Who acts, and by which path: passed down by the console and the CLI."""

    operator: str
    path: ActionPath

    def record(
        self,
        conn: Connection,
        action: Action,
        *,
        tenant_id: int | None = None,
        outcome: Outcome = Outcome.succeeded,
        details: dict[str, Any] | None = None,
    ) -> None:
        record_action(
            conn,
            operator=self.operator,
            path=self.path,
            action=action,
            tenant_id=tenant_id,
            outcome=outcome,
            details=details,
        )

    def record_failure(
        self,
        engine: Engine,
        action: Action,
        error: BaseException,
        *,
        tenant_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """The failed action in a transaction of its own. Never raises, and
        says nothing but at debug level: the action's own error is the one
        line the operator gets. A refusal for want of rights is not written:
        PostgreSQL would refuse that role the row as well."""
        if isinstance(error, Forbidden):
            return
        try:
            with engine.begin() as conn:
                self.record(
                    conn,
                    action,
                    tenant_id=tenant_id,
                    outcome=Outcome.failed,
                    details={**(details or {}), "error": error_line(error)},
                )
        except Exception as failure:  # noqa: BLE001 - the action's error wins (a database down fails both)
            log.debug(
                "could not record the failed %s in operator_actions: %s", Action(action).value, error_line(failure)
            )


def cli_actor(settings: Settings) -> Actor:
    return Actor(settings.operator, ActionPath.cli)


def console_actor(settings: Settings) -> Actor:
    """The console's path: "ssh" in a session of the SSH server, else "console"."""
    return Actor(settings.operator, ActionPath.ssh if settings.ssh else ActionPath.console)


# -- reading -----------------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    id: str
    at: datetime
    operator: str
    db_role: str
    path: str
    action: str
    tenant_id: str | None
    tenant_name: str | None
    outcome: str
    details: dict[str, Any] = field(default_factory=dict)


def list_actions(
    conn: Connection,
    *,
    tenant_id: int | str | None = None,
    operator: str | None = None,
    since: datetime | None = None,
    page: PageRequest = PageRequest(),
) -> Page[ActionRow]:
    """The trail, newest first, paged in the database (indexes of 0010)."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if tenant_id is not None:
        conditions.append("a.tenant_id = :tenant_id")
        params["tenant_id"] = parse_tenant_id(tenant_id)
    if operator:
        conditions.append("a.operator = :operator")
        params["operator"] = operator
    if since is not None:
        conditions.append("a.at >= :since")
        params["since"] = since
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    counted = f"SELECT count(*) FROM operator_actions a{where}"
    total = page.once("total", lambda: conn.execute(text(counted), params).scalar_one())
    listed = (
        "SELECT a.id::text AS id, a.at, a.operator, a.db_role, a.path, a.action, a.tenant_id::text AS tenant_id,"
        " t.name AS tenant_name, a.outcome, a.details"
        f" FROM operator_actions a LEFT JOIN tenants t ON t.id = a.tenant_id{where}"
        " ORDER BY a.at DESC, a.id DESC"
    )
    if page.walk is None:
        rows: Sequence[Row[Any]] = list(
            conn.execute(
                text(f"{listed} LIMIT :limit OFFSET :offset"),
                {**params, "limit": page.page_size, "offset": page.offset},
            )
        )
    else:  # an export: the trail's rows straight from one pass (docs/rules.md R225)
        rows = page.walk.next_keys(conn, listed, params, page.page_size)
    items = [
        ActionRow(
            id=row.id,
            at=as_utc(row.at),
            operator=row.operator,
            db_role=row.db_role,
            path=row.path,
            action=row.action,
            tenant_id=row.tenant_id,
            tenant_name=row.tenant_name,
            outcome=row.outcome,
            details=dict(row.details or {}),
        )
        for row in rows
    ]
    return Page(items, total, page.page, page.page_size)
