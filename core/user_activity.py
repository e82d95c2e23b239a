"""A person's sign-ins and sessions, across every account they belong to
(docs/rules.md R88-R92: the
Logins tab with method, outcome, IP, device, and Sessions tab)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, text

from core.listing import as_utc
from core.paging import Page, PageRequest
from core.users import LOGIN_HISTORY_DAYS, SESSION_LIFETIME

MAX_RETRIES = 3  # email_logins: a code wrong this often fails the attempt
# A sign-in attempt is valid for 2 x 300 s (docs/rules.md R90); the session it
# opens starts inside that window.
SIGN_IN_WINDOW = timedelta(seconds=600)


class SessionState(StrEnum):
    """What a session's row says (docs/rules.md R91): revoked first, then
    expired once its lifetime has run out, else active, as the user's "Active
    sessions" tile counts them."""

    Active = "Active"
    Expired = "Expired"
    Revoked = "Revoked"


class LoginKind(StrEnum):
    Email = "Email"
    External = "External"


class LoginOutcome(StrEnum):
    Succeeded = "Succeeded"
    Failed = "Failed"
    Pending = "Pending"


@dataclass(frozen=True)
class LoginAttempt:
    id: str
    kind: LoginKind
    method: str  # OneTimePassword, Google, Microsoft
    outcome: LoginOutcome
    failure_reason: str | None  # TooManyRetries, or the provider's result name
    external_provider: str | None
    occurred_at: datetime
    # From the session the sign-in opened, when one is found.
    ip_address: str | None
    device_type: str | None
    browser: str | None
    operating_system: str | None


@dataclass(frozen=True)
class UserSession:
    id: str
    tenant_id: str
    tenant_name: str
    tenant_logo_url: str | None
    login_method: str
    device_type: str
    browser: str
    operating_system: str
    user_agent: str
    ip_address: str
    created_at: datetime
    last_active_at: datetime | None
    last_seen_at: datetime  # last activity, or the start
    expires_at: datetime
    revoked: bool
    revoked_at: datetime | None
    revoked_reason: str | None
    state: SessionState


_BROWSERS = (("OPR/", "Opera"), ("Edg/", "Edge"), ("Firefox", "Firefox"), ("Chrome", "Chrome"), ("Safari", "Safari"))
_SYSTEMS = (
    (re.compile("Android"), "Android"),
    (re.compile("iPhone|iPad"), "iOS"),
    (re.compile("Windows NT"), "Windows"),
    (re.compile("Mac OS X"), "macOS"),
    (re.compile("Linux"), "Linux"),
)


def browser_of(user_agent: str) -> str:
    """First match wins, in the order of docs/rules.md R92."""
    return next((name for marker, name in _BROWSERS if marker in user_agent), "Unknown")


def operating_system_of(user_agent: str) -> str:
    return next((name for pattern, name in _SYSTEMS if pattern.search(user_agent)), "Unknown")


# Both attempt tables in one shape (docs/rules.md R88).
_ATTEMPTS_SQL = f"""
    SELECT id, 'Email' AS kind, 'OneTimePassword' AS method,
           CASE WHEN completed THEN 'Succeeded' WHEN retry_count >= {MAX_RETRIES} THEN 'Failed' ELSE 'Pending' END
               AS outcome,
           CASE WHEN NOT completed AND retry_count >= {MAX_RETRIES} THEN 'TooManyRetries' END AS failure_reason,
           NULL AS external_provider, created_at
    FROM email_logins WHERE email = :email AND created_at >= :since
    UNION ALL
    SELECT id, 'External', provider_type,
           CASE WHEN login_result IS NULL THEN 'Pending' WHEN login_result = 'Success' THEN 'Succeeded'
                ELSE 'Failed' END,
           CASE WHEN login_result <> 'Success' THEN login_result END,
           provider_type, created_at
    FROM external_logins WHERE email = :email AND created_at >= :since
"""


