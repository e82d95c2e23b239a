"""A person's sign-ins and sessions: the login history with each attempt's
outcome and the sessions (docs/rules.md R88, R90, R91), with the method, IP and
device on the Logins tab, and the user-agent parsing of docs/rules.md R92."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection

from core.paging import PageRequest
from core.user_activity import (
    LoginKind,
    LoginOutcome,
    SessionState,
    browser_of,
    login_history,
    operating_system_of,
    sessions,
)
from tests import factories as f

NOW = f.NOW
MINUTE = timedelta(minutes=1)
OWNER = "owner@tenant-1.com"


def tenant1(conn: Connection) -> tuple[f.TenantRef, str]:
    ref = f.tenant(conn, name="Tenant One")
    owner = f.user(conn, ref.id, email=OWNER, role="Owner")
    f.session(conn, ref.id, owner, created_at=NOW - timedelta(days=3))
    return ref, owner


def test_every_attempt_of_the_email_with_its_outcome(conn: Connection) -> None:
    f.email_login(conn, OWNER, created_at=NOW - 10 * MINUTE)
    f.email_login(conn, OWNER, created_at=NOW - 60 * MINUTE, completed=False, retry_count=3)
    f.external_login(conn, OWNER, created_at=NOW - 5 * MINUTE, result="Success")
    f.external_login(conn, OWNER, created_at=NOW - 120 * MINUTE, result="IdentityProviderError")
    f.email_login(conn, "someone@else.com", created_at=NOW - MINUTE)
    page = login_history(conn, OWNER, now=NOW)
    assert page.total == 4
    assert [(a.kind, a.method, a.outcome, a.failure_reason) for a in page.items] == [
        (LoginKind.External, "Google", LoginOutcome.Succeeded, None),
        (LoginKind.Email, "OneTimePassword", LoginOutcome.Succeeded, None),
        (LoginKind.Email, "OneTimePassword", LoginOutcome.Failed, "TooManyRetries"),
        (LoginKind.External, "Google", LoginOutcome.Failed, "IdentityProviderError"),
    ]
    assert [a.external_provider for a in page.items] == ["Google", None, None, "Google"]


def test_only_the_last_30_days(conn: Connection) -> None:
    f.email_login(conn, OWNER, created_at=NOW - timedelta(days=60))
    f.email_login(conn, OWNER, created_at=NOW - timedelta(days=5))
    assert login_history(conn, OWNER, now=NOW).total == 1


def test_pending_attempts_and_microsoft(conn: Connection) -> None:
    f.email_login(conn, OWNER, created_at=NOW - MINUTE, completed=False, retry_count=1)
    f.external_login(conn, OWNER, created_at=NOW - 2 * MINUTE, result=None)
    f.external_login(conn, OWNER, created_at=NOW - 3 * MINUTE, provider="Microsoft")
    rows = login_history(conn, "OWNER@tenant-1.com", now=NOW).items
    assert [(a.method, a.outcome) for a in rows] == [
        ("OneTimePassword", LoginOutcome.Pending),
        ("Google", LoginOutcome.Pending),
        ("Microsoft", LoginOutcome.Succeeded),
    ]


def test_a_successful_sign_in_shows_the_ip_and_device_of_its_session(conn: Connection) -> None:
    ref, owner = tenant1(conn)
    signed_in = NOW - 30 * MINUTE
    f.email_login(conn, OWNER, created_at=signed_in)
    f.session(
        conn,
        ref.id,
        owner,
        created_at=signed_in + MINUTE,
        ip_address="198.51.100.7",
        device_type="Mobile",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1",
    )
    f.email_login(conn, OWNER, created_at=NOW - 5 * MINUTE, completed=False, retry_count=3)
    failed, succeeded = login_history(conn, OWNER, now=NOW).items
    assert (succeeded.ip_address, succeeded.device_type, succeeded.browser, succeeded.operating_system) == (
        "198.51.100.7",
        "Mobile",
        "Safari",
        "iOS",
    )
    assert (failed.ip_address, failed.device_type, failed.browser) == (None, None, None)


def test_login_history_pages(conn: Connection) -> None:
    for minutes in range(1, 6):
        f.email_login(conn, OWNER, created_at=NOW - minutes * MINUTE)
    second = login_history(conn, OWNER, now=NOW, page=PageRequest(2, 2))
    assert (second.total, [a.occurred_at for a in second.items]) == (5, [NOW - 3 * MINUTE, NOW - 4 * MINUTE])
    assert login_history(conn, OWNER, now=NOW, page=PageRequest(4, 2)).items == []


def test_sessions_include_revoked_ones(conn: Connection) -> None:
    ref, owner = tenant1(conn)
    f.session(conn, ref.id, owner, created_at=NOW - timedelta(hours=5))
    f.session(conn, ref.id, owner, created_at=NOW - timedelta(hours=4), revoked_at=NOW - timedelta(hours=1))
    page = sessions(conn, OWNER, now=NOW)
    assert page.total == 3
    assert sum(s.revoked for s in page.items) == 1
    assert {(s.tenant_id, s.tenant_name, s.tenant_logo_url) for s in page.items} == {(str(ref.id), "Tenant One", None)}


def test_a_session_past_its_lifetime_is_expired_unless_revoked(conn: Connection) -> None:
    ref, owner = tenant1(conn)
    lifetime = timedelta(hours=2160)
    f.session(conn, ref.id, owner, created_at=NOW - lifetime - MINUTE)
    f.session(conn, ref.id, owner, created_at=NOW - lifetime)
    f.session(conn, ref.id, owner, created_at=NOW - lifetime - MINUTE, revoked_at=NOW - timedelta(days=1))
    states = sorted(s.state for s in sessions(conn, OWNER, now=NOW).items)
    # The 3-day-old session of tenant1 is the only active one; the tile counts the same.
    assert states == sorted([SessionState.Active, SessionState.Expired, SessionState.Expired, SessionState.Revoked])


def test_sessions_of_every_account_with_the_email(conn: Connection) -> None:
    ref = f.tenant(conn, name="Tenant One")
    mine = f.user(conn, ref.id, email="shared-sessions@example.com")
    f.session(conn, ref.id, mine)
    other = f.tenant(conn, name="Other Sessions Tenant")
    theirs = f.user(conn, other.id, email="shared-sessions@example.com")
    f.session(conn, other.id, theirs)
    f.session(conn, other.id, theirs, revoked_at=NOW)
    page = sessions(conn, "shared-sessions@example.com", now=NOW)
    assert page.total == 3
    assert {s.tenant_name for s in page.items} == {"Tenant One", "Other Sessions Tenant"}


def test_sessions_most_recently_active_first(conn: Connection) -> None:
    ref, owner = tenant1(conn)
    refreshed = f.session(conn, ref.id, owner, created_at=NOW - timedelta(days=5), modified_at=NOW - MINUTE)
    fresh = f.session(conn, ref.id, owner, created_at=NOW - timedelta(hours=1))
    rows = sessions(conn, OWNER, now=NOW).items
    assert [s.id for s in rows[:2]] == [refreshed, fresh]
    assert (rows[0].last_seen_at, rows[0].expires_at) == (NOW - MINUTE, NOW - timedelta(days=5) + timedelta(hours=2160))
    assert (rows[0].browser, rows[0].operating_system) == ("Safari", "macOS")
    assert sessions(conn, OWNER, now=NOW, page=PageRequest(2, 2)).items[0].last_active_at is None


@pytest.mark.parametrize(
    ("user_agent", "browser", "system"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36 OPR/109.0",
            "Opera",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36 Edg/124.0",
            "Edge",
            "Windows",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox", "Linux"),
        ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36", "Chrome", "Android"),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) Version/17.0 Safari/604.1", "Safari", "iOS"),
        ("curl/8.0", "Unknown", "Unknown"),
    ],
)
def test_user_agent_parsing(user_agent: str, browser: str, system: str) -> None:
    assert (browser_of(user_agent), operating_system_of(user_agent)) == (browser, system)
