"""A tenant's people: owners, admins and members, their sign-ins over the last
90 days (one-time passwords, Google, Microsoft) and their sessions.

Logins are the bulk of the demo data (about five per user), so their COPY
lines are written directly rather than through the generic encoder."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from core import ids
from db.enums import DeviceType, ExternalLoginResult, LoginMethod, LoginType, SessionRevokedReason, UserRole
from demo import words
from demo.accounts import Person, TenantProfile, email_local_part, person_name
from demo.bulk import NULL, Batch

LOGIN_WINDOW = timedelta(days=90)
SESSION_LIFETIME = timedelta(days=90)
# (name, share of confirmed users, sign-ins per day)
ACTIVITY_LEVELS = (
    ("daily", 0.26, 0.25),
    ("weekly", 0.36, 0.08),
    ("monthly", 0.22, 0.02),
    ("dormant", 0.16, 0.0),
)
# Cumulative weights, computed once (random.choices would redo it per call).
_ACTIVITY_WEIGHTS = list(accumulate(level[1] for level in ACTIVITY_LEVELS))
_AGENTS = [agent for agent, _ in words.USER_AGENTS]
_AGENT_WEIGHTS = list(accumulate(weight for _, weight in words.USER_AGENTS))
_FAILURES = [result for result, _ in words.EXTERNAL_LOGIN_FAILURES]
_FAILURE_WEIGHTS = list(accumulate(weight for _, weight in words.EXTERNAL_LOGIN_FAILURES))
_REVOKED_REASONS = (
    SessionRevokedReason.LoggedOut,
    SessionRevokedReason.Revoked,
    SessionRevokedReason.SwitchTenant,
    SessionRevokedReason.ReplayAttackDetected,
)
_REVOKED_WEIGHTS = list(accumulate((70, 15, 12, 3)))
_METHODS = (LoginMethod.OneTimePassword, LoginMethod.Google, LoginMethod.Microsoft)
_METHOD_WEIGHTS = list(accumulate((55, 33, 12)))
OTP_HASH_PREFIX = "AQAAAAIAAYagAAAAE"  # ASP.NET Identity v3 hash header, as stored one-time-password hashes start

USER_COLUMNS = (
    "tenant_id",
    "id",
    "created_at",
    "modified_at",
    "deleted_at",
    "last_seen_at",
    "email",
    "external_identities",
    "email_confirmed",
    "first_name",
    "last_name",
    "title",
    "role",
    "locale",
    "avatar",
)
SESSION_COLUMNS = (
    "tenant_id",
    "id",
    "user_id",
    "created_at",
    "modified_at",
    "refresh_token_jti",
    "previous_refresh_token_jti",
    "refresh_token_version",
    "login_method",
    "device_type",
    "user_agent",
    "ip_address",
    "revoked_at",
    "revoked_reason",
)
EMAIL_LOGIN_COLUMNS = (
    "id",
    "created_at",
    "modified_at",
    "type",
    "email",
    "one_time_password_hash",
    "retry_count",
    "resend_count",
    "completed",
)
EXTERNAL_LOGIN_COLUMNS = (
    "id",
    "created_at",
    "modified_at",
    "type",
    "provider_type",
    "email",
    "code_verifier",
    "nonce",
    "browser_fingerprint",
    "login_result",
)


def device_type(user_agent: str) -> DeviceType:
    """The device-type rule (docs/rules.md R92), so stored device types match agents."""
    agent = user_agent.lower()
    if "mobile" in agent or "iphone" in agent or ("android" in agent and "tablet" not in agent):
        return DeviceType.Mobile
    if "tablet" in agent or "ipad" in agent:
        return DeviceType.Tablet
    if "windows" in agent or "macintosh" in agent or "linux" in agent:
        return DeviceType.Desktop
    return DeviceType.Unknown


@dataclass(slots=True)
class SignIn:
    at: datetime
    method: LoginMethod
    succeeded: bool


def generate(rng: random.Random, profile: TenantProfile, now: datetime, batch: Batch) -> None:
    """Every row of one tenant's people into the batch."""
    active_until = profile.deleted_at or now
    user_count = min(400, max(1, round(rng.lognormvariate(1.8, 1.0))))
    emails: set[str] = set()
    span = (active_until - profile.created_at).total_seconds()
    for number in range(user_count):
        if number == 0:
            person, created, role = (
                profile.owner,
                profile.created_at + timedelta(seconds=rng.uniform(1, 5)),
                UserRole.Owner,
            )
        else:
            person = _colleague(rng, profile)
            created = profile.created_at + timedelta(seconds=span * rng.random() ** 1.6 + 60)
            if created >= active_until:
                continue
            role = (
                UserRole.Owner if rng.random() < 0.04 else (UserRole.Admin if rng.random() < 0.13 else UserRole.Member)
            )
        email = person.email
        while email in emails:
            local, domain = person.email.split("@")
            email = f"{local}{rng.randrange(2, 99)}@{domain}"
        emails.add(email)
        _user(rng, profile, now, batch, email, person, created, role, first=number == 0)


