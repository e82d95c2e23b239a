"""The core's failures in the operator's language.

The core raises its errors in English for the command line (which stays
English). The console shows each known one through the catalogs
(translations/*/errors.json), matched by its class and its sentence, with
the ids the sentence names; anything else is a technical failure and shows
its first line (console/widgets/cards.py `describe_error`).
"""

from __future__ import annotations

import re

from console.i18n import t
from console.widgets.cards import describe_error
from core.errors import Forbidden, NotFound, OperatorError, StripeNotConfigured

# (class, the sentence's pattern, catalog key); the first match wins.
_KNOWN: tuple[tuple[type[OperatorError], re.Pattern[str], str], ...] = (
    (StripeNotConfigured, re.compile(""), "error.stripe_not_configured"),
    (Forbidden, re.compile(""), "error.not_admin"),
    (NotFound, re.compile(r"^user (?P<id>\S+) not found"), "error.user_not_found"),
    (
        NotFound,
        re.compile(r"subscription .*tenant '?(?P<id>\d+)'? not found", re.IGNORECASE),
        "error.subscription_not_found",
    ),
    (NotFound, re.compile(r"^tenant (?P<id>\S+) not found"), "error.tenant_not_found"),
    (OperatorError, re.compile(r"^tenant (?P<id>\d+) has no Stripe customer"), "error.no_stripe_customer"),
    (OperatorError, re.compile(r"changed during the sync"), "error.changed_during_sync"),
    (OperatorError, re.compile(r"changed during the replay"), "error.changed_during_replay"),
    (OperatorError, re.compile(r"kept changing while Stripe was read"), "error.kept_changing"),
    (OperatorError, re.compile(r"^Subscription has no drift to acknowledge"), "error.no_drift"),
    (OperatorError, re.compile(r"^No archived events"), "error.no_archived_events"),
)


def operator_message(error: BaseException) -> str:
    """One line for the operator, in the console's language when the core's
    sentence is a known one."""
    if isinstance(error, OperatorError):
        text = str(error)
        for kind, pattern, key in _KNOWN:
            match = pattern.search(text)
            if isinstance(error, kind) and match is not None:
                return t(key, **match.groupdict())
        return text
    return describe_error(error)