def login_history(
    conn: Connection, email: str, *, now: datetime, page: PageRequest = PageRequest()
) -> Page[LoginAttempt]:
    """Every sign-in attempt of the last 30 days by this e-mail, newest first.
    The attempt tables hold no IP or device; a successful attempt shows the
    session it opened (same e-mail and method, started within its window)."""
    params = {"email": email.lower(), "since": now - timedelta(days=LOGIN_HISTORY_DAYS)}
    total = conn.execute(text(f"SELECT count(*) FROM ({_ATTEMPTS_SQL}) a"), params).scalar_one()
    if page.offset >= total:
        return Page([], total, page.page, page.page_size)
    rows = conn.execute(
        text(
            f"SELECT a.*, se.ip_address, se.device_type, se.user_agent FROM ({_ATTEMPTS_SQL}) a"
            " LEFT JOIN LATERAL ("
            "   SELECT se.ip_address, se.device_type, se.user_agent FROM sessions se JOIN users u ON u.id = se.user_id"
            "   WHERE a.outcome = 'Succeeded' AND u.email = :email AND se.login_method = a.method"
            "     AND se.created_at BETWEEN a.created_at AND a.created_at + :window"
            "   ORDER BY se.created_at, se.id LIMIT 1"
            " ) se ON true"
            " ORDER BY a.created_at DESC, a.id DESC LIMIT :limit OFFSET :offset"
        ),
        {**params, "window": SIGN_IN_WINDOW, "limit": page.page_size, "offset": page.offset},
    ).mappings()
    return Page([_attempt(row) for row in rows], total, page.page, page.page_size)


def _attempt(row: Any) -> LoginAttempt:
    user_agent = row["user_agent"]
    return LoginAttempt(
        id=row["id"],
        kind=LoginKind(row["kind"]),
        method=row["method"],
        outcome=LoginOutcome(row["outcome"]),
        failure_reason=row["failure_reason"],
        external_provider=row["external_provider"],
        occurred_at=as_utc(row["created_at"]),
        ip_address=row["ip_address"],
        device_type=row["device_type"],
        browser=browser_of(user_agent) if user_agent is not None else None,
        operating_system=operating_system_of(user_agent) if user_agent is not None else None,
    )


def sessions(conn: Connection, email: str, *, now: datetime, page: PageRequest = PageRequest()) -> Page[UserSession]:
    """Sessions of every users row with this e-mail, revoked and expired ones
    included, most recently active first; each one's state as of `now`."""
    params = {"email": email.lower(), "limit": page.page_size, "offset": page.offset}
    total = conn.execute(
        text("SELECT count(*) FROM sessions se JOIN users u ON u.id = se.user_id WHERE u.email = :email"), params
    ).scalar_one()
    if page.offset >= total:
        return Page([], total, page.page, page.page_size)
    rows = conn.execute(
        text(
            "SELECT se.*, COALESCE(t.name, '') AS tenant_name, t.logo->>'Url' AS tenant_logo_url"
            " FROM sessions se JOIN users u ON u.id = se.user_id LEFT JOIN tenants t ON t.id = se.tenant_id"
            " WHERE u.email = :email"
            " ORDER BY COALESCE(se.modified_at, se.created_at) DESC, se.id DESC LIMIT :limit OFFSET :offset"
        ),
        params,
    ).mappings()
    return Page([_session(row, now) for row in rows], total, page.page, page.page_size)


def session_state(revoked: bool, expires_at: datetime, now: datetime) -> SessionState:
    if revoked:
        return SessionState.Revoked
    return SessionState.Expired if expires_at <= now else SessionState.Active


def _session(row: Any, now: datetime) -> UserSession:
    created_at = as_utc(row["created_at"])
    last_active_at = as_utc(row["modified_at"])
    expires_at = created_at + SESSION_LIFETIME
    return UserSession(
        id=row["id"],
        tenant_id=str(row["tenant_id"]),
        tenant_name=row["tenant_name"],
        tenant_logo_url=row["tenant_logo_url"],
        login_method=row["login_method"],
        device_type=row["device_type"],
        browser=browser_of(row["user_agent"]),
        operating_system=operating_system_of(row["user_agent"]),
        user_agent=row["user_agent"],
        ip_address=row["ip_address"],
        created_at=created_at,
        last_active_at=last_active_at,
        last_seen_at=last_active_at or created_at,
        expires_at=expires_at,
        revoked=row["revoked_at"] is not None,
        revoked_at=as_utc(row["revoked_at"]),
        revoked_reason=row["revoked_reason"],
        state=session_state(row["revoked_at"] is not None, expires_at, now),
    )