def _colleague(rng: random.Random, profile: TenantProfile) -> Person:
    first, last = person_name(rng, profile.country)
    local = email_local_part(first, last, rng.choices((0, 1, 2, 3), cum_weights=(70, 80, 95, 100))[0])
    return Person(first, last, f"{local}@{profile.domain}")


def _user(
    rng: random.Random,
    profile: TenantProfile,
    now: datetime,
    batch: Batch,
    email: str,
    person: Person,
    created: datetime,
    role: UserRole,
    *,
    first: bool,
) -> None:
    active_until = profile.deleted_at or now
    deleted_at = None
    if not first and rng.random() < 0.03:
        deleted_at = created + (active_until - created) * rng.uniform(0.2, 1.0)
        active_until = deleted_at
    recently_invited = now - created < timedelta(days=30)
    confirmed = first or rng.random() >= (0.25 if recently_invited else 0.05)
    user_id = ids.prefixed("usr", created, rng)
    method = rng.choices(_METHODS, cum_weights=_METHOD_WEIGHTS)[0]
    agent = rng.choices(_AGENTS, cum_weights=_AGENT_WEIGHTS)[0]
    address = _ip_address(rng)
    fingerprint = hashlib.sha256(f"{agent}|{address}|{user_id}".encode()).hexdigest()

    sign_ins = _sign_ins(rng, now, created, active_until, method) if confirmed else []
    last_seen = None
    if confirmed:
        successes = [s.at for s in sign_ins if s.succeeded]
        last_seen = successes[-1] if successes else _dormant_last_seen(rng, now, created, active_until)
    _write_sign_ins(rng, batch, email, sign_ins, fingerprint, first=first, created=created, now=now)
    if not confirmed and rng.random() < 0.3 and now - created < LOGIN_WINDOW:
        _pending_invite_attempt(rng, batch, email, created, active_until)

    last_seen = _sessions(rng, profile, batch, user_id, sign_ins, agent, address, now, deleted_at, last_seen)
    providers = {attempt.method for attempt in sign_ins if attempt.succeeded}
    if confirmed:
        providers.add(method)
    identities = [
        {
            "Provider": provider.value,
            "ProviderUserId": str(rng.randrange(10**20, 10**21))
            if provider is LoginMethod.Google
            else ids.ulid(created, rng).lower(),
        }
        for provider in (LoginMethod.Google, LoginMethod.Microsoft)
        if provider in providers
    ]
    batch.add_row(
        "users",
        (
            profile.id,
            user_id,
            created,
            last_seen,
            deleted_at,
            last_seen,
            email,
            identities,
            confirmed,
            person.first_name if confirmed or rng.random() < 0.5 else None,
            person.last_name if confirmed or rng.random() < 0.5 else None,
            rng.choice(words.JOB_TITLES) if rng.random() < 0.6 else None,
            role.value,
            _locale(rng, profile) if confirmed else "",
            _avatar(rng, email, user_id),
        ),
    )


