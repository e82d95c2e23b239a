"""Typed settings, layered: defaults < environment < command-line flags."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field, replace
from typing import Any

SUPPORTED_LOCALES = ("en-US", "da-DK")
SSH_SESSION_ENV = "BACKOFFICE_SSH_SESSION"


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    # A streaming replica the console and the reports read from (None: the primary).
    read_database_url: str | None = None
    stripe_api_key: str | None = field(default=None, repr=False)
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    locale: str = "en-US"
    operator: str = ""
    # Set by the SSH server for each session's console: its admin actions are
    # recorded as coming by SSH (the role it becomes is db/engine.py's affair).
    ssh: bool = False

    @property
    def stripe_configured(self) -> bool:
        return bool(self.stripe_api_key)

    def redacted(self) -> dict[str, str | None]:
        """For display: secrets are shown only as set or unset."""
        return {
            "database_url": _redact_url(self.database_url) if self.database_url else "embedded",
            "read_database_url": _redact_url(self.read_database_url) if self.read_database_url else "primary",
            "stripe_api_key": "set" if self.stripe_api_key else "unset",
            "stripe_api_base": self.stripe_api_base or "Stripe",
            "stripe_webhook_secret": "set" if self.stripe_webhook_secret else "unset",
            "locale": self.locale,
            "operator": self.operator,
        }


def _redact_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}@{host}" if user else f"{scheme}{sep}@{host}"
    return url


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "operator"


def from_environment(env: os._Environ[str] | dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    return Settings(
        database_url=env.get("BACKOFFICE_DATABASE_URL") or None,
        read_database_url=env.get("BACKOFFICE_READ_DATABASE_URL") or None,
        stripe_api_key=env.get("STRIPE_API_KEY") or None,
        stripe_api_base=env.get("STRIPE_API_BASE") or None,
        stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
        locale=env.get("BACKOFFICE_LOCALE") or "en-US",
        operator=env.get("BACKOFFICE_OPERATOR") or _os_user(),
        ssh=env.get(SSH_SESSION_ENV) == "1",
    )


def with_flags(settings: Settings, **flags: str | None) -> Settings:
    """Flags win over the environment; a flag left unset changes nothing."""
    given: dict[str, Any] = {name: value for name, value in flags.items() if value}
    return replace(settings, **given)


def normalize_locale(value: str) -> str | None:
    """Accept `da-DK`, `da_DK`, `da-dk`; None when not shipped."""
    wanted = value.replace("_", "-").lower()
    for locale in SUPPORTED_LOCALES:
        if locale.lower() == wanted:
            return locale
    return None