def _sign_ins(
    rng: random.Random, now: datetime, created: datetime, active_until: datetime, method: LoginMethod
) -> list[SignIn]:
    """Sign-in attempts in the login window: working hours, fewer at weekends;
    the first sign-in of a user created inside the window always succeeds."""
    window_start = max(created, now - LOGIN_WINDOW)
    if window_start >= active_until:
        return []
    _, _, rate = rng.choices(ACTIVITY_LEVELS, cum_weights=_ACTIVITY_WEIGHTS)[0]
    attempts: list[SignIn] = []
    if created >= now - LOGIN_WINDOW:
        attempts.append(SignIn(created + timedelta(seconds=rng.uniform(20, 400)), method, True))
    if rate > 0:
        moment = window_start
        while True:
            moment += timedelta(days=rng.expovariate(rate))
            if moment >= active_until:
                break
            if moment.weekday() >= 5 and rng.random() < 0.7:
                continue
            at = _working_hours(rng, moment)
            if at <= window_start or at >= active_until:
                continue
            chosen = method if rng.random() < 0.9 else rng.choices(_METHODS, cum_weights=_METHOD_WEIGHTS)[0]
            succeeded = rng.random() >= 0.09
            attempts.append(SignIn(at, chosen, succeeded))
            if not succeeded and rng.random() < 0.6:
                retry = at + timedelta(seconds=rng.uniform(40, 400))
                if retry < active_until:
                    attempts.append(SignIn(retry, chosen, True))
    attempts.sort(key=lambda attempt: attempt.at)
    return attempts


def _working_hours(rng: random.Random, moment: datetime) -> datetime:
    hour = min(22.9, max(5.0, rng.gauss(10.5, 3.2)))  # UTC, a Copenhagen working day
    return moment.replace(
        hour=int(hour), minute=int((hour % 1) * 60), second=rng.randrange(60), microsecond=rng.randrange(1_000_000)
    )


def _dormant_last_seen(rng: random.Random, now: datetime, created: datetime, active_until: datetime) -> datetime:
    """Last seen before the login window (logins older than 90 days are gone)."""
    latest = min(active_until, now - LOGIN_WINDOW)
    if latest <= created:
        return created + timedelta(minutes=rng.uniform(1, 10))
    return created + (latest - created) * rng.uniform(0.1, 1.0)


def _write_sign_ins(
    rng: random.Random,
    batch: Batch,
    email: str,
    sign_ins: list[SignIn],
    fingerprint: str,
    *,
    first: bool,
    created: datetime,
    now: datetime,
) -> None:
    email_lines = batch.lines["email_logins"]
    external_lines = batch.lines["external_logins"]
    signup_at = created + timedelta(minutes=10)
    for attempt in sign_ins:
        kind = LoginType.Signup if first and attempt.at <= signup_at else LoginType.Login
        at = attempt.at
        if attempt.method is LoginMethod.OneTimePassword:
            resend = 1 if rng.random() < 0.08 else 0
            if attempt.succeeded:
                retries, completed = (1 if rng.random() < 0.1 else 0), "t"
            elif rng.random() < 0.55:
                retries, completed = 3, "f"  # too many wrong codes
            else:
                retries, completed = rng.randrange(0, 3), "f"  # abandoned: still pending
            finished = min(now, at + timedelta(seconds=rng.uniform(15, 240)))
            modified = finished.isoformat() if completed == "t" or retries else NULL
            otp_hash = OTP_HASH_PREFIX + base64.b64encode(rng.randbytes(45)).decode()
            email_lines.append(
                f"{ids.prefixed('emlog', at, rng)}\t{at.isoformat()}\t{modified}\t{kind.value}\t{email}\t"
                f"{otp_hash}\t{retries}\t{resend}\t{completed}\n"
            )
        else:
            if attempt.succeeded:
                result, login_email = ExternalLoginResult.Success.value, email
            elif rng.random() < 0.2:
                result, login_email = None, None  # the user never came back from the provider
            else:
                result, login_email = rng.choices(_FAILURES, cum_weights=_FAILURE_WEIGHTS)[0], None
            modified = NULL if result is None else min(now, at + timedelta(seconds=rng.uniform(4, 60))).isoformat()
            verifier = base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")
            nonce = base64.urlsafe_b64encode(rng.randbytes(16)).decode().rstrip("=")
            external_lines.append(
                f"{ids.prefixed('exlog', at, rng)}\t{at.isoformat()}\t{modified}\t{kind.value}\t{attempt.method.value}\t"
                f"{login_email or NULL}\t{verifier}\t{nonce}\t{fingerprint}\t{result or NULL}\n"
            )


def _pending_invite_attempt(rng: random.Random, batch: Batch, email: str, created: datetime, until: datetime) -> None:
    """An invited user who asked for a code and never entered it."""
    at = created + (until - created) * rng.uniform(0.05, 0.9)
    otp_hash = OTP_HASH_PREFIX + base64.b64encode(rng.randbytes(45)).decode()
    batch.add(
        "email_logins",
        f"{ids.prefixed('emlog', at, rng)}\t{at.isoformat()}\t{NULL}\tLogin\t{email}\t{otp_hash}\t0\t0\tf\n",
    )


def _sessions(
    rng: random.Random,
    profile: TenantProfile,
    batch: Batch,
    user_id: str,
    sign_ins: list[SignIn],
    agent: str,
    address: str,
    now: datetime,
    deleted_at: datetime | None,
    last_seen: datetime | None,
) -> datetime | None:
    """Sessions of the latest successful sign-ins (older ones expired and were
    cleaned up); returns last_seen_at moved to the latest token refresh."""
    successes = [attempt for attempt in sign_ins if attempt.succeeded]
    if not successes:
        return last_seen
    rate_share = min(1.0, len(successes) / 8)
    keep = 1 if rng.random() < 0.25 + 0.55 * rate_share else 0
    if keep and len(successes) > 1 and rng.random() < 0.2 * rate_share:
        keep = 2
    ends = deleted_at or profile.deleted_at or now
    for number, attempt in enumerate(reversed(successes[-keep:] if keep else [])):
        started = attempt.at + timedelta(seconds=rng.uniform(1, 4))
        if started >= ends - timedelta(seconds=2):
            continue
        session_agent = agent if number == 0 else rng.choice(_AGENTS[7:10])  # a second device: the phone
        active_for = timedelta(hours=min(24 * 20, rng.expovariate(1 / 30)))
        last_refresh = max(started, min(started + active_for, ends - timedelta(seconds=rng.uniform(1, 300))))
        version = 1 + int((last_refresh - started).total_seconds() // 900)
        modified = last_refresh if version > 1 else None
        revoked_at, reason = None, None
        if deleted_at is not None:
            revoked_at, reason = deleted_at, SessionRevokedReason.Revoked
        elif number > 0 or rng.random() < (0.45 if now - started > timedelta(days=7) else 0.12):
            revoked_at = min(ends - timedelta(seconds=1), last_refresh + timedelta(minutes=rng.uniform(1, 600)))
            reason = rng.choices(_REVOKED_REASONS, cum_weights=_REVOKED_WEIGHTS)[0]
        batch.add_row(
            "sessions",
            (
                profile.id,
                ids.prefixed("sess", started, rng),
                user_id,
                started,
                modified,
                ids.prefixed("jti", last_refresh, rng),
                ids.prefixed("jti", last_refresh, rng) if version > 1 else None,
                min(version, 5000),
                attempt.method.value,
                device_type(session_agent).value,
                session_agent,
                address if number == 0 else _ip_address(rng),
                revoked_at,
                reason.value if reason else None,
            ),
        )
        seen = modified or started
        if last_seen is None or seen > last_seen:
            last_seen = seen
    return last_seen


def _ip_address(rng: random.Random) -> str:
    if rng.random() < 0.06:
        return f"{words.IPV6_PREFIX}{rng.randrange(0x10000):x}::{rng.randrange(1, 0x10000):x}"
    return f"{rng.choice(words.IP_PREFIXES)}{rng.randrange(1, 255)}"


def _locale(rng: random.Random, profile: TenantProfile) -> str:
    if profile.country.code == "DK":
        return rng.choices(("da-DK", "en-US", ""), cum_weights=(70, 92, 100))[0]
    return rng.choices(("en-US", "", "da-DK"), cum_weights=(75, 97, 100))[0]


def _avatar(rng: random.Random, email: str, user_id: str) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.15:
        digest = hashlib.md5(email.encode()).hexdigest()
        return {"Url": f"https://gravatar.com/avatar/{digest}", "Version": 1, "IsGravatar": True}
    if roll < 0.25:
        version = rng.randrange(1, 4)
        return {
            "Url": f"https://cdn.backoffice.example/avatars/{user_id.lower()}/{version}.jpg",
            "Version": version,
            "IsGravatar": False,
        }
    return {"Url": None, "Version": 0, "IsGravatar": False}
